// Package udpbuf sizes a UDP socket's kernel buffers: the SFU's one media
// socket and each device's ICE sockets ask for more than Linux's 208 KiB
// default, which holds only milliseconds of a busy server's media.
package udpbuf

import (
	"net"
	"runtime"
	"syscall"
)

// Grow asks the kernel for receive bytes of receive buffer and, if send
// is above 0, send bytes of send buffer, and returns what it gave. The
// kernel caps each at net.core.rmem_max and wmem_max; asking is best
// effort, so the answer is what matters.
func Grow(c *net.UDPConn, receive, send int) (gotReceive, gotSend int) {
	_ = c.SetReadBuffer(receive)
	if send > 0 {
		_ = c.SetWriteBuffer(send)
	}
	return Sizes(c)
}

// Sizes reads a socket's receive and send buffer sizes, as usable bytes
// (Linux reports twice what was set, counting its own bookkeeping).
func Sizes(c *net.UDPConn) (receive, send int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0
	}
	_ = rc.Control(func(fd uintptr) {
		receive, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		send, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	})
	if runtime.GOOS == "linux" {
		receive, send = receive/2, send/2
	}
	return receive, send
}
