// Package media is Seatlink's selective forwarding unit: one Pion WebRTC peer
// connection per participant, a room per link, RTP forwarded without
// decoding, NACKs answered from a per-track packet cache, rate-limited
// keyframe requests, and the control data channel relay. It knows nothing of
// HTTP, WebSockets or SQL: signaling reaches it through Join and the
// Signaler interface.
package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"seatlink/internal/pionlog"
	"seatlink/internal/udpbuf"
)

// Role is a participant's role in a link.
type Role string

// The two roles of a link.
const (
	RoleRobot Role = "robot"
	RolePupil Role = "pupil"
)

// Errors returned by Join.
var (
	ErrRoleTaken = errors.New("media: role already taken in this link")
	ErrClosed    = errors.New("media: SFU closed")
	ErrBadRole   = errors.New("media: unknown role")
)

// Config configures the SFU.
type Config struct {
	// UDPAddr is the one UDP address all peers' ICE traffic uses (ICE UDP
	// mux). Port 0 picks a free port.
	UDPAddr string
	// TCPAddr is the ICE-TCP listen address, for networks that block UDP;
	// empty disables ICE-TCP.
	TCPAddr string
	// PublicIPs, if set, are advertised in host candidates instead of the
	// listen addresses (a server behind 1:1 NAT).
	PublicIPs []string
	// ICEServers are handed to clients (STUN/TURN).
	ICEServers []webrtc.ICEServer
	// TURN mints each joining peer its own short-lived TURN credential
	// (nil: none).
	TURN interface {
		Mint(peer string) webrtc.ICEServer
	}
	// MaxVideoBitrate bounds what a publisher is asked to send when its
	// subscribers' lines allow more (bit/s; default 2.5 Mbit/s).
	MaxVideoBitrate int64
	// KeyframeInterval is the least time between two PLIs sent to the same
	// publisher. Default 500 ms.
	KeyframeInterval time.Duration
	// PacketCacheSize is the number of packets kept per video track for NACKs
	// (a power of two). Default 512.
	PacketCacheSize int

	Logger  *slog.Logger
	Metrics *Metrics
	// Events, if set, receives pupils' media events (engagement).
	Events EventSink
}

// SFU owns the media listeners and the rooms.
type SFU struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	api     *webrtc.API
	subAPI  *webrtc.API // pupils': REMB from their browsers, see newAPI

	udpConn net.PacketConn
	tcpLn   net.Listener
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux

	certMu sync.Mutex
	cert   *webrtc.Certificate

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool

	stopMonitor chan struct{}
	monitorDone chan struct{}
	clock       atomic.Int64 // coarse unix ns, see upTrack.clock
}

// New opens the media listeners and builds the WebRTC API. Listeners are
// open when New returns, so the server can report ready.
func New(cfg Config) (*SFU, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.MaxVideoBitrate <= 0 {
		cfg.MaxVideoBitrate = DefaultMaxVideoBitrate
	}
	if cfg.KeyframeInterval <= 0 {
		cfg.KeyframeInterval = 500 * time.Millisecond
	}
	if cfg.PacketCacheSize == 0 {
		cfg.PacketCacheSize = 512
	}
	if cfg.PacketCacheSize&(cfg.PacketCacheSize-1) != 0 || cfg.PacketCacheSize > 32768 {
		return nil, fmt.Errorf("media: packet cache size %d is not a power of two <= 32768", cfg.PacketCacheSize)
	}
	s := &SFU{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, rooms: make(map[string]*Room)}
	if err := s.listen(); err != nil {
		s.closeListeners()
		return nil, err
	}
	api, err := s.newAPI(false)
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.api = api
	if s.subAPI, err = s.newAPI(true); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.stopMonitor, s.monitorDone = make(chan struct{}), make(chan struct{})
	s.clock.Store(time.Now().UnixNano())
	go s.monitor()
	return s, nil
}

func (s *SFU) listen() error {
	udpAddr, err := net.ResolveUDPAddr("udp", s.cfg.UDPAddr)
	if err != nil {
		return fmt.Errorf("media: UDP address %q: %w", s.cfg.UDPAddr, err)
	}
	udpConn, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		return fmt.Errorf("media: listen UDP: %w", err)
	}
	s.udpConn = udpConn
	s.sizeSocketBuffers(udpConn)
	pl := pionlog.Factory{Logger: s.log}
	s.udpMux = webrtc.NewICEUDPMux(pl.NewLogger("udpmux"), newBatchConn(udpConn))
	if s.cfg.TCPAddr != "" {
		tcpLn, err := net.Listen("tcp", s.cfg.TCPAddr)
		if err != nil {
			return fmt.Errorf("media: listen ICE-TCP: %w", err)
		}
		s.tcpLn = tcpLn
		s.tcpMux = webrtc.NewICETCPMux(pl.NewLogger("tcpmux"), tcpLn, 32)
	}
	return nil
}

