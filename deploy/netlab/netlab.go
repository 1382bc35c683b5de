// Package netlab builds a small network in Linux network namespaces, for
// measuring Seatlink across a home line and a NAT instead of loopback:
//
//	server 10.77.1.2 ─┐
//	                  ├─ router (the internet) ─ 10.77.3.2 nat ═ TUN relay ═ pupil 192.168.77.2
//	robot  10.77.2.2 ─┘        (routes 10.77.x)   (masquerade)   (delay, loss,  (default route
//	                                                               UDP block,     via the relay)
//	                                                               outage)
//
// The pupil's line runs through a relay in this process between two TUN
// devices (one in the pupil's namespace, one in the NAT's), because this
// kernel has no netem: the relay holds packets for the one-way delay and
// drops them for loss, a blocked protocol or an outage. A tbf qdisc on the
// NAT's side of the line caps what the pupil receives. Everything is torn
// down by Close; a crashed run's namespaces are removed by the next New.
//
// It needs root, /dev/net/tun, iproute2 (ip, tc) and nftables (nft).
package netlab

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Namespaces of a lab, by role.
const (
	Server = "server"
	Robot  = "robot"
	NAT    = "nat"
	Pupil  = "pupil"
	Router = "router"
)

// Available says why a lab cannot be built here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netlab: needs root (network namespaces, TUN devices, qdiscs)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("netlab: no /dev/net/tun")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("netlab: %s is not installed (iproute2, nftables)", tool)
		}
	}
	return nil
}

// Lab is one built network.
type Lab struct {
	prefix string
	names  map[string]string // role -> namespace name

	mu       sync.Mutex
	pupilIP  netip.Addr
	natWAN   netip.Addr
	renumber int
	rateKbit int

	delay    atomic.Int64 // one-way, nanoseconds
	lossPPM  atomic.Int64 // per million, each direction
	udpBlock atomic.Bool
	outage   atomic.Bool
	tcpOnly  atomic.Pointer[[]uint16] // TCP ports a firewall lets through; nil: all

	// Dropped and Relayed count packets at the relay (both directions).
	Dropped, Relayed atomic.Int64

	tunPupil, tunNAT *os.File
	relayWG          sync.WaitGroup
	closeOnce        sync.Once
}

var labSeq atomic.Int64

const nsPrefix = "slab"

