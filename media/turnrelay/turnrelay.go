// Package turnrelay is the TURN server built into `serve` (Pion's turn),
// for homes and schools whose networks block UDP or every port but 443,
// and the minting of the short-lived credentials clients use with it or
// with an external TURN server sharing its secret (coturn's
// static-auth-secret): the TURN REST convention, username
// "EXPIRY:PEER", password base64(HMAC-SHA1(secret, username)).
//
// A credential opens an allocation only until its expiry; an allocation
// opened in time is refreshed for as long as its session lasts (a stolen
// credential is useless after it expires, and a lesson is not cut at
// the expiry). The relay forwards only to the media server's own
// addresses: it is never an open relay into the school's network.
package turnrelay

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST convention is HMAC-SHA1
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"seatlink/internal/pionlog"
)

// Minter hands each joining peer its own short-lived credential for the
// TURN URLs.
type Minter struct {
	Secret []byte
	TTL    time.Duration
	URLs   []string
	// Now is the clock (tests move it).
	Now func() time.Time
}

// Mint returns the ICE server entry for peer.
func (m *Minter) Mint(peer string) webrtc.ICEServer {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	user := strconv.FormatInt(now().Add(m.TTL).Unix(), 10) + ":" + peer
	return webrtc.ICEServer{URLs: m.URLs, Username: user, Credential: password(m.Secret, user),
		CredentialType: webrtc.ICECredentialTypePassword}
}

func password(secret []byte, user string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(user))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Config is the built-in server's configuration.
type Config struct {
	// UDPAddr, TCPAddr and TLSAddr are listen addresses ("" is off).
	UDPAddr, TCPAddr, TLSAddr string
	// TLSConfig serves TLSAddr; SharedTLS carries TURN connections sorted
	// off the HTTPS port (already handshaken).
	TLSConfig *tls.Config
	SharedTLS net.Listener
	// RelayIP is the relay address clients are told; RelayBind is where
	// relay sockets are bound (default: RelayIP).
	RelayIP          net.IP
	RelayBind        string
	PortMin, PortMax uint16
	Realm            string
	Secret           []byte
	// AllowPeer says whether the relay may send to ip: the media
	// server's own addresses only.
	AllowPeer func(ip net.IP) bool
	// MaxAllocationsPerPeer bounds one credential's allocations (default 8).
	MaxAllocationsPerPeer int
	Now                   func() time.Time
	Logger                *slog.Logger
	Registerer            prometheus.Registerer
}

// Server is a running TURN server.
type Server struct {
	srv  *turn.Server
	udp  net.PacketConn
	tcp  net.Listener
	tls  net.Listener
	cfg  Config
	mu   sync.Mutex
	used map[string]int // allocations per username

	allocations prometheus.Gauge
	authFail    *prometheus.CounterVec
}