// socketBuffer is what we ask of the kernel for the media socket's
// receive and send buffers. Every peer's media arrives on this one
// socket: at 100 classroom links that is about 30,000 packets (35 MB) a
// second, and Linux's default of 208 KiB holds only 6 ms of it, so any
// pause longer than that in reading drops packets, and the NACKs and
// resends that follow make the next pause longer.
const socketBuffer = 8 << 20

// sizeSocketBuffers asks for socketBuffer and logs what the kernel gave:
// it caps the request at net.core.rmem_max and wmem_max.
func (s *SFU) sizeSocketBuffers(c *net.UDPConn) {
	rcv, snd := udpbuf.Grow(c, socketBuffer, socketBuffer)
	if rcv < 1<<20 {
		s.log.Warn("media: the kernel gave the media socket a small receive buffer; packets will drop under load. "+
			"Raise net.core.rmem_max (e.g. sysctl -w net.core.rmem_max=8388608)", "receive_bytes", rcv, "wanted", socketBuffer)
	} else {
		s.log.Debug("media: socket buffers", "receive_bytes", rcv, "send_bytes", snd)
	}
}

// newAPI sets Pion up as its examples do: a MediaEngine with the codecs and
// header extensions we forward, interceptors for RTCP reports, NACK
// generation towards publishers and transport-wide congestion control, and a
// SettingEngine bound to our single UDP port and ICE-TCP listener.
//
// subscriber is the API of pupils, who receive the classroom's video: the
// SFU numbers that video with transport-wide sequence numbers itself
// (track.go), the pupil's browser reports their arrival in TWCC feedback,
// and the SFU estimates the pupil's line from it and probes it
// (sendside.go), relaying the result to the robot's encoder (adapt.go).
// A client that does not take transport-cc reports REMB instead.
// Publishers keep TWCC both ways.
func (s *SFU) newAPI(subscriber bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
	codecs := []struct {
		p webrtc.RTPCodecParameters
		k webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB,
		}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
		}, PayloadType: 108}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.p, c.k); err != nil {
			return nil, fmt.Errorf("media: register codec %s: %w", c.p.MimeType, err)
		}
	}
	// RFC 6464 audio level: engagement reads the pupil's voice activity
	// from it, and device-sim reports the level it hears.
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}

	// A pupil's video carries its transport-wide sequence number (the
	// SFU's own estimate, sendside.go) or, for a client that takes only
	// REMB, the time it left us (abs-send-time), so that its estimate is
	// made from send and arrival times, not from the robot's frame
	// timestamps (bursty: a frame's packets leave together).
	if subscriber {
		for _, uri := range []string{sdp.TransportCCURI, sdp.ABSSendTimeURI} {
			if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri},
				webrtc.RTPCodecTypeVideo); err != nil {
				return nil, err
			}
		}
	}

	ir := &interceptor.Registry{}
	// NACK generator only: we ask publishers to resend what we lost, and
	// answer subscribers' NACKs ourselves from the packet cache (so no
	// responder interceptor, whose per-sender buffers would duplicate it).
	// Each lost packet is asked for at most resendMax times (Pion's
	// default is every 100 ms for as long as it is in the window), so a
	// publisher is not sent a storm of NACKs when our socket overflows.
	gen, err := nack.NewGeneratorInterceptor(nack.GeneratorMaxNacksPerPacket(resendMax))
	if err != nil {
		return nil, err
	}
	ir.Add(gen)
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	// TWCC feedback to publishers (their bandwidth estimate) and TWCC
	// sequence numbers on what we send (subscribers' feedback to us). A
	// subscriber's video is numbered by the SFU itself (track.go), not by
	// Pion's interceptor (an allocation a packet); its microphone keeps
	// TWCC feedback from us.
	if subscriber {
		me.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeAudio)
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI},
			webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
		gen, err := twcc.NewSenderInterceptor()
		if err != nil {
			return nil, err
		}
		ir.Add(gen)
	} else {
		if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
			return nil, err
		}
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
			return nil, err
		}
	}

	se := webrtc.SettingEngine{}
	se.LoggerFactory = pionlog.Factory{Logger: s.log}
	se.SetICEUDPMux(s.udpMux)
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6,
			webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	}
	se.SetIncludeLoopbackCandidate(true)
	// The server never asks the LAN for mDNS names.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Advertise only the addresses we are bound to, so an ICE-TCP
	// listener on loopback does not produce candidates on other interfaces.
	if ips := boundIPs(s.udpConn.LocalAddr(), s.tcpLn); ips != nil {
		se.SetIPFilter(func(ip net.IP) bool {
			for _, b := range ips {
				if b.Equal(ip) {
					return true
				}
			}
			return false
		})
	}
	if len(s.cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(s.cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	// A peer that stops answering is "disconnected" after 5 s and
	// "failed" after 15 s; the client may restart ICE in between.
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	// Nominate the path a pupil can use as soon as it works. Pion waits
	// before nominating a pair whose candidates are not host ones (1 s for
	// peer-reflexive, 2 s for relay) in case a better pair turns up; but
	// this server has only host candidates, and a pupil behind a home NAT
	// is reached through a peer-reflexive address, its direct path, so the
	// wait only delayed the first frame. A relay still waits a little, so
	// a direct path checked at the same time wins. Measured in deploy/netlab:
	// UDP blocked, through TURN over TCP, first frame 3.6 s before.
	se.SetSrflxAcceptanceMinWait(0)
	se.SetPrflxAcceptanceMinWait(0)
	se.SetRelayAcceptanceMinWait(300 * time.Millisecond)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

// boundIPs lists the specific IPs the listeners are bound to, or nil when
// any of them listens on all addresses.
func boundIPs(udp net.Addr, tcp net.Listener) []net.IP {
	var ips []net.IP
	addrs := []net.Addr{udp}
	if tcp != nil {
		addrs = append(addrs, tcp.Addr())
	}
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.UDPAddr:
			ip = a.IP
		case *net.TCPAddr:
			ip = a.IP
		}
		if ip == nil || ip.IsUnspecified() {
			return nil
		}
		ips = append(ips, ip)
	}
	return ips
}

