// Package netlab builds a small network in Linux network namespaces, for
// measuring Seatlink across a home line and a NAT instead of loopback:
//
//	server 10.77.1.2 ─┐
//	                  ├─ router (the internet) ─ 10.77.3.2 nat ═ TUN relay ═ pupil 192.168.77.2
//	robot  10.77.2.2 ─┘   10.77.{1,2,3}.1      (masquerade)    (delay, loss,  (default route
//	                                           LAN 192.168.77.1  UDP block,    via the nat)
//	                                                             outage)
//
// The pupil's line runs through a relay in this process between two TUN
// devices (t0 in the pupil's namespace, t1 in the NAT's), because this
// kernel has no netem qdisc: the relay holds each packet for the one-way
// delay in a bounded, time-ordered queue and drops packets for loss, a
// blocked protocol or an outage. A tbf qdisc on the NAT's side of the line
// (t1) caps what the pupil receives. The NAT masquerades with nftables, as
// a home router does.
//
// Every lab has namespaces of its own, named PREFIX-PID-N-ROLE, so two labs
// (in one process or two) never collide; the addresses above are the same
// in every lab, which is harmless because each lab's addresses live only in
// its own namespaces. Close removes everything; New first removes the
// namespaces of earlier labs of the same prefix whose process has died.
//
// It needs root, /dev/net/tun, iproute2 (ip, tc) and nftables (nft).
// Nothing it does touches the caller's own namespace except the listeners
// of Forward on 127.0.0.1.
package netlab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Namespaces of a lab, by role: the names Addr, Do, Command, Forward and
// NS take.
const (
	Server = "server" // the Seatlink server
	Robot  = "robot"  // the classroom with the robot
	NAT    = "nat"    // the pupil's home router
	Pupil  = "pupil"  // the pupil's computer, behind the NAT
	Router = "router" // the internet between them
)

var roles = []string{Router, Server, Robot, NAT, Pupil}

// The lab's addresses (the same in every lab: each lab has its own
// namespaces).
var (
	serverAddr = netip.MustParseAddr("10.77.1.2")
	robotAddr  = netip.MustParseAddr("10.77.2.2")
	wanAddr    = netip.MustParseAddr("10.77.3.2") // the NAT's first WAN address
	wanGW      = "10.77.3.1"
	pupilAddr  = netip.MustParseAddr("192.168.77.2") // the pupil's first LAN address
	lanGW      = "192.168.77.1"
)

// Available says why a lab cannot be built on this machine, or returns nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netlab: not root (network namespaces, TUN devices and qdiscs need it)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("netlab: no /dev/net/tun")
	}
	for _, tool := range []struct{ bin, pkg string }{{"ip", "iproute2"}, {"tc", "iproute2"}, {"nft", "nftables"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			return fmt.Errorf("netlab: %s not installed (Debian package %s)", tool.bin, tool.pkg)
		}
	}
	return nil
}

// Lab is one built network. Its methods are safe for concurrent use.
type Lab struct {
	prefix string            // PREFIX-PID-N, the start of its namespaces' names
	names  map[string]string // role -> namespace name

	mu         sync.Mutex
	pupilIP    netip.Addr
	natWAN     netip.Addr
	renumbered int
	rateKbit   int
	forwards   map[*forward]struct{}
	closed     bool

	delay    atomic.Int64 // one-way, nanoseconds
	lossPPM  atomic.Int64 // per million, each direction
	udpBlock atomic.Bool
	outage   atomic.Bool
	tcpOnly  atomic.Pointer[[]uint16] // TCP ports a firewall lets through; nil: all

	// Dropped and Relayed count the packets the relay on the pupil's line
	// dropped (for an impairment or a full queue) and passed on, both
	// directions together.
	Dropped, Relayed atomic.Int64

	tunPupil, tunNAT *os.File
	stop             chan struct{} // closed by Close: the relay ends
	relayWG          sync.WaitGroup
	closeOnce        sync.Once
	closeErr         error
}

var labSeq atomic.Int64

