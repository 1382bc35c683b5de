package udpbuf

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// caps reads net.core.rmem_max and wmem_max, the kernel's caps, or skips
// the test where there are none to read.
func caps(t *testing.T) (rmem, wmem int) {
	t.Helper()
	read := func(name string) int {
		b, err := os.ReadFile("/proc/sys/net/core/" + name)
		if err != nil {
			t.Skip("no /proc/sys/net/core here (not Linux)")
		}
		v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return v
	}
	return read("rmem_max"), read("wmem_max")
}

func TestGrowGetsWhatTheKernelAllows(t *testing.T) {
	rmem, wmem := caps(t)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r0, s0 := Sizes(c)
	if r0 <= 0 || s0 <= 0 {
		t.Fatalf("default sizes %d, %d", r0, s0)
	}
	const want = 4 << 20
	r, s := Grow(c, want, want)
	if r != min(want, rmem) || s != min(want, wmem) {
		t.Errorf("got %d receive, %d send; want %d and %d (caps %d, %d)", r, s, min(want, rmem), min(want, wmem), rmem, wmem)
	}
	if r2, s2 := Sizes(c); r2 != r || s2 != s {
		t.Errorf("Sizes says %d, %d after Grow said %d, %d", r2, s2, r, s)
	}
	// send 0 leaves the send buffer alone.
	c2, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer c2.Close()
	_, before := Sizes(c2)
	if _, after := Grow(c2, 1<<20, 0); after != before {
		t.Errorf("send buffer changed from %d to %d", before, after)
	}
}
