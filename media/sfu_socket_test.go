package media

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"seatlink/internal/udpbuf"
)

// The SFU's one media socket asks the kernel for socketBuffer bytes each
// way (it gets at most net.core.rmem_max), not the 208 KiB default.
func TestSFUMediaSocketBuffers(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skip("not Linux")
	}
	rmemMax, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	s, err := New(Config{UDPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := udpbuf.Sizes(s.udpConn.(*net.UDPConn)); got < min(socketBuffer, rmemMax) {
		t.Fatalf("receive buffer %d bytes, want at least %d (rmem_max %d)", got, min(socketBuffer, rmemMax), rmemMax)
	}
}