var validPrefix = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// New builds a lab whose namespaces are named PREFIX-PID-N-ROLE (prefix: a
// lower-case letter then up to 11 letters or digits; "" means "slab").
// Before building it removes the namespaces of earlier labs of the same
// prefix whose process is no longer running (a crashed test's). ctx bounds
// the building; the lab lives until Close.
func New(ctx context.Context, prefix string) (*Lab, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = "slab"
	}
	if !validPrefix.MatchString(prefix) {
		return nil, fmt.Errorf("netlab: prefix %q: want a lower-case letter then up to 11 letters or digits", prefix)
	}
	removeStale(prefix)
	l := &Lab{
		prefix:   fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), labSeq.Add(1)),
		names:    map[string]string{},
		pupilIP:  pupilAddr,
		natWAN:   wanAddr,
		forwards: map[*forward]struct{}{},
		stop:     make(chan struct{}),
	}
	for _, r := range roles {
		l.names[r] = l.prefix + "-" + r
	}
	if err := l.build(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

// removeStale deletes the namespaces PREFIX-PID-N-ROLE whose PID is not a
// running process. Names of any other form are never touched.
func removeStale(prefix string) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	stale := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `-([0-9]+)-[0-9]+-(` + strings.Join(roles, "|") + `)$`)
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		m := stale.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, 0); err == nil || errors.Is(err, unix.EPERM) {
			continue // its lab's process is still running
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	}
}

// NS is the namespace name of a role ("" for an unknown role), for tools
// that take one (ip netns exec NAME, tc -n NAME).
func (l *Lab) NS(role string) string { return l.names[role] }

// batch runs ip commands, one a line, in the role's namespace ("" for the
// caller's own).
func (l *Lab) batch(ctx context.Context, role string, lines ...string) error {
	args := []string{"-batch", "-"}
	if role != "" {
		args = append([]string{"-n", l.names[role]}, args...)
	}
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: ip %s in %q: %v: %s\n%s", strings.Join(args, " "), role, err,
			strings.TrimSpace(string(out)), strings.Join(lines, "\n"))
	}
	return nil
}

