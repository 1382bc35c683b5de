// Package agent is a device's side of Seatlink's signaling protocol: it
// joins a link over the WebSocket, answers the server's offers with a Pion
// peer connection, trickles ICE, and carries the control data channel. The
// simulated robot (device-sim) and the Go test pupil are built on it; robot
// makers can build to docs/PROTOCOL.md the same way.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"seatlink/internal/pionlog"
	"seatlink/internal/udpbuf"
	"seatlink/internal/wire"
)

// Config says how to join.
type Config struct {
	// Server is the server's base URL (http://host:port) or its
	// WebSocket URL (ws://host:port/ws).
	Server string
	Token  string
	Role   string
	// Publish declares what the tracks are (audio, video).
	Publish wire.Publish
	// Tracks are published once joined (added before the first answer).
	Tracks []webrtc.TrackLocal
	// Resume is the key from an earlier session, to replace it on rejoin.
	Resume string
	// Client is free text sent with join (e.g. a firmware version).
	Client string
	// NetworkTypes restricts ICE (e.g. TCP4 only); default UDP4 and UDP6.
	NetworkTypes []webrtc.NetworkType
	// RelayOnly uses TURN relays alone (ICE transport policy "relay"),
	// as a client behind a firewall that lets nothing else through.
	RelayOnly bool
	// REMBOnly answers without transport-wide congestion control: the
	// client reports what its line carries in REMB itself, and the
	// server relays that instead of estimating the line from feedback.
	REMBOnly bool
	Logger   *slog.Logger

	// OnTrack is called for each track the server sends.
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// OnSender is called for each sender of our tracks, so that the caller
	// can read its RTCP (PLIs for a video sender). If nil, RTCP is drained.
	OnSender func(webrtc.TrackLocal, *webrtc.RTPSender)
	// OnControl is called for each valid control message.
	OnControl func(wire.Control)
}

// Agent is one joined session.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	conn   *websocket.Conn
	pc     *webrtc.PeerConnection
	joined wire.Message

	wmu sync.Mutex // one writer at a time on the socket
	// Local candidates are held while an answer is made and sent, so that
	// none overtakes its answer.
	candMu   sync.Mutex
	holdCand bool
	heldCand []wire.Message

	ctrlMu    sync.Mutex
	ctrl      *webrtc.DataChannel
	ctrlOpen  chan struct{}
	connected chan struct{}
	connOnce  sync.Once
	ctrlOnce  sync.Once

	offers atomic.Int64

	restartMu    sync.Mutex
	restartTimer *time.Timer

	done    chan struct{}
	endOnce sync.Once
	mu      sync.Mutex
	err     error
	errors  []wire.Message
}

// ErrServer wraps a fatal error message from the server.
type ErrServer struct{ Msg wire.Message }

func (e *ErrServer) Error() string { return "server: " + e.Msg.Code + ": " + e.Msg.Message }

// wsURL turns a base URL into the signaling URL.
func wsURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("agent: server URL %q must be http(s) or ws(s)", server)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	return u.String(), nil
}

