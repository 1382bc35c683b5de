package agent

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pion/transport/v5/stdnet"
)

// The agent's ICE sockets ask for a 1 MiB receive buffer (where the
// kernel allows one), not Linux's 208 KiB default.
func TestAgentSocketsHaveRoomyReceiveBuffers(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skip("not Linux")
	}
	rmemMax, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	c, err := bufferedNet{n}.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	_ = rc.Control(func(fd uintptr) { got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
	want := min(agentSocketBuffer, rmemMax) * 2 // Linux reports double what was set
	if got < want {
		t.Fatalf("receive buffer %d bytes, want at least %d (rmem_max %d)", got, want, rmemMax)
	}
}
