package netlab

import (
	"context"
	"os"
	"testing"
	"time"
)

// underCI says whether the CI environment variable asks for CI behaviour
// (CI=true, as CI runs the tests; "false" and "0" do not).
func underCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Require builds a lab for a test and removes it when the test ends. When
// this machine cannot build one (Available says why: not root, no
// /dev/net/tun, no nft, ...) it skips the test with that reason, except
// under CI=true, where it fails the test: CI runs as root with the tools
// installed, so a skip there would hide a missing component. A lab that
// cannot be built fails the test.
func Require(t testing.TB) *Lab {
	t.Helper()
	if err := Available(); err != nil {
		if underCI() {
			t.Fatalf("%v (CI=true: a missing component fails, never skips)", err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := New(ctx, "slab")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("closing the lab: %v", err)
		}
	})
	return l
}
