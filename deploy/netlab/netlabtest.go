package netlab

import (
	"context"
	"os"
	"testing"
	"time"
)

// Require builds a lab for a test, or skips the test saying why it cannot
// run here; under CI=true it fails instead, because CI runs as root and a
// skipped network test there would hide a missing component.
func Require(t testing.TB) *Lab {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI does not skip", err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}