// Start opens the listeners and serves.
func Start(cfg Config) (*Server, error) {
	if len(cfg.Secret) == 0 || cfg.RelayIP == nil || cfg.AllowPeer == nil {
		return nil, errors.New("turnrelay: secret, relay IP and peer filter are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAllocationsPerPeer <= 0 {
		cfg.MaxAllocationsPerPeer = 8
	}
	if cfg.Realm == "" {
		cfg.Realm = "seatlink"
	}
	if cfg.RelayBind == "" {
		cfg.RelayBind = cfg.RelayIP.String()
	}
	s := &Server{cfg: cfg, used: map[string]int{},
		allocations: prometheus.NewGauge(prometheus.GaugeOpts{Name: "seatlink_turn_allocations",
			Help: "TURN relay allocations open now."}),
		authFail: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlink_turn_refused_total",
			Help: "TURN requests refused, by reason (expired, bad_credential, quota, peer)."}, []string{"reason"}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.allocations, s.authFail)
	}
	ok := false
	defer func() {
		if !ok {
			s.closeListeners()
		}
	}()
	gen := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorPortRange{RelayAddress: cfg.RelayIP, Address: cfg.RelayBind,
			MinPort: cfg.PortMin, MaxPort: cfg.PortMax}
	}
	perm := func(_ net.Addr, ip net.IP) bool {
		if cfg.AllowPeer(ip) {
			return true
		}
		s.authFail.WithLabelValues("peer").Inc()
		return false
	}
	var sc turn.ServerConfig
	if cfg.UDPAddr != "" {
		c, err := net.ListenPacket("udp", cfg.UDPAddr)
		if err != nil {
			return nil, fmt.Errorf("turn udp: %w", err)
		}
		s.udp = c
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{PacketConn: c,
			RelayAddressGenerator: gen(), PermissionHandler: perm})
	}
	addListener := func(l net.Listener) {
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: l,
			RelayAddressGenerator: gen(), PermissionHandler: perm})
	}
	if cfg.TCPAddr != "" {
		l, err := net.Listen("tcp", cfg.TCPAddr)
		if err != nil {
			return nil, fmt.Errorf("turn tcp: %w", err)
		}
		s.tcp = l
		addListener(l)
	}
	if cfg.TLSAddr != "" {
		if cfg.TLSConfig == nil {
			return nil, errors.New("turn tls: no certificate")
		}
		l, err := tls.Listen("tcp", cfg.TLSAddr, cfg.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("turn tls: %w", err)
		}
		s.tls = l
		addListener(l)
	}
	if cfg.SharedTLS != nil {
		addListener(cfg.SharedTLS)
	}
	if len(sc.PacketConnConfigs)+len(sc.ListenerConfigs) == 0 {
		return nil, errors.New("turnrelay: no listener configured")
	}
	sc.Realm = cfg.Realm
	sc.LoggerFactory = pionlog.Factory{Logger: cfg.Logger}
	sc.AuthHandler = s.auth
	sc.QuotaHandler = s.quota
	sc.EventHandler = turn.EventHandler{
		OnAllocationCreated: func(_, _ net.Addr, _, _, _ string, _ net.Addr, _ int) { s.allocations.Inc() },
		OnAllocationDeleted: func(_, _ net.Addr, _, userID, _ string) {
			s.allocations.Dec()
			s.mu.Lock()
			if s.used[userID]--; s.used[userID] <= 0 {
				delete(s.used, userID)
			}
			s.mu.Unlock()
		},
	}
	srv, err := turn.NewServer(sc)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	ok = true
	return s, nil
}

// auth checks a request's credential: the HMAC always, the expiry for a
// new allocation. (Refreshes, permissions and channel binds act only on
// the allocation of the requester's own 5-tuple, opened while the
// credential was valid.)
func (s *Server) auth(ra *turn.RequestAttributes) (string, []byte, bool) {
	exp, _, ok := strings.Cut(ra.Username, ":")
	t, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil {
		s.authFail.WithLabelValues("bad_credential").Inc()
		return "", nil, false
	}
	if ra.Method == stun.MethodAllocate && t < s.cfg.Now().Unix() {
		s.authFail.WithLabelValues("expired").Inc()
		s.cfg.Logger.Info("turn: expired credential refused", "src", ra.SrcAddr.String())
		return "", nil, false
	}
	return ra.Username, turn.GenerateAuthKey(ra.Username, ra.Realm, password(s.cfg.Secret, ra.Username)), true
}

func (s *Server) quota(user, _ string, _ net.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[user] >= s.cfg.MaxAllocationsPerPeer {
		s.authFail.WithLabelValues("quota").Inc()
		return false
	}
	s.used[user]++
	return true
}

// UDPAddr, TCPAddr and TLSAddr are the listeners' addresses (nil if off).
func (s *Server) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

func (s *Server) TCPAddr() net.Addr { return lnAddr(s.tcp) }
func (s *Server) TLSAddr() net.Addr { return lnAddr(s.tls) }

func lnAddr(l net.Listener) net.Addr {
	if l == nil {
		return nil
	}
	return l.Addr()
}

// Allocations is the number of relays open now.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

func (s *Server) closeListeners() {
	if s.udp != nil {
		_ = s.udp.Close()
	}
	for _, l := range []net.Listener{s.tcp, s.tls} {
		if l != nil {
			_ = l.Close()
		}
	}
}

// Close ends every allocation and closes the listeners.
func (s *Server) Close() error {
	if s.srv != nil {
		return s.srv.Close()
	}
	s.closeListeners()
	return nil
}
