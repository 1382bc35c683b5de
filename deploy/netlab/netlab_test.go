package netlab

import (
	"context"
	"io"
	"net"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// listen opens a UDP echo and a TCP sink/source in the server's namespace.
func serverSockets(t *testing.T, l *Lab) (udp net.PacketConn, tcp net.Listener) {
	t.Helper()
	err := l.Do(Server, func() (err error) {
		if udp, err = net.ListenPacket("udp4", "10.77.1.2:7000"); err != nil {
			return err
		}
		tcp, err = net.Listen("tcp4", "10.77.1.2:7001")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { udp.Close(); tcp.Close() })
	return udp, tcp
}

// echo answers each datagram with the address it came from.
func echo(c net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		_ = n
		_, _ = c.WriteTo([]byte(from.String()), from)
	}
}

func pupilUDP(t *testing.T, l *Lab) net.Conn {
	t.Helper()
	var c net.Conn
	if err := l.Do(Pupil, func() (err error) { c, err = net.Dial("udp4", "10.77.1.2:7000"); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rtt sends one probe and returns its round trip and the source address
// the server saw ("" if lost within wait).
func rtt(c net.Conn, wait time.Duration) (time.Duration, string) {
	start := time.Now()
	if _, err := c.Write([]byte("probe")); err != nil {
		return 0, ""
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 128)
	n, err := c.Read(buf)
	if err != nil {
		return 0, ""
	}
	return time.Since(start), string(buf[:n])
}

func TestLab(t *testing.T) {
	l := Require(t)
	udp, tcp := serverSockets(t, l)
	go echo(udp)
	go func() {
		for {
			c, err := tcp.Accept()
			if err != nil {
				return
			}
			go func() { // a download: as much as the line carries for 3 s
				defer c.Close()
				buf := make([]byte, 16384)
				end := time.Now().Add(3 * time.Second)
				for time.Now().Before(end) {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	c := pupilUDP(t, l)
	median := func(n int) (time.Duration, int) {
		var ds []time.Duration
		lost := 0
		for i := 0; i < n; i++ {
			d, from := rtt(c, time.Second)
			if from == "" {
				lost++
				continue
			}
			ds = append(ds, d)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		if len(ds) == 0 {
			return 0, lost
		}
		return ds[len(ds)/2], lost
	}

	t.Run("through the NAT", func(t *testing.T) {
		_, from := rtt(c, 2*time.Second)
		if !strings.HasPrefix(from, "10.77.3.2:") {
			t.Fatalf("the server saw %q, want the NAT's WAN address 10.77.3.2", from)
		}
		if d, _ := median(10); d > 20*time.Millisecond {
			t.Fatalf("clean line RTT %s", d)
		}
	})
	t.Run("delay", func(t *testing.T) {
		l.SetDelay(75 * time.Millisecond)
		defer l.SetDelay(0)
		d, _ := median(15)
		if d < 150*time.Millisecond || d > 190*time.Millisecond {
			t.Fatalf("RTT %s with 75 ms each way, want 150-190 ms", d)
		}
		if got := l.Impairments(); got != "+150ms RTT" {
			t.Errorf("Impairments() = %q", got)
		}
	})
	t.Run("loss", func(t *testing.T) {
		l.SetLoss(5)
		defer l.SetLoss(0)
		// Both ways: a probe survives with 0.95² ≈ 90 %. Probes go out
		// every 2 ms; echoes are counted until 1 s after the last.
		const n = 2000
		got := make(chan int)
		go func() {
			seen := 0
			buf := make([]byte, 128)
			for {
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := c.Read(buf); err != nil {
					got <- seen
					return
				}
				seen++
			}
		}()
		for i := 0; i < n; i++ {
			_, _ = c.Write([]byte("probe"))
			time.Sleep(2 * time.Millisecond)
		}
		lost := n - <-got
		if rate := float64(lost) / n; rate < 0.05 || rate > 0.15 {
			t.Fatalf("round-trip loss %.1f%% with 5%% each way, want about 10%%", 100*rate)
		}
	})
	download := func() float64 {
		var conn net.Conn
		if err := l.Do(Pupil, func() (err error) { conn, err = net.Dial("tcp4", "10.77.1.2:7001"); return err }); err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		n, _ := io.Copy(io.Discard, conn)
		return float64(n*8) / time.Since(start).Seconds() / 1000
	}
	t.Run("downlink cap", func(t *testing.T) {
		if err := l.SetDownlinkRate(context.Background(), 600); err != nil {
			t.Fatal(err)
		}
		got := download()
		if err := l.SetDownlinkRate(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if got < 400 || got > 700 {
			t.Fatalf("download %.0f kbit/s under a 600 kbit/s cap", got)
		}
		if free := download(); free < 5000 {
			t.Fatalf("download %.0f kbit/s after the cap was lifted", free)
		}
	})
	t.Run("UDP blocked, TCP passes", func(t *testing.T) {
		l.BlockUDP(true)
		if _, from := rtt(c, 500*time.Millisecond); from != "" {
			t.Fatal("UDP passed a UDP block")
		}
		var conn net.Conn
		if err := l.Do(Pupil, func() (err error) { conn, err = net.DialTimeout("tcp4", "10.77.1.2:7001", 2*time.Second); return err }); err != nil {
			t.Fatalf("TCP under a UDP block: %v", err)
		}
		conn.Close()
		l.Firewall(443)
		if err := l.Do(Pupil, func() (err error) {
			conn, err = net.DialTimeout("tcp4", "10.77.1.2:7001", 500*time.Millisecond)
			return err
		}); err == nil {
			conn.Close()
			t.Fatal("TCP to port 7001 passed a firewall open only to 443")
		}
		l.Firewall()
		l.BlockUDP(false)
		if _, from := rtt(c, time.Second); from == "" {
			t.Fatal("UDP did not pass after the block was lifted")
		}
	})
	t.Run("outage", func(t *testing.T) {
		l.Outage(true)
		if _, from := rtt(c, 500*time.Millisecond); from != "" {
			t.Fatal("a packet crossed an outage")
		}
		l.Outage(false)
		if _, from := rtt(c, time.Second); from == "" {
			t.Fatal("no packet within 1 s of the outage's end")
		}
	})
	t.Run("renumber", func(t *testing.T) {
		pupil, wan, err := l.Renumber(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if l.Addr(Pupil) != pupil || l.Addr(NAT) != wan || pupil.String() == "192.168.77.2" {
			t.Fatalf("addresses %s %s", l.Addr(Pupil), l.Addr(NAT))
		}
		c2 := pupilUDP(t, l)
		_, from := rtt(c2, 2*time.Second)
		if !strings.HasPrefix(from, wan.String()+":") {
			t.Fatalf("after renumbering the server saw %q, want %s", from, wan)
		}
	})
}

func TestCloseRemovesEverything(t *testing.T) {
	l := Require(t)
	prefix := l.prefix
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), prefix) {
		t.Fatalf("namespaces left after Close:\n%s", out)
	}
}