// New builds a lab. Namespaces are named slab-PID-N-ROLE.
func New(ctx context.Context) (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	removeStale()
	l := &Lab{prefix: fmt.Sprintf("%s-%d-%d", nsPrefix, os.Getpid(), labSeq.Add(1)), names: map[string]string{},
		pupilIP: netip.MustParseAddr("192.168.77.2"), natWAN: netip.MustParseAddr("10.77.3.2")}
	for _, r := range []string{Router, Server, Robot, NAT, Pupil} {
		l.names[r] = l.prefix + "-" + r
	}
	if err := l.build(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

// removeStale deletes the namespaces of labs whose process has gone.
func removeStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		parts := strings.Split(name, "-")
		if len(parts) < 4 || parts[0] != nsPrefix {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == nil {
			continue // its lab is still running
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	}
}

// NS is the namespace name of a role.
func (l *Lab) NS(role string) string { return l.names[role] }

func (l *Lab) ip(ctx context.Context, ns string, args ...string) error {
	var cmd *exec.Cmd
	if ns == "" {
		cmd = exec.CommandContext(ctx, "ip", args...)
	} else {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"-n", l.names[ns]}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (l *Lab) run(ctx context.Context, ns, name string, args ...string) error {
	cmd := l.Command(ctx, ns, name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: %s %s in %s: %v: %s", name, strings.Join(args, " "), ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (l *Lab) build(ctx context.Context) error {
	for _, r := range []string{Router, Server, Robot, NAT, Pupil} {
		if err := l.ip(ctx, "", "netns", "add", l.names[r]); err != nil {
			return err
		}
		if err := l.ip(ctx, r, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	links := []struct {
		role, dev, peer, addr, gw string
	}{
		{Server, "s0", "rs", "10.77.1.2/24", "10.77.1.1"},
		{Robot, "r0", "rr", "10.77.2.2/24", "10.77.2.1"},
		{NAT, "n0", "rn", "10.77.3.2/24", "10.77.3.1"},
	}
	for _, k := range links {
		steps := [][]string{
			{"", "link", "add", k.dev, "netns", l.names[k.role], "type", "veth", "peer", "name", k.peer, "netns", l.names[Router]},
			{k.role, "addr", "add", k.addr, "dev", k.dev},
			{k.role, "link", "set", k.dev, "up"},
			{Router, "addr", "add", k.gw + "/24", "dev", k.peer},
			{Router, "link", "set", k.peer, "up"},
			{k.role, "route", "add", "default", "via", k.gw},
		}
		for _, s := range steps {
			if err := l.ip(ctx, s[0], s[1:]...); err != nil {
				return err
			}
		}
	}
	for _, r := range []string{Router, NAT} {
		if err := l.run(ctx, r, "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
			return err
		}
	}
	// The pupil's line: a TUN device on each side, joined by the relay.
	var err error
	if l.tunPupil, err = l.openTUN(Pupil, "t0"); err != nil {
		return err
	}
	if l.tunNAT, err = l.openTUN(NAT, "t1"); err != nil {
		return err
	}
	for _, s := range [][]string{
		{Pupil, "addr", "add", "192.168.77.2/24", "dev", "t0"},
		{Pupil, "link", "set", "t0", "up"},
		{Pupil, "route", "add", "default", "dev", "t0"},
		{NAT, "addr", "add", "192.168.77.1/24", "dev", "t1"},
		{NAT, "link", "set", "t1", "up"},
	} {
		if err := l.ip(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	// A home router: the pupil's addresses leave masqueraded as the WAN's.
	for _, rule := range [][]string{
		{"add", "table", "ip", "lab"},
		{"add", "chain", "ip", "lab", "post", "{ type nat hook postrouting priority 100 ; }"},
		{"add", "rule", "ip", "lab", "post", "oifname", "n0", "masquerade"},
	} {
		if err := l.run(ctx, NAT, "nft", rule...); err != nil {
			return err
		}
	}
	l.relayWG.Add(2)
	go l.relay(l.tunPupil, l.tunNAT)
	go l.relay(l.tunNAT, l.tunPupil)
	return nil
}

// Do runs fn on an OS thread inside the role's namespace: sockets fn
// opens stay in it, whichever goroutine uses them later.
func (l *Lab) Do(role string, fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + l.names[role])
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netlab: setns %s: %w", role, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// This thread stays in the lab's namespace: let it die with the
		// goroutine instead of returning it to the scheduler.
		return errors.Join(ferr, fmt.Errorf("netlab: setns back: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// Command runs a program inside the role's namespace.
func (l *Lab) Command(ctx context.Context, role, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.names[role], name}, args...)...)
}

// Addr is the address of a role as others see it (the NAT's WAN address
// for the pupil, who is seen only through the NAT).
func (l *Lab) Addr(role string) netip.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch role {
	case Server:
		return netip.MustParseAddr("10.77.1.2")
	case Robot:
		return netip.MustParseAddr("10.77.2.2")
	case NAT:
		return l.natWAN
	case Pupil:
		return l.pupilIP
	}
	return netip.Addr{}
}

func (l *Lab) openTUN(role, name string) (*os.File, error) {
	var f *os.File
	err := l.Do(role, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("netlab: TUNSETIFF %s: %w", name, err)
		}
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	return f, err
}

type held struct {
	due time.Time
	b   []byte
}

// relay copies packets from one TUN device to the other, applying the
// impairments; it ends when either device is closed.
func (l *Lab) relay(from, to *os.File) {
	defer l.relayWG.Done()
	q := make(chan held, 8192)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range q {
			if d := time.Until(p.due); d > 0 {
				time.Sleep(d)
			}
			if _, err := to.Write(p.b); err != nil && errors.Is(err, os.ErrClosed) {
				for range q {
				}
				return
			}
		}
	}()
	buf := make([]byte, 65536)
	for {
		n, err := from.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				break
			}
			continue
		}
		b := buf[:n]
		if l.drop(b) {
			l.Dropped.Add(1)
			continue
		}
		l.Relayed.Add(1)
		p := held{due: time.Now().Add(time.Duration(l.delay.Load())), b: append([]byte(nil), b...)}
		select {
		case q <- p:
		default:
			l.Dropped.Add(1) // the line's buffer is full
		}
	}
	close(q)
	<-done
}

func (l *Lab) drop(b []byte) bool {
	if l.outage.Load() {
		return true
	}
	if l.udpBlock.Load() && isUDP(b) {
		return true
	}
	if ports := l.tcpOnly.Load(); ports != nil {
		if src, dst, ok := tcpPorts(b); ok && !slices.Contains(*ports, src) && !slices.Contains(*ports, dst) {
			return true
		}
	}
	if ppm := l.lossPPM.Load(); ppm > 0 && rand.Int64N(1_000_000) < ppm {
		return true
	}
	return false
}

func isUDP(b []byte) bool {
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		return b[9] == unix.IPPROTO_UDP
	case len(b) >= 40 && b[0]>>4 == 6:
		return b[6] == unix.IPPROTO_UDP
	}
	return false
}

// tcpPorts are an IPv4 TCP segment's ports.
func tcpPorts(b []byte) (src, dst uint16, ok bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != unix.IPPROTO_TCP {
		return 0, 0, false
	}
	ihl := int(b[0]&0x0f) * 4
	if len(b) < ihl+4 {
		return 0, 0, false
	}
	return uint16(b[ihl])<<8 | uint16(b[ihl+1]), uint16(b[ihl+2])<<8 | uint16(b[ihl+3]), true
}

// Firewall lets TCP through only to or from these ports (a school
// firewall that opens 443 and little else); with none, all TCP passes.
// Combine with BlockUDP.
func (l *Lab) Firewall(tcpPorts ...uint16) {
	if len(tcpPorts) == 0 {
		l.tcpOnly.Store(nil)
		return
	}
	p := slices.Clone(tcpPorts)
	l.tcpOnly.Store(&p)
}

// SetDelay adds oneWay to each direction of the pupil's line (the round
// trip grows by twice it).
func (l *Lab) SetDelay(oneWay time.Duration) { l.delay.Store(int64(oneWay)) }

// SetLoss drops percent of packets at random, each direction.
func (l *Lab) SetLoss(percent float64) { l.lossPPM.Store(int64(percent * 10_000)) }

// BlockUDP drops every UDP packet on the pupil's line (a firewall that
// lets only TCP through).
func (l *Lab) BlockUDP(on bool) { l.udpBlock.Store(on) }

// Outage drops everything on the pupil's line.
func (l *Lab) Outage(on bool) { l.outage.Store(on) }

// SetDownlinkRate caps what the pupil receives at kbit kbit/s with a tbf
// on the NAT's side of the line (0 lifts the cap).
func (l *Lab) SetDownlinkRate(ctx context.Context, kbit int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rateKbit > 0 {
		if err := l.run(ctx, NAT, "tc", "qdisc", "del", "dev", "t1", "root"); err != nil {
			return err
		}
		l.rateKbit = 0
	}
	if kbit <= 0 {
		return nil
	}
	// A queue of at most 100 ms at the cap, as a home router's buffer.
	burst := max(kbit*1000/8/50, 3000)
	if err := l.run(ctx, NAT, "tc", "qdisc", "add", "dev", "t1", "root", "tbf", "rate", strconv.Itoa(kbit)+"kbit",
		"burst", strconv.Itoa(burst), "latency", "100ms"); err != nil {
		return err
	}
	l.rateKbit = kbit
	return nil
}

// Renumber gives the pupil a new address and the NAT a new WAN address,
// as a move from Wi-Fi to 4G does: the server sees the pupil from a new
// address and the old NAT mappings are gone.
func (l *Lab) Renumber(ctx context.Context) (pupil, wan netip.Addr, err error) {
	l.mu.Lock()
	l.renumber++
	n := l.renumber
	oldPupil, oldWAN := l.pupilIP, l.natWAN
	l.mu.Unlock()
	pupil = netip.AddrFrom4([4]byte{192, 168, 77, byte(2 + n)})
	wan = netip.AddrFrom4([4]byte{10, 77, 3, byte(2 + n)})
	steps := [][]string{
		{Pupil, "addr", "del", oldPupil.String() + "/24", "dev", "t0"},
		{Pupil, "addr", "add", pupil.String() + "/24", "dev", "t0"},
		{Pupil, "route", "replace", "default", "dev", "t0", "src", pupil.String()},
		{NAT, "addr", "del", oldWAN.String() + "/24", "dev", "n0"},
		{NAT, "addr", "add", wan.String() + "/24", "dev", "n0"},
		{NAT, "route", "replace", "default", "via", "10.77.3.1"},
	}
	for _, s := range steps {
		if err := l.ip(ctx, s[0], s[1:]...); err != nil {
			return netip.Addr{}, netip.Addr{}, err
		}
	}
	l.mu.Lock()
	l.pupilIP, l.natWAN = pupil, wan
	l.mu.Unlock()
	return pupil, wan, nil
}

// Impairments describes what is set now, for a report.
func (l *Lab) Impairments() string {
	var parts []string
	if d := time.Duration(l.delay.Load()); d > 0 {
		parts = append(parts, fmt.Sprintf("+%s RTT", 2*d))
	}
	if ppm := l.lossPPM.Load(); ppm > 0 {
		parts = append(parts, fmt.Sprintf("%.1f%% loss each way", float64(ppm)/10_000))
	}
	l.mu.Lock()
	if l.rateKbit > 0 {
		parts = append(parts, fmt.Sprintf("downlink %d kbit/s (tbf)", l.rateKbit))
	}
	l.mu.Unlock()
	if l.udpBlock.Load() {
		parts = append(parts, "UDP blocked")
	}
	if l.outage.Load() {
		parts = append(parts, "outage")
	}
	if p := l.tcpOnly.Load(); p != nil {
		parts = append(parts, fmt.Sprintf("TCP only to ports %v", *p))
	}
	if len(parts) == 0 {
		return "clean line"
	}
	return strings.Join(parts, ", ")
}

// Close removes the lab.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		for _, f := range []*os.File{l.tunPupil, l.tunNAT} {
			if f != nil {
				_ = f.Close()
			}
		}
		l.relayWG.Wait()
		for _, name := range l.names {
			_ = exec.Command("ip", "netns", "del", name).Run()
		}
	})
	return nil
}
