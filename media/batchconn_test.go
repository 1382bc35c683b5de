package media

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// Datagrams queued from several senders all come out of the batching
// reader, whole, in order per sender, with their source addresses; a
// closed socket ends the reads with an error.
func TestBatchConnReadsEveryQueuedDatagram(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			laddr := "127.0.0.1:0"
			if network == "udp6" {
				laddr = "[::1]:0"
			}
			c, err := net.ListenPacket(network, laddr)
			if err != nil {
				t.Skipf("no %s loopback here: %v", network, err)
			}
			b := newBatchConn(c.(*net.UDPConn))
			const senders, each = 3, 50 // more than one batch
			want := map[netip.AddrPort]int{}
			for s := 0; s < senders; s++ {
				tx, err := net.DialUDP(network, nil, c.LocalAddr().(*net.UDPAddr))
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Close()
				want[tx.LocalAddr().(*net.UDPAddr).AddrPort()] = 0
				for i := 0; i < each; i++ {
					msg := fmt.Appendf(nil, "%d:%04d:", s, i)
					if i == 7 {
						msg = append(msg, make([]byte, 1400)...) // a full-size one
					}
					if _, err := tx.Write(msg); err != nil {
						t.Fatal(err)
					}
				}
			}
			_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 2000)
			for got := 0; got < senders*each; got++ {
				n, from, err := b.ReadFromAddrPort(buf)
				if err != nil {
					t.Fatalf("after %d datagrams: %v", got, err)
				}
				next, ok := want[from]
				if !ok {
					t.Fatalf("datagram from unknown %s", from)
				}
				var s, i int
				if _, err := fmt.Sscanf(string(buf[:n]), "%d:%04d:", &s, &i); err != nil || i != next {
					t.Fatalf("from %s: %q, want datagram %d", from, buf[:min(n, 16)], next)
				}
				if (i == 7) != (n > 1400) {
					t.Fatalf("datagram %d is %d bytes", i, n)
				}
				want[from] = next + 1
			}
			// net.PacketConn's ReadFrom goes through the same batch.
			tx, _ := net.DialUDP(network, nil, c.LocalAddr().(*net.UDPAddr))
			defer tx.Close()
			_, _ = tx.Write([]byte("last"))
			if n, a, err := b.ReadFrom(buf); err != nil || string(buf[:n]) != "last" || a.(*net.UDPAddr).Port != tx.LocalAddr().(*net.UDPAddr).Port {
				t.Fatalf("ReadFrom: %q from %v, %v", buf[:n], a, err)
			}
			b.Close()
			if _, _, err := b.ReadFromAddrPort(buf); err == nil {
				t.Fatal("read from a closed socket succeeded")
			}
		})
	}
}
