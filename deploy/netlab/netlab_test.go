package netlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Every probe below goes between the lab's own namespaces: sockets are
// opened inside them with Do, never in the test's own namespace.

// echoServer runs in the server's namespace: a UDP echo that answers
// "SEQ" with "SEQ FROM" and remembers the sequence numbers it saw, and a
// TCP server whose first line picks a mode (echo, source or sink).
type echoServer struct {
	udp, tcp string // addresses inside the lab

	mu   sync.Mutex
	seen map[int]bool
}

func startServer(t *testing.T, l *Lab) *echoServer {
	t.Helper()
	s := &echoServer{seen: map[int]bool{}}
	var pc net.PacketConn
	var ln net.Listener
	err := l.Do(Server, func() (err error) {
		if pc, err = net.ListenPacket("udp4", l.Addr(Server).String()+":0"); err != nil {
			return err
		}
		ln, err = net.Listen("tcp4", l.Addr(Server).String()+":0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.udp, s.tcp = pc.LocalAddr().String(), ln.Addr().String()
	// A deep socket buffer, so a busy machine's stalls are not counted as
	// the line's loss.
	if raw, err := pc.(*net.UDPConn).SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 4<<20)
		})
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { pc.Close(); ln.Close(); wg.Wait() })
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if seq, err := strconv.Atoi(string(buf[:n])); err == nil {
				s.mu.Lock()
				s.seen[seq] = true
				s.mu.Unlock()
			}
			_, _ = pc.WriteTo([]byte(string(buf[:n])+" "+from.String()), from)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second)) // bounds every mode
				r := bufio.NewReader(c)
				mode, err := r.ReadString('\n')
				if err != nil {
					return
				}
				switch strings.TrimSpace(mode) {
				case "echo": // who is calling, then echo
					fmt.Fprintf(c, "%s\n", c.RemoteAddr())
					_, _ = io.Copy(c, r)
				case "source": // as much as the line carries
					buf := make([]byte, 16384)
					for {
						if _, err := c.Write(buf); err != nil {
							return
						}
					}
				case "sink": // bytes received in the 1 s after the first
					if _, err := r.ReadByte(); err != nil {
						return
					}
					_ = c.SetReadDeadline(time.Now().Add(time.Second))
					n, _ := io.Copy(io.Discard, r)
					_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
					fmt.Fprintf(c, "%d\n", n)
				}
			}()
		}
	}()
	return s
}

func (s *echoServer) received(seqs []int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range seqs {
		if s.seen[q] {
			n++
		}
	}
	return n
}

// dial connects from inside a role's namespace.
func dial(l *Lab, role, network, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := l.Do(role, func() (err error) { c, err = net.DialTimeout(network, addr, timeout); return err })
	return c, err
}