// isLoopback reports whether the server is on this machine's loopback, in
// which case ICE is kept to loopback too.
func isLoopback(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *Agent) newPeerConnection(iceServers []webrtc.ICEServer) (*webrtc.PeerConnection, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	// Pion's default interceptors but its stats one: NACKs both ways, RTCP
	// reports and TWCC feedback, as a browser has. Nothing here reads
	// getStats, and the stats interceptor costs a lock and a queue entry
	// per packet (8 % of the load test's CPU at 100 links).
	ir := &interceptor.Registry{}
	// A lost packet is asked for at most 10 times, as libwebrtc does
	// (Pion's default asks every 100 ms while it is in the window).
	if err := webrtc.ConfigureNackWithOptions(me, ir, []nack.GeneratorOption{nack.GeneratorMaxNacksPerPacket(10)}); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return nil, err
	}
	if !a.cfg.REMBOnly {
		if err := webrtc.ConfigureTWCCSender(me, ir); err != nil {
			return nil, err
		}
		// Stamp transport-wide sequence numbers on what we send, as
		// browsers do, so the server's TWCC feedback can drive our
		// bandwidth estimate.
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{LoggerFactory: pionlog.Factory{Logger: a.log}}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if n, err := stdnet.NewNet(); err == nil {
		se.SetNet(bufferedNet{n})
	}
	nt := a.cfg.NetworkTypes
	if len(nt) == 0 {
		nt = []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	}
	se.SetNetworkTypes(nt)
	if isLoopback(a.cfg.Server) {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	conf := webrtc.Configuration{ICEServers: iceServers}
	if a.cfg.RelayOnly {
		conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return api.NewPeerConnection(conf)
}

// bufferedNet is the host network with roomier UDP receive buffers: a
// device that pauses (a busy robot, or the load test on a full machine)
// for longer than Linux's default 208 KiB holds at video rates, about a
// second, would drop packets in the kernel, then NACK them all.
type bufferedNet struct{ *stdnet.Net }

const agentSocketBuffer = 1 << 20

func (n bufferedNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if u, ok := c.(*net.UDPConn); ok && err == nil {
		udpbuf.Grow(u, agentSocketBuffer, 0)
	}
	return c, err
}

// Dial connects, joins, and returns once the server has accepted the join.
// Negotiation then runs in the background; Connected is closed when media
// can flow and Done when the session ends.
func Dial(ctx context.Context, cfg Config) (*Agent, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	u, err := wsURL(cfg.Server)
	if err != nil {
		return nil, err
	}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: TLSFrom(ctx)}
	conn, resp, err := dialer.DialContext(ctx, u, http.Header{})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("agent: connect %s: %s", u, resp.Status)
		}
		return nil, fmt.Errorf("agent: connect: %w", err)
	}
	a := &Agent{
		cfg: cfg, log: cfg.Logger.With("role", cfg.Role), conn: conn,
		ctrlOpen: make(chan struct{}), connected: make(chan struct{}), done: make(chan struct{}),
	}
	conn.SetReadLimit(wire.MaxMessageBytes)
	pub := cfg.Publish
	if err := a.send(wire.Message{Type: wire.TypeJoin, Token: cfg.Token, Role: cfg.Role, Publish: &pub,
		Client: cfg.Client, Resume: cfg.Resume}); err != nil {
		conn.Close()
		return nil, err
	}
	// Wait for joined (or a fatal error).
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		m, err := a.read()
		if err != nil {
			conn.Close()
			return nil, err
		}
		if m.Type == wire.TypeError {
			conn.Close()
			return nil, &ErrServer{Msg: m}
		}
		if m.Type == wire.TypeJoined {
			a.joined = m
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	var ice []webrtc.ICEServer
	for _, s := range a.joined.ICEServers {
		ice = append(ice, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	a.log = a.log.With("peer", a.joined.Peer)
	if err := a.setupPeer(ice); err != nil {
		conn.Close()
		return nil, err
	}
	go a.loop()
	return a, nil
}

func (a *Agent) setupPeer(ice []webrtc.ICEServer) error {
	pc, err := a.newPeerConnection(ice)
	if err != nil {
		return err
	}
	a.pc = pc
	for _, t := range a.cfg.Tracks {
		sender, err := pc.AddTrack(t)
		if err != nil {
			_ = pc.Close()
			return err
		}
		if a.cfg.OnSender != nil {
			go a.cfg.OnSender(t, sender)
		} else {
			go func() {
				buf := make([]byte, 1500)
				for {
					if _, _, err := sender.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		j := c.ToJSON()
		m := wire.Message{Type: wire.TypeCandidate, Candidate: &wire.Candidate{
			Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex, UsernameFragment: j.UsernameFragment,
		}}
		a.candMu.Lock()
		defer a.candMu.Unlock()
		if a.holdCand {
			a.heldCand = append(a.heldCand, m)
			return
		}
		_ = a.send(m)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		a.log.Debug("peer connection state", "state", s.String())
		switch s {
		case webrtc.PeerConnectionStateConnected:
			a.connOnce.Do(func() { close(a.connected) })
			a.restartMu.Lock()
			if a.restartTimer != nil {
				a.restartTimer.Stop()
			}
			a.restartMu.Unlock()
		case webrtc.PeerConnectionStateDisconnected:
			// The network changed or dropped: give it a moment, then ask
			// for fresh ICE on the same session (as the pupil page does),
			// so the lesson goes on without a new join.
			a.restartMu.Lock()
			if a.restartTimer != nil {
				a.restartTimer.Stop()
			}
			a.restartTimer = time.AfterFunc(restartAfter, func() {
				if pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected {
					a.log.Info("connection interrupted; restarting ICE")
					_ = a.RestartICE()
				}
			})
			a.restartMu.Unlock()
		case webrtc.PeerConnectionStateFailed:
			a.end(errors.New("agent: peer connection failed"))
		}
	})
	if a.cfg.OnTrack != nil {
		pc.OnTrack(a.cfg.OnTrack)
	}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != "control" {
			return
		}
		dc.OnOpen(func() {
			a.ctrlMu.Lock()
			a.ctrl = dc
			a.ctrlMu.Unlock()
			a.ctrlOnce.Do(func() { close(a.ctrlOpen) })
		})
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			c, err := wire.DecodeControl(msg.Data)
			if err != nil {
				a.log.Warn("bad control message from server", "err", err)
				return
			}
			if a.cfg.OnControl != nil {
				a.cfg.OnControl(c)
			}
		})
	})
	return nil
}