func (l *Lab) run(ctx context.Context, role, name string, args ...string) error {
	cmd := l.Command(ctx, role, name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: %s %s in %s: %v: %s", name, strings.Join(args, " "), role, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (l *Lab) build(ctx context.Context) error {
	var adds []string
	for _, r := range roles {
		adds = append(adds, "netns add "+l.names[r])
	}
	if err := l.batch(ctx, "", adds...); err != nil {
		return err
	}
	// Veth pairs, created straight into their namespaces: nothing of the
	// lab ever appears in the caller's namespace.
	rt := l.names[Router]
	if err := l.batch(ctx, "",
		"link add s0 netns "+l.names[Server]+" type veth peer name rs netns "+rt,
		"link add r0 netns "+l.names[Robot]+" type veth peer name rr netns "+rt,
		"link add n0 netns "+l.names[NAT]+" type veth peer name rn netns "+rt,
	); err != nil {
		return err
	}
	// The pupil's line: a TUN device on each side, joined by the relay.
	var err error
	if l.tunPupil, err = l.openTUN(Pupil, "t0"); err != nil {
		return err
	}
	if l.tunNAT, err = l.openTUN(NAT, "t1"); err != nil {
		return err
	}
	for role, lines := range map[string][]string{
		Router: {"link set lo up",
			"addr add 10.77.1.1/24 dev rs", "link set rs up",
			"addr add 10.77.2.1/24 dev rr", "link set rr up",
			"addr add 10.77.3.1/24 dev rn", "link set rn up"},
		Server: {"link set lo up", "addr add " + serverAddr.String() + "/24 dev s0", "link set s0 up",
			"route add default via 10.77.1.1"},
		Robot: {"link set lo up", "addr add " + robotAddr.String() + "/24 dev r0", "link set r0 up",
			"route add default via 10.77.2.1"},
		NAT: {"link set lo up", "addr add " + wanAddr.String() + "/24 dev n0", "link set n0 up",
			"route add default via " + wanGW,
			"addr add " + lanGW + "/24 dev t1", "link set t1 up"},
		Pupil: {"link set lo up", "addr add " + pupilAddr.String() + "/24 dev t0", "link set t0 up",
			"route add default via " + lanGW + " dev t0"},
	} {
		if err := l.batch(ctx, role, lines...); err != nil {
			return err
		}
	}
	for _, r := range []string{Router, NAT} {
		if err := l.Do(r, func() error { return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0) }); err != nil {
			return fmt.Errorf("netlab: ip_forward in %s: %w", r, err)
		}
	}
	// A home router: the pupil's addresses leave masqueraded as the WAN's.
	nft := l.Command(ctx, NAT, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table ip lab {
	chain post {
		type nat hook postrouting priority 100; policy accept;
		oifname "n0" masquerade
	}
}
`)
	if out, err := nft.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: nft in %s: %v: %s", NAT, err, strings.TrimSpace(string(out)))
	}
	l.relayWG.Add(2)
	go l.relay(l.tunPupil, l.tunNAT)
	go l.relay(l.tunNAT, l.tunPupil)
	return nil
}

// nsPath is the file of a role's namespace.
func (l *Lab) nsPath(role string) (string, error) {
	name, ok := l.names[role]
	if !ok {
		return "", fmt.Errorf("netlab: no namespace %q (want %s)", role, strings.Join(roles, ", "))
	}
	return "/run/netns/" + name, nil
}

// Do runs fn on an OS thread inside the role's namespace and waits for it.
// Sockets fn opens stay in that namespace whichever goroutine uses them
// later; goroutines fn starts run in the caller's namespace. A panic in fn
// is raised again in the caller.
func (l *Lab) Do(role string, fn func() error) error {
	path, err := l.nsPath(role)
	if err != nil {
		return err
	}
	type result struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan result, 1)
	go func() {
		// The thread is returned to the scheduler only once it is back in
		// its own namespace; otherwise it ends with this goroutine.
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer orig.Close()
		target, err := os.Open(path)
		if err != nil {
			done <- result{err: err}
			return
		}
		err = unix.Setns(int(target.Fd()), unix.CLONE_NEWNET)
		target.Close()
		if err != nil {
			done <- result{err: fmt.Errorf("netlab: setns %s: %w", role, err)}
			return
		}
		var r result
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.panicked, r.value = true, v
				}
			}()
			r.err = fn()
		}()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			r.err = errors.Join(r.err, fmt.Errorf("netlab: setns back: %w", err))
		} else {
			runtime.UnlockOSThread()
		}
		done <- r
	}()
	r := <-done
	if r.panicked {
		panic(r.value)
	}
	return r.err
}

// Command is a command that runs the program inside the role's namespace
// (through ip netns exec). Starting it fails for an unknown role.
func (l *Lab) Command(ctx context.Context, role, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.names[role], name}, args...)...)
	if _, err := l.nsPath(role); err != nil {
		cmd.Err = err
	}
	return cmd
}

// Addr is a role's address: the server's, the robot's, the pupil's LAN
// address behind the NAT, or the NAT's WAN address (the one the server and
// the robot see the pupil's traffic come from). It is the zero Addr for any
// other role. Renumber changes the pupil's and the NAT's.
func (l *Lab) Addr(role string) netip.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch role {
	case Server:
		return serverAddr
	case Robot:
		return robotAddr
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
		// The device lives in this namespace for as long as fd is open.
		f = os.NewFile(uintptr(fd), name)
		return nil
	})
	return f, err
}

// relayQueue bounds the packets held on the line in each direction (a
// router's buffer): at 1500 bytes, 12 MB.
const relayQueue = 8192

type held struct {
	due time.Time
	b   []byte
}

// relay copies packets from one TUN device to the other, applying the
// impairments; it ends when Close closes the devices. Each packet is due
// the one-way delay after it was read, and packets leave in the order they
// came (so a shortened delay never reorders them).
func (l *Lab) relay(from, to *os.File) {
	defer l.relayWG.Done()
	q := make(chan held, relayQueue)
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for p := range q {
			if d := time.Until(p.due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-l.stop:
					return
				}
			}
			if _, err := to.Write(p.b); errors.Is(err, os.ErrClosed) {
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
			// A device that is down (EIO): wait instead of spinning.
			select {
			case <-l.stop:
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		b := buf[:n]
		if l.drop(b) {
			l.Dropped.Add(1)
			continue
		}
		p := held{due: time.Now().Add(time.Duration(l.delay.Load())), b: append([]byte(nil), b...)}
		select {
		case q <- p:
			l.Relayed.Add(1)
		default:
			l.Dropped.Add(1) // the line's buffer is full
		}
	}
	close(q)
	writer.Wait()
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

// Firewall lets TCP between the pupil and the internet through only to or
// from these ports (a school firewall that opens 443 and little else); with
// none, all TCP passes. It is applied in the relay; combine it with
// BlockUDP. It returns nil (an error is kept for symmetry with the other
// impairments).
func (l *Lab) Firewall(tcpPorts ...uint16) error {
	if len(tcpPorts) == 0 {
		l.tcpOnly.Store(nil)
		return nil
	}
	p := slices.Clone(tcpPorts)
	l.tcpOnly.Store(&p)
	return nil
}

// SetDelay adds oneWay to each direction of the pupil's line, so the round
// trip grows by twice it; 0 clears it. The relay holds the packets.
func (l *Lab) SetDelay(oneWay time.Duration) error {
	if oneWay < 0 || oneWay > 10*time.Second {
		return fmt.Errorf("netlab: delay %s: want 0 to 10s", oneWay)
	}
	l.delay.Store(int64(oneWay))
	return nil
}

// SetLoss drops percent of the packets at random in each direction of the
// pupil's line; 0 clears it. The relay drops them (not nftables), so loss
// applies before the delay queue and is counted in Dropped.
func (l *Lab) SetLoss(percent float64) error {
	if !(percent >= 0 && percent <= 100) {
		return fmt.Errorf("netlab: loss %v%%: want 0 to 100", percent)
	}
	l.lossPPM.Store(int64(percent * 10_000))
	return nil
}

// BlockUDP drops every UDP packet between the pupil and the internet while
// TCP still flows (a school firewall); false lifts it. The relay drops them.
// It returns nil.
func (l *Lab) BlockUDP(on bool) error { l.udpBlock.Store(on); return nil }

// Outage drops every packet in both directions on the pupil's line (the
// line is cut, the pupil's own addresses stay); false ends it. The relay
// drops them, so packets in flight when it ends still arrive. It returns
// nil.
func (l *Lab) Outage(on bool) error { l.outage.Store(on); return nil }

// SetDownlinkRate caps what the pupil receives at kbit kbit/s, counting IP
// bytes, with a tbf qdisc on the NAT's side of the line (a queue of at most
// 100 ms at the cap, like a home router's buffer); 0 lifts the cap.
func (l *Lab) SetDownlinkRate(ctx context.Context, kbit int) error {
	if kbit < 0 {
		return fmt.Errorf("netlab: downlink rate %d kbit/s", kbit)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("netlab: lab closed")
	}
	if kbit == 0 {
		if l.rateKbit > 0 {
			if err := l.tc(ctx, "qdisc", "del", "dev", "t1", "root"); err != nil {
				return err
			}
		}
		l.rateKbit = 0
		return nil
	}
	burst := max(kbit*1000/8/50, 3000) // 20 ms at the rate, at least two packets
	if err := l.tc(ctx, "qdisc", "replace", "dev", "t1", "root", "tbf", "rate", strconv.Itoa(kbit)+"kbit",
		"burst", strconv.Itoa(burst), "latency", "100ms"); err != nil {
		return err
	}
	l.rateKbit = kbit
	return nil
}

func (l *Lab) tc(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "tc", append([]string{"-n", l.names[NAT]}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netlab: tc %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// renumberHost is the last byte of the pupil's and the WAN's n-th address.
func renumberHost(n int) byte { return byte(2 + n%250) }

// Renumber gives the pupil a new LAN address and the NAT a new WAN address,
// as a move from Wi-Fi to 4G does: the server sees the pupil's new sockets
// come from a new address, sockets bound to the old address stop working,
// and the NAT's connection tracking (its mappings) is flushed.
func (l *Lab) Renumber(ctx context.Context) (pupil, wan netip.Addr, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return netip.Addr{}, netip.Addr{}, errors.New("netlab: lab closed")
	}
	n := l.renumbered + 1
	pupil = netip.AddrFrom4([4]byte{192, 168, 77, renumberHost(n)})
	wan = netip.AddrFrom4([4]byte{10, 77, 3, renumberHost(n)})
	if err := l.batch(ctx, Pupil,
		"addr del "+l.pupilIP.String()+"/24 dev t0",
		"addr add "+pupil.String()+"/24 dev t0",
		"route replace default via "+lanGW+" dev t0 src "+pupil.String(),
	); err != nil {
		return netip.Addr{}, netip.Addr{}, err
	}
	l.pupilIP = pupil
	if err := l.batch(ctx, NAT,
		"addr del "+l.natWAN.String()+"/24 dev n0",
		"addr add "+wan.String()+"/24 dev n0",
		"route replace default via "+wanGW,
	); err != nil {
		return netip.Addr{}, netip.Addr{}, err
	}
	l.natWAN = wan
	l.renumbered = n
	if err := l.Do(NAT, func() error { _, err := conntrack(ctDelete, 0); return err }); err != nil {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("netlab: flushing the NAT's conntrack: %w", err)
	}
	return pupil, wan, nil
}

// Netlink conntrack messages (linux/netfilter/nfnetlink_conntrack.h).
const (
	ctGet    = 1
	ctDelete = 2
)

// conntrack sends one ctnetlink request for IPv4 in the calling thread's
// namespace: ctDelete with no tuple flushes the table, ctGet with
// NLM_F_DUMP lists it. It returns how many entries were answered.
func conntrack(msgType uint16, flags uint16) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	tv := unix.Timeval{Sec: 2}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return 0, err
	}
	req := make([]byte, unix.NLMSG_HDRLEN+4)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.NFNL_SUBSYS_CTNETLINK<<8|msgType)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	binary.NativeEndian.PutUint32(req[8:], 1) // sequence
	req[unix.NLMSG_HDRLEN] = unix.AF_INET
	req[unix.NLMSG_HDRLEN+1] = unix.NFNETLINK_V0
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	count := 0
	buf := make([]byte, 1<<16)
	for range 100_000 {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return count, err
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			size := int(binary.NativeEndian.Uint32(b[0:]))
			typ := binary.NativeEndian.Uint16(b[4:])
			if size < unix.NLMSG_HDRLEN || size > len(b) {
				return count, errors.New("netlab: short netlink message")
			}
			switch typ {
			case unix.NLMSG_DONE:
				return count, nil
			case unix.NLMSG_ERROR:
				if size < unix.NLMSG_HDRLEN+4 {
					return count, errors.New("netlab: short netlink error")
				}
				if e := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); e != 0 {
					return count, unix.Errno(-e)
				}
				if flags&unix.NLM_F_DUMP == 0 {
					return count, nil // the acknowledgement
				}
			default:
				count++
			}
			b = b[min((size+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1), len(b)):]
		}
	}
	return count, errors.New("netlab: netlink answer without end")
}

// conntrackEntries counts the IPv4 connections the NAT tracks.
func (l *Lab) conntrackEntries() (int, error) {
	var n int
	err := l.Do(NAT, func() (err error) { n, err = conntrack(ctGet, unix.NLM_F_DUMP); return err })
	return n, err
}

// Impairments describes on one line what is set on the pupil's line now,
// for a report ("clean line" when nothing is).
func (l *Lab) Impairments() string {
	var parts []string
	if d := time.Duration(l.delay.Load()); d > 0 {
		parts = append(parts, fmt.Sprintf("+%s RTT (%s each way)", 2*d, d))
	}
	if ppm := l.lossPPM.Load(); ppm > 0 {
		parts = append(parts, fmt.Sprintf("%s%% loss each way", strconv.FormatFloat(float64(ppm)/10_000, 'f', -1, 64)))
	}
	l.mu.Lock()
	if l.rateKbit > 0 {
		parts = append(parts, fmt.Sprintf("downlink %d kbit/s", l.rateKbit))
	}
	renumbered := l.renumbered
	l.mu.Unlock()
	if l.udpBlock.Load() {
		parts = append(parts, "UDP blocked")
	}
	if p := l.tcpOnly.Load(); p != nil {
		parts = append(parts, fmt.Sprintf("TCP only to ports %v", *p))
	}
	if l.outage.Load() {
		parts = append(parts, "outage")
	}
	if renumbered > 0 {
		parts = append(parts, fmt.Sprintf("renumbered %d×", renumbered))
	}
	if len(parts) == 0 {
		return "clean line"
	}
	return strings.Join(parts, ", ")
}

// forward is one Forward listener and its connections.
type forward struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
	once  sync.Once
}

func (f *forward) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forward) close() {
	f.once.Do(func() {
		_ = f.ln.Close()
		f.mu.Lock()
		f.done = true
		for c := range f.conns {
			_ = c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
}

// Forward listens on 127.0.0.1 (a free port) in the caller's namespace and
// joins each connection to one dialled to target inside the role's
// namespace: a way in for the test process to a Chromium DevTools port in
// the pupil's namespace ("127.0.0.1:9222") or an HTTP API in the server's.
// stop closes the listener and every connection; Close stops it too.
func (l *Lab) Forward(role, target string) (local string, stop func(), err error) {
	if _, err := l.nsPath(role); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	f := &forward{ln: ln, conns: map[net.Conn]struct{}{}}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		ln.Close()
		return "", nil, errors.New("netlab: lab closed")
	}
	l.forwards[f] = struct{}{}
	l.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !f.track(c) {
				c.Close()
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.join(l, role, target, c)
			}()
		}
	}()
	stop = func() {
		f.close()
		l.mu.Lock()
		delete(l.forwards, f)
		l.mu.Unlock()
	}
	return ln.Addr().String(), stop, nil
}

func (f *forward) join(l *Lab, role, target string, c net.Conn) {
	defer c.Close()
	var up net.Conn
	if err := l.Do(role, func() (err error) { up, err = net.DialTimeout("tcp", target, 10*time.Second); return err }); err != nil {
		return
	}
	defer up.Close()
	if !f.track(up) {
		return
	}
	half := func(dst, src net.Conn, done chan<- struct{}) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	done := make(chan struct{}, 2)
	go half(up, c, done)
	go half(c, up, done)
	<-done
	<-done
	f.mu.Lock()
	delete(f.conns, c)
	delete(f.conns, up)
	f.mu.Unlock()
}

// Close removes the lab: it stops the Forward listeners and the relay,
// kills any process still running in the lab's namespaces (so none
// outlives its namespace) and deletes the namespaces, with every device,
// address, route, qdisc and nftables rule in them. Calling it again does
// nothing and returns the first call's result.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		fws := make([]*forward, 0, len(l.forwards))
		for f := range l.forwards {
			fws = append(fws, f)
		}
		l.forwards = map[*forward]struct{}{}
		l.mu.Unlock()
		for _, f := range fws {
			f.close()
		}
		close(l.stop)
		for _, f := range []*os.File{l.tunPupil, l.tunNAT} {
			if f != nil {
				_ = f.Close()
			}
		}
		l.relayWG.Wait()
		var errs []error
		for _, r := range roles {
			name := l.names[r]
			if _, err := os.Stat("/run/netns/" + name); err != nil {
				continue // never made (a failed New)
			}
			if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
				for _, f := range strings.Fields(string(out)) {
					if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
						_ = unix.Kill(pid, unix.SIGKILL)
					}
				}
			}
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("netlab: ip netns del %s: %v: %s", name, err, strings.TrimSpace(string(out))))
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}