func mustDial(t *testing.T, l *Lab, role, network, addr string) net.Conn {
	t.Helper()
	c, err := dial(l, role, network, addr, 2*time.Second)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", network, addr, role, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var seqs atomic.Int64

// probe sends one numbered datagram on a connected UDP socket and waits
// for its own echo (late echoes of earlier probes are skipped). It
// returns the round trip and the address the server saw.
func probe(c net.Conn, wait time.Duration) (time.Duration, string, bool) {
	seq := strconv.FormatInt(seqs.Add(1), 10)
	start := time.Now()
	if _, err := c.Write([]byte(seq)); err != nil {
		return 0, "", false
	}
	_ = c.SetReadDeadline(start.Add(wait))
	buf := make([]byte, 256)
	for range 1000 {
		n, err := c.Read(buf)
		if err != nil {
			return 0, "", false
		}
		if got, from, _ := strings.Cut(string(buf[:n]), " "); got == seq {
			return time.Since(start), from, true
		}
	}
	return 0, "", false
}

// medianRTT probes n times and returns the sorted round trips of the
// echoes that came back.
func rtts(c net.Conn, n int, wait time.Duration) []time.Duration {
	var ds []time.Duration
	for range n {
		if d, _, ok := probe(c, wait); ok {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	return ds
}

// udpPasses says whether any of tries probes comes back.
func udpPasses(c net.Conn, tries int, wait time.Duration) bool {
	for range tries {
		if _, _, ok := probe(c, wait); ok {
			return true
		}
	}
	return false
}

// tcpHello connects from role to the server's TCP echo and returns the
// address the server saw, after one line has gone there and back.
func tcpHello(l *Lab, role string, s *echoServer, timeout time.Duration) (string, error) {
	c, err := dial(l, role, "tcp4", s.tcp, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, "echo\nhello\n"); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	from, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if line, err := r.ReadString('\n'); err != nil || line != "hello\n" {
		return "", fmt.Errorf("echo %q, %v", line, err)
	}
	return strings.TrimSpace(from), nil
}

func host(addrport string) string {
	h, _, _ := net.SplitHostPort(addrport)
	return h
}

// download measures what the pupil receives from the server's TCP source,
// in kbit/s of payload, over window after warm (slow start, tbf's burst).
func download(t *testing.T, l *Lab, s *echoServer, warm, window time.Duration) float64 {
	t.Helper()
	c, err := dial(l, Pupil, "tcp4", s.tcp, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "source\n"); err != nil {
		t.Fatal(err)
	}
	// Slow start and tbf's first burst pass during warm; then count.
	buf := make([]byte, 65536)
	_ = c.SetReadDeadline(time.Now().Add(warm))
	for range 10_000_000 {
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(window))
	var n int64
	for range 10_000_000 {
		k, err := c.Read(buf)
		n += int64(k)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("download: %v", err)
			}
			break
		}
	}
	return float64(n*8) / time.Since(start).Seconds() / 1000
}

// upload measures what the server receives from the pupil in 1 s, in
// kbit/s.
func upload(t *testing.T, l *Lab, s *echoServer) float64 {
	t.Helper()
	c, err := dial(l, Pupil, "tcp4", s.tcp, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "sink\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 16384)
		for range 100_000 {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return float64(n*8) / 1000
}

func TestReachability(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	wan := l.Addr(NAT).String()

	// The pupil, through the NAT: the server sees the WAN address.
	c := mustDial(t, l, Pupil, "udp4", s.udp)
	_, from, ok := probe(c, 2*time.Second)
	if !ok {
		t.Fatal("no UDP echo from the server to the pupil")
	}
	if host(from) != wan {
		t.Fatalf("the server saw the pupil's UDP from %s, want the NAT's WAN address %s", from, wan)
	}
	tcpFrom, err := tcpHello(l, Pupil, s, 2*time.Second)
	if err != nil {
		t.Fatalf("pupil TCP: %v", err)
	}
	if host(tcpFrom) != wan {
		t.Fatalf("the server saw the pupil's TCP from %s, want %s", tcpFrom, wan)
	}
	if ds := rtts(c, 10, time.Second); len(ds) < 10 || ds[len(ds)/2] > 20*time.Millisecond {
		t.Fatalf("clean line: round trips %v, want 10 under 20 ms", ds)
	}
	// The others reach the server directly, from their own addresses.
	for _, role := range []string{Robot, NAT} {
		c := mustDial(t, l, role, "udp4", s.udp)
		if _, from, ok := probe(c, 2*time.Second); !ok || host(from) != l.Addr(role).String() {
			t.Fatalf("%s: UDP echo %v from %q, want from %s", role, ok, from, l.Addr(role))
		}
		if from, err := tcpHello(l, role, s, 2*time.Second); err != nil || host(from) != l.Addr(role).String() {
			t.Fatalf("%s: TCP from %q, %v", role, from, err)
		}
	}
	// Nobody outside reaches the pupil's LAN address: only the NAT does.
	if c, err := dial(l, Server, "tcp4", net.JoinHostPort(l.Addr(Pupil).String(), "9"), time.Second); err == nil {
		c.Close()
		t.Fatal("the server reached the pupil's LAN address past the NAT")
	}
	if got := l.Impairments(); got != "clean line" {
		t.Errorf("Impairments() = %q on a clean line", got)
	}
}

func TestDelay(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	c := mustDial(t, l, Pupil, "udp4", s.udp)
	if err := l.SetDelay(75 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := l.Impairments(); !strings.Contains(got, "+150ms RTT") {
		t.Errorf("Impairments() = %q", got)
	}
	ds := rtts(c, 15, time.Second)
	if len(ds) < 15 {
		t.Fatalf("%d of 15 echoes with a delay and no loss", len(ds))
	}
	med := ds[len(ds)/2]
	t.Logf("75 ms each way: round trips %s to %s, median %s", ds[0], ds[len(ds)-1], med)
	if ds[0] < 150*time.Millisecond {
		t.Fatalf("a round trip of %s with 75 ms each way", ds[0])
	}
	if med > 190*time.Millisecond {
		t.Fatalf("median round trip %s with 75 ms each way, want 150-190 ms", med)
	}
	if err := l.SetDelay(0); err != nil {
		t.Fatal(err)
	}
	ds = rtts(c, 15, time.Second)
	if len(ds) < 15 || ds[len(ds)/2] > 20*time.Millisecond {
		t.Fatalf("delay cleared: round trips %v, want a median under 20 ms", ds)
	}
	if err := l.SetDelay(-time.Millisecond); err == nil {
		t.Error("SetDelay took a negative delay")
	}
}

func TestLoss(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	c := mustDial(t, l, Pupil, "udp4", s.udp)
	// send numbers n datagrams pupil -> server, paced (at most 2500 a
	// second) so that neither the TUN device's queue of 500 nor the
	// server's socket buffer overflows when a busy machine stalls a reader
	// for 100 ms, and returns how many the server saw.
	send := func(n int) int {
		var sent []int
		for i := range n {
			q := int(seqs.Add(1))
			sent = append(sent, q)
			_, _ = c.Write([]byte(strconv.Itoa(q)))
			if i%5 == 4 {
				time.Sleep(2 * time.Millisecond)
			}
		}
		got, last := 0, time.Now()
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if k := s.received(sent); k != got {
				got, last = k, time.Now()
			} else if got == n || time.Since(last) > 300*time.Millisecond {
				break
			}
		}
		return got
	}
	if err := l.SetLoss(5); err != nil {
		t.Fatal(err)
	}
	if got := l.Impairments(); got != "5% loss each way" {
		t.Errorf("Impairments() = %q", got)
	}
	const n = 2000
	got := send(n)
	rate := float64(n-got) / n
	t.Logf("5%% loss: %d of %d probes lost one way (%.1f%%)", n-got, n, 100*rate)
	if rate < 0.02 || rate > 0.09 {
		t.Fatalf("one-way loss %.1f%% with 5%% set, want 2-9%%", 100*rate)
	}
	if err := l.SetLoss(0); err != nil {
		t.Fatal(err)
	}
	if got := send(200); got < 199 {
		t.Fatalf("loss cleared: %d of 200 probes arrived", got)
	}
	for _, bad := range []float64{-1, 101} {
		if err := l.SetLoss(bad); err == nil {
			t.Errorf("SetLoss(%v) took it", bad)
		}
	}
}

func TestDownlinkRate(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	ctx := context.Background()
	if err := l.SetDownlinkRate(ctx, 600); err != nil {
		t.Fatal(err)
	}
	if got := l.Impairments(); got != "downlink 600 kbit/s" {
		t.Errorf("Impairments() = %q", got)
	}
	capped := download(t, l, s, 500*time.Millisecond, 3*time.Second)
	up := upload(t, l, s)
	t.Logf("600 kbit/s cap: download %.0f kbit/s, upload %.0f kbit/s", capped, up)
	if capped < 400 || capped > 700 {
		t.Fatalf("download %.0f kbit/s under a 600 kbit/s cap, want 400-700", capped)
	}
	if up < 3000 {
		t.Fatalf("upload %.0f kbit/s under a downlink cap of 600: the cap is not the downlink's alone", up)
	}
	if err := l.SetDownlinkRate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	free := download(t, l, s, 300*time.Millisecond, time.Second)
	t.Logf("cap lifted: download %.0f kbit/s", free)
	if free < 5000 {
		t.Fatalf("download %.0f kbit/s after the cap was lifted, want well above 600", free)
	}
	if err := l.SetDownlinkRate(ctx, 0); err != nil {
		t.Fatalf("lifting a lifted cap: %v", err)
	}
}

func TestBlockUDP(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	c := mustDial(t, l, Pupil, "udp4", s.udp)
	if !udpPasses(c, 3, time.Second) {
		t.Fatal("UDP does not pass before the block")
	}
	if err := l.BlockUDP(true); err != nil {
		t.Fatal(err)
	}
	if got := l.Impairments(); got != "UDP blocked" {
		t.Errorf("Impairments() = %q", got)
	}
	if udpPasses(c, 3, 300*time.Millisecond) {
		t.Fatal("UDP passed a UDP block")
	}
	if _, err := tcpHello(l, Pupil, s, 2*time.Second); err != nil {
		t.Fatalf("TCP under a UDP block: %v", err)
	}
	// A firewall that opens only TCP 443 stops TCP to any other port.
	_ = l.Firewall(443)
	if _, err := tcpHello(l, Pupil, s, 500*time.Millisecond); err == nil {
		t.Fatalf("TCP to %s passed a firewall open only to 443", s.tcp)
	}
	_ = l.Firewall()
	if err := l.BlockUDP(false); err != nil {
		t.Fatal(err)
	}
	if !udpPasses(c, 3, time.Second) {
		t.Fatal("UDP did not pass after the block was lifted")
	}
	if _, err := tcpHello(l, Pupil, s, 2*time.Second); err != nil {
		t.Fatalf("TCP after the firewall was lifted: %v", err)
	}
}

func TestOutage(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	c := mustDial(t, l, Pupil, "udp4", s.udp)
	if err := l.Outage(true); err != nil {
		t.Fatal(err)
	}
	if got := l.Impairments(); got != "outage" {
		t.Errorf("Impairments() = %q", got)
	}
	if udpPasses(c, 3, 300*time.Millisecond) {
		t.Fatal("UDP crossed an outage")
	}
	if _, err := tcpHello(l, Pupil, s, 500*time.Millisecond); err == nil {
		t.Fatal("TCP crossed an outage")
	}
	dropped := l.Dropped.Load()
	if dropped == 0 {
		t.Fatal("the relay dropped nothing in an outage")
	}
	if err := l.Outage(false); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	for !udpPasses(c, 1, 50*time.Millisecond) {
		if time.Since(end) > time.Second {
			t.Fatal("no UDP within 1 s of the outage's end")
		}
	}
	t.Logf("UDP again %s after the outage ended", time.Since(end).Round(time.Millisecond))
	if _, err := tcpHello(l, Pupil, s, 2*time.Second); err != nil {
		t.Fatalf("TCP after the outage: %v", err)
	}
}

func TestRenumber(t *testing.T) {
	l := Require(t)
	s := startServer(t, l)
	oldPupil, oldWAN := l.Addr(Pupil), l.Addr(NAT)
	c := mustDial(t, l, Pupil, "udp4", s.udp)
	if _, from, ok := probe(c, 2*time.Second); !ok || host(from) != oldWAN.String() {
		t.Fatalf("before: echo %v from %q", ok, from)
	}
	if n, err := l.conntrackEntries(); err != nil || n == 0 {
		t.Fatalf("the NAT tracks %d connections (%v) after the pupil's traffic", n, err)
	}

	pupil, wan, err := l.Renumber(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pupil == oldPupil || wan == oldWAN || l.Addr(Pupil) != pupil || l.Addr(NAT) != wan {
		t.Fatalf("renumbered %s -> %s (Addr %s), WAN %s -> %s (Addr %s)", oldPupil, pupil, l.Addr(Pupil), oldWAN, wan, l.Addr(NAT))
	}
	if !pupil.IsPrivate() || !strings.HasPrefix(pupil.String(), "192.168.") {
		t.Fatalf("new pupil address %s", pupil)
	}
	if n, err := l.conntrackEntries(); err != nil || n != 0 {
		t.Fatalf("the NAT still tracks %d connections (%v) after renumbering", n, err)
	}
	var onT0 []netip.Addr
	if err := l.Do(Pupil, func() error {
		ifi, err := net.InterfaceByName("t0")
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
				onT0 = append(onT0, p.Addr())
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onT0, []netip.Addr{pupil}) {
		t.Fatalf("the pupil's t0 has %v, want only %s", onT0, pupil)
	}
	// New sockets work, and come from the new WAN address.
	c2 := mustDial(t, l, Pupil, "udp4", s.udp)
	if _, from, ok := probe(c2, 2*time.Second); !ok || host(from) != wan.String() {
		t.Fatalf("after renumbering: echo %v from %q, want from %s", ok, from, wan)
	}
	if from, err := tcpHello(l, Pupil, s, 2*time.Second); err != nil || host(from) != wan.String() {
		t.Fatalf("TCP after renumbering from %q (%v), want from %s", from, err, wan)
	}
	// The old socket's address is gone: it gets nothing back.
	if _, from, ok := probe(c, 300*time.Millisecond); ok {
		t.Fatalf("a socket on the pupil's old address still has a line (the server saw %s)", from)
	}
	// Again: yet another pair of addresses.
	p3, w3, err := l.Renumber(context.Background())
	if err != nil || p3 == pupil || w3 == wan {
		t.Fatalf("second renumbering: %s %s %v", p3, w3, err)
	}
	if got := l.Impairments(); got != "renumbered 2×" {
		t.Errorf("Impairments() = %q", got)
	}
}

func TestForward(t *testing.T) {
	l := Require(t)
	// An HTTP API in the server's namespace and a "DevTools" port on the
	// pupil's loopback, each reached from here only through Forward.
	var api, devtools net.Listener
	if err := l.Do(Server, func() (err error) { api, err = net.Listen("tcp4", l.Addr(Server).String()+":0"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := l.Do(Pupil, func() (err error) { devtools, err = net.Listen("tcp4", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	for _, ln := range []net.Listener{api, devtools} {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s from %s", ln.Addr(), r.RemoteAddr)
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, k := range []struct {
		role string
		ln   net.Listener
	}{{Server, api}, {Pupil, devtools}} {
		local, stop, err := l.Forward(k.role, k.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(local, "127.0.0.1:") {
			t.Fatalf("Forward listens on %s", local)
		}
		resp, err := client.Get("http://" + local + "/")
		if err != nil {
			t.Fatalf("%s through %s: %v", k.ln.Addr(), local, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(string(body), k.ln.Addr().String()+" from ") {
			t.Fatalf("through %s: %q", local, body)
		}
		stop()
		stop() // twice is harmless
		if resp, err := client.Get("http://" + local + "/"); err == nil {
			resp.Body.Close()
			t.Fatalf("%s still answers after stop", local)
		}
	}
	if _, _, err := l.Forward("nowhere", "127.0.0.1:1"); err == nil {
		t.Fatal("Forward into an unknown namespace")
	}
}

// inode is a file's inode number (a namespace file's is the namespace's).
func inode(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }

// netnsOf is the network namespace of a thread, as "net:[INODE]".
func netnsOf(task string) string {
	s, _ := os.Readlink(filepath.Join(task, "ns/net"))
	return s
}

func TestDo(t *testing.T) {
	runtime.LockOSThread()
	own := netnsOf("/proc/thread-self")
	runtime.UnlockOSThread()
	l := Require(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			role := []string{Pupil, Server, NAT, Robot}[i%4]
			errs <- l.Do(role, func() error {
				fi, err := os.Stat("/run/netns/" + l.NS(role))
				if err != nil {
					return err
				}
				if want := fmt.Sprintf("net:[%d]", inode(fi)); netnsOf("/proc/thread-self") != want {
					return fmt.Errorf("Do(%s) runs in %s, want %s", role, netnsOf("/proc/thread-self"), want)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every thread is back in the test's own namespace.
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, task := range tasks {
		if ns := netnsOf(task); ns != "" && ns != own {
			t.Fatalf("thread %s left in %s after Do", task, ns)
		}
	}
	want := errors.New("from fn")
	if err := l.Do(Robot, func() error { return want }); !errors.Is(err, want) {
		t.Fatalf("Do returned %v, want fn's error", err)
	}
	if err := l.Do("nowhere", func() error { return nil }); err == nil {
		t.Fatal("Do in an unknown namespace")
	}
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want fn's panic", v)
			}
		}()
		_ = l.Do(Pupil, func() error { panic("boom") })
	}()
	if err := l.Command(context.Background(), "nowhere", "true").Run(); err == nil {
		t.Fatal("Command ran in an unknown namespace")
	}
	out, err := l.Command(context.Background(), Pupil, "ip", "-o", "-4", "addr", "show", "dev", "t0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), l.Addr(Pupil).String()+"/24") {
		t.Fatalf("ip addr in the pupil's namespace: %v: %s", err, out)
	}
}

func TestCloseRemovesEverything(t *testing.T) {
	l := Require(t)
	inodes := map[string]bool{}
	for _, r := range roles {
		fi, err := os.Stat("/run/netns/" + l.NS(r))
		if err != nil {
			t.Fatal(err)
		}
		inodes[fmt.Sprintf("net:[%d]", inode(fi))] = true
	}
	// Something in each kind of state: a forward, a qdisc, a process.
	var ln net.Listener
	if err := l.Do(Server, func() (err error) { ln, err = net.Listen("tcp4", "127.0.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	local, _, err := l.Forward(Server, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetDownlinkRate(context.Background(), 1000); err != nil {
		t.Fatal(err)
	}
	sleeper := l.Command(context.Background(), Robot, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), l.prefix) {
		t.Fatalf("namespaces left after Close:\n%s", out)
	}
	for _, r := range roles {
		if _, err := os.Stat("/run/netns/" + l.NS(r)); err == nil {
			t.Fatalf("/run/netns/%s left after Close", l.NS(r))
		}
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("a process in the lab outlived Close")
	}
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, task := range tasks {
		if inodes[netnsOf(task)] {
			t.Fatalf("thread %s still in the lab's namespace %s", task, netnsOf(task))
		}
	}
	if c, err := net.DialTimeout("tcp4", local, time.Second); err == nil {
		c.Close()
		t.Fatalf("Forward's listener %s open after Close", local)
	}
	if err := l.SetDownlinkRate(context.Background(), 600); err == nil {
		t.Fatal("SetDownlinkRate on a closed lab")
	}
	if _, _, err := l.Forward(Server, "127.0.0.1:1"); err == nil {
		t.Fatal("Forward on a closed lab")
	}
}

func TestNewRemovesStaleNamespaces(t *testing.T) {
	if err := Available(); err != nil {
		Require(t) // skips or fails as every lab test does
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pid := dead.Process.Pid
	stale := fmt.Sprintf("slabt-%d-1-router", pid) // a crashed run's
	alive := "slabt-1-1-router"                    // pid 1 is running
	other := fmt.Sprintf("slabu-%d-1-router", pid) // another prefix's
	for _, name := range []string{stale, alive, other} {
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := New(ctx, "slabt")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.HasPrefix(l.NS(Pupil), fmt.Sprintf("slabt-%d-", os.Getpid())) {
		t.Fatalf("namespace %s", l.NS(Pupil))
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	names := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		names[name] = true
	}
	if names[stale] {
		t.Errorf("New left %s, whose process is dead", stale)
	}
	if !names[alive] || !names[other] {
		t.Errorf("New removed a namespace it does not own: %s %v, %s %v", alive, names[alive], other, names[other])
	}
	for _, bad := range []string{"Slab", "s-lab", "a/b", "abcdefghijklm"} {
		if l, err := New(ctx, bad); err == nil {
			l.Close()
			t.Errorf("New took prefix %q", bad)
		}
	}
}