func (a *Agent) read() (wire.Message, error) {
	_, data, err := a.conn.ReadMessage()
	if err != nil {
		return wire.Message{}, fmt.Errorf("agent: read: %w", err)
	}
	return wire.DecodeServer(data)
}

// send writes one message (safe from any goroutine).
func (a *Agent) send(m wire.Message) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	_ = a.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return a.conn.WriteJSON(m)
}

// Send writes a raw signaling message (tests use it for bad input).
func (a *Agent) Send(m wire.Message) error { return a.send(m) }

func (a *Agent) loop() {
	for {
		m, err := a.read()
		if err != nil {
			a.end(err)
			return
		}
		switch m.Type {
		case wire.TypeOffer:
			if err := a.answer(m.SDP); err != nil {
				a.end(err)
				return
			}
		case wire.TypeCandidate:
			if m.Candidate == nil || m.Candidate.Candidate == "" {
				continue
			}
			c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
				SDPMLineIndex: m.Candidate.SDPMLineIndex, UsernameFragment: m.Candidate.UsernameFragment}
			if err := a.pc.AddICECandidate(c); err != nil {
				a.log.Warn("server candidate refused", "err", err)
			}
		case wire.TypeError:
			a.mu.Lock()
			a.errors = append(a.errors, m)
			a.mu.Unlock()
			if m.Fatal {
				a.end(&ErrServer{Msg: m})
				return
			}
			a.log.Warn("server error", "code", m.Code, "message", m.Message)
		case wire.TypeBye:
			a.end(fmt.Errorf("agent: server said bye: %s", m.Reason))
			return
		case wire.TypePeerJoined, wire.TypePeerLeft:
			a.log.Info("peer "+strings.TrimPrefix(m.Type, "peer_"), "other", m.Role)
		}
	}
}

func (a *Agent) answer(offer string) error {
	a.setHoldCandidates(true)
	defer a.setHoldCandidates(false)
	if err := a.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fmt.Errorf("agent: apply offer: %w", err)
	}
	ans, err := a.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("agent: answer: %w", err)
	}
	if err := a.pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("agent: set answer: %w", err)
	}
	a.offers.Add(1)
	return a.send(wire.Message{Type: wire.TypeAnswer, SDP: ans.SDP})
}

func (a *Agent) setHoldCandidates(hold bool) {
	a.candMu.Lock()
	defer a.candMu.Unlock()
	a.holdCand = hold
	if !hold {
		for _, m := range a.heldCand {
			_ = a.send(m)
		}
		a.heldCand = nil
	}
}

// Offers counts the server offers answered so far.
func (a *Agent) Offers() int64 { return a.offers.Load() }

// restartAfter is how long a disconnected peer connection waits before
// it asks for an ICE restart.
const restartAfter = 3 * time.Second

// RestartICE asks the server for an offer with fresh ICE credentials, as a
// client does after a network change.
func (a *Agent) RestartICE() error { return a.send(wire.Message{Type: wire.TypeRestartICE}) }

func (a *Agent) end(err error) {
	a.endOnce.Do(func() {
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
		a.restartMu.Lock()
		if a.restartTimer != nil {
			a.restartTimer.Stop()
		}
		a.restartMu.Unlock()
		_ = a.conn.Close()
		if a.pc != nil {
			_ = a.pc.Close()
		}
		close(a.done)
	})
}

// ResumeKey lets a later Dial replace this session.
func (a *Agent) ResumeKey() string { return a.joined.Resume }

// Joined is the server's joined message.
func (a *Agent) Joined() wire.Message { return a.joined }

// Connected is closed when the peer connection is up.
func (a *Agent) Connected() <-chan struct{} { return a.connected }

// ControlOpen is closed when the control channel is open.
func (a *Agent) ControlOpen() <-chan struct{} { return a.ctrlOpen }

// Done is closed when the session has ended.
func (a *Agent) Done() <-chan struct{} { return a.done }

// Err says why the session ended.
func (a *Agent) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Errors lists the non-fatal and fatal error messages received.
func (a *Agent) Errors() []wire.Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]wire.Message(nil), a.errors...)
}

// PeerConnection exposes the peer connection (stats, tests).
func (a *Agent) PeerConnection() *webrtc.PeerConnection { return a.pc }

// SendControl sends a message on the control channel.
func (a *Agent) SendControl(c wire.Control) error {
	a.ctrlMu.Lock()
	dc := a.ctrl
	a.ctrlMu.Unlock()
	if dc == nil {
		return errors.New("agent: control channel not open")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return dc.SendText(string(b))
}

// Close leaves the link and closes the connection.
func (a *Agent) Close() error {
	_ = a.send(wire.Message{Type: wire.TypeLeave})
	select {
	case <-a.done:
	case <-time.After(2 * time.Second):
	}
	a.end(errors.New("agent: closed"))
	return nil
}
