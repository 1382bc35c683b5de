package media

import (
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is the media socket as Pion's ICE UDP mux reads it: one
// recvmmsg(2) takes every datagram already queued on the socket (up to
// batchSize), and the mux's next reads are served from that batch. When
// the mux's reader keeps up, that is one syscall per packet as before;
// when it falls behind (a busy machine, exactly when CPU is short), one
// syscall and one wake-up carry many packets. Writes go straight to the
// socket.
type batchConn struct {
	*net.UDPConn
	readBatch func([]ipv4.Message, int) (int, error)

	mu      sync.Mutex // one reader at a time (the mux has one)
	msgs    []ipv4.Message
	next, n int
}

const (
	batchSize = 32
	// batchBuf matches the ICE mux's own read buffer, so nothing it
	// would have read whole is cut short here.
	batchBuf = 8192
)

func newBatchConn(c *net.UDPConn) *batchConn {
	b := &batchConn{UDPConn: c, msgs: make([]ipv4.Message, batchSize)}
	for i := range b.msgs {
		b.msgs[i].Buffers = [][]byte{make([]byte, batchBuf)}
	}
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		b.readBatch = ipv6.NewPacketConn(c).ReadBatch // ipv6.Message is the same type
	} else {
		b.readBatch = ipv4.NewPacketConn(c).ReadBatch
	}
	return b
}

// ReadFromAddrPort returns the next datagram, reading a new batch when the
// last one is used up. Pion's mux uses this (ice.AddrPortReaderWriter).
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.next >= b.n {
		n, err := b.readBatch(b.msgs, 0)
		if err != nil {
			return 0, netip.AddrPort{}, err
		}
		b.next, b.n = 0, n
	}
	m := &b.msgs[b.next]
	b.next++
	ua, _ := m.Addr.(*net.UDPAddr)
	if ua == nil {
		return 0, netip.AddrPort{}, net.InvalidAddrError("no UDP source address")
	}
	return copy(p, m.Buffers[0][:m.N]), ua.AddrPort(), nil
}

// WriteToAddrPort writes one datagram.
func (b *batchConn) WriteToAddrPort(p []byte, a netip.AddrPort) (int, error) {
	return b.UDPConn.WriteToUDPAddrPort(p, a)
}

// ReadFrom reads through the batch too, so no caller can skip past it.
func (b *batchConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := b.ReadFromAddrPort(p)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(a), nil
}
