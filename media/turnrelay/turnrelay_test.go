package turnrelay

import (
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

func startTest(t *testing.T, now func() time.Time) (*Server, *Minter) {
	t.Helper()
	secret := []byte("0123456789abcdef-test-secret")
	s, err := Start(Config{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1),
		PortMin: 40000, PortMax: 40999, Secret: secret, Now: now, MaxAllocationsPerPeer: 2,
		AllowPeer: func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, &Minter{Secret: secret, TTL: 10 * time.Minute, URLs: []string{"turn:127.0.0.1:3478"}, Now: now}
}

// allocate opens a relay over UDP with user/pass, or returns the error.
func allocate(t *testing.T, s *Server, user, pass string) (net.PacketConn, *turn.Client, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: s.UDPAddr().String(), STUNServerAddr: s.UDPAddr().String(),
		Conn: conn, Username: user, Password: pass, Realm: "seatlink", RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	relay, err := c.Allocate()
	return relay, c, err
}

func TestCredentialOpensARelayUntilItExpires(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	s, m := startTest(t, now)

	ice := m.Mint("peer-1")
	if want := strconv.FormatInt(now().Add(10*time.Minute).Unix(), 10) + ":peer-1"; ice.Username != want {
		t.Fatalf("username %q: want EXPIRY:PEER with expiry = now + TTL", ice.Username)
	}
	relay, _, err := allocate(t, s, ice.Username, ice.Credential.(string))
	if err != nil {
		t.Fatalf("a fresh credential did not allocate: %v", err)
	}

	// The relay carries media to the media server's address…
	sfu, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sfu.Close()
	if _, err := relay.WriteTo([]byte("rtp"), sfu.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = sfu.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 64)
	n, from, err := sfu.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "rtp" {
		t.Fatalf("relay did not deliver: %q %v", buf[:n], err)
	}
	if from.String() != relay.LocalAddr().String() {
		t.Fatalf("media came from %s, want the relay address %s", from, relay.LocalAddr())
	}

	// …and, past the expiry, the same credential opens nothing new.
	clock.Add(int64((10*time.Minute + time.Second) / time.Second))
	if _, _, err := allocate(t, s, ice.Username, ice.Credential.(string)); err == nil {
		t.Fatal("an expired credential allocated a relay")
	}
	// A credential with a forged expiry (the HMAC covers it) is refused.
	forged := "9999999999:peer-1"
	if _, _, err := allocate(t, s, forged, ice.Credential.(string)); err == nil {
		t.Fatal("a forged username allocated a relay")
	}
	for _, bad := range []string{"peer-1", "x:peer-1", ""} {
		if _, _, err := allocate(t, s, bad, "whatever"); err == nil {
			t.Fatalf("username %q allocated", bad)
		}
	}
}

func TestRelayOnlyToTheMediaServer(t *testing.T) {
	s, m := startTest(t, time.Now)
	ice := m.Mint("peer-2")
	relay, _, err := allocate(t, s, ice.Username, ice.Credential.(string))
	if err != nil {
		t.Fatal(err)
	}
	// 127.0.0.2 stands for any other host on the school's network.
	other, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Skip("127.0.0.2 not available:", err)
	}
	defer other.Close()
	_, _ = relay.WriteTo([]byte("probe"), other.LocalAddr())
	_ = other.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	if n, _, err := other.ReadFrom(make([]byte, 64)); err == nil {
		t.Fatalf("the relay forwarded %d bytes to a host that is not the media server", n)
	}
}

func TestAllocationsPerCredentialAreBounded(t *testing.T) {
	s, m := startTest(t, time.Now)
	ice := m.Mint("peer-3")
	for i := 0; i < 2; i++ {
		if _, _, err := allocate(t, s, ice.Username, ice.Credential.(string)); err != nil {
			t.Fatalf("allocation %d: %v", i+1, err)
		}
	}
	if _, _, err := allocate(t, s, ice.Username, ice.Credential.(string)); err == nil {
		t.Fatal("a third allocation on one credential was allowed (quota 2)")
	}
	if got := s.Allocations(); got != 2 {
		t.Fatalf("allocations = %d, want 2", got)
	}
}