// UDPAddr is the ICE UDP mux's address.
func (s *SFU) UDPAddr() net.Addr { return s.udpConn.LocalAddr() }

// TCPAddr is the ICE-TCP listener's address, or nil.
func (s *SFU) TCPAddr() net.Addr {
	if s.tcpLn == nil {
		return nil
	}
	return s.tcpLn.Addr()
}

// ICEServersFor are the STUN/TURN servers peer should use, with a TURN
// credential minted for it.
func (s *SFU) ICEServersFor(peer string) []webrtc.ICEServer {
	out := append([]webrtc.ICEServer(nil), s.cfg.ICEServers...)
	if s.cfg.TURN != nil {
		out = append(out, s.cfg.TURN.Mint(peer))
	}
	return out
}

// Join adds a participant to the room of link. If resume matches the key of
// a participant already in that role (a client reconnecting before the
// server noticed it had gone), that participant is replaced; otherwise a
// second participant in a role gets ErrRoleTaken. The caller starts
// negotiation with Participant.Start once it has told the client it joined.
func (s *SFU) Join(link string, role Role, opts JoinOptions, sig Signaler) (*Participant, error) {
	if role != RoleRobot && role != RolePupil {
		return nil, ErrBadRole
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		r := s.rooms[link]
		if r == nil {
			r = newRoom(s, link)
			s.rooms[link] = r
			s.metrics.Rooms.Inc()
		}
		s.mu.Unlock()
		p, err := r.join(role, opts, sig)
		if errors.Is(err, errRoomGone) {
			continue // the room emptied and closed between lookup and join
		}
		return p, err
	}
}

// ErrEvicted closes a participant whose credential was revoked.
var ErrEvicted = errors.New("media: evicted: credential revoked")

// Evict closes the participant in role of link, if any (a revoked robot).
func (s *SFU) Evict(link string, role Role) {
	s.mu.Lock()
	r := s.rooms[link]
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	p := r.parts[role]
	r.mu.Unlock()
	if p != nil {
		p.close(ErrEvicted)
	}
}

// removeRoom forgets r once it is empty.
func (s *SFU) removeRoom(r *Room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.link] == r {
		delete(s.rooms, r.link)
		s.metrics.Rooms.Dec()
	}
}

// Close closes every peer connection and the listeners. It is safe to call
// more than once and after a partial New.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.close(ErrClosed)
	}
	if s.stopMonitor != nil {
		close(s.stopMonitor)
		<-s.monitorDone
	}
	s.closeListeners()
	return nil
}

func (s *SFU) closeListeners() {
	if s.udpMux != nil {
		_ = s.udpMux.Close()
	}
	if s.udpConn != nil {
		_ = s.udpConn.Close()
	}
	if s.tcpMux != nil {
		_ = s.tcpMux.Close()
	}
	if s.tcpLn != nil {
		_ = s.tcpLn.Close()
	}
}
