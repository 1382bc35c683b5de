// Package signaling is Seatlink's Gin control plane: health, readiness and
// metrics endpoints, the pupil's web page, and WebSocket signaling that
// translates client messages into calls on the SFU (package media). No
// media or domain logic lives here.
package signaling

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"seatlink/casework"
	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/materials"
	"seatlink/media"
	"seatlink/people"
	"seatlink/plans"
)

// LinkResolver finds the link a robot token admits, or a pupil's link.
type LinkResolver interface {
	ResolveRobot(ctx context.Context, token string) (link string, err error)
	ForPupil(ctx context.Context, pupilID string) (link string, err error)
}

// Config configures the signaling server.
type Config struct {
	// JoinTimeout is how long a new WebSocket may wait before joining.
	JoinTimeout time.Duration
	// PingInterval is the WebSocket keep-alive; a peer silent for three
	// intervals is dropped.
	PingInterval time.Duration
	// MessageRate and MessageBurst bound client messages per second.
	MessageRate  float64
	MessageBurst int
	// PublicURL is the base of links the API hands out (join links,
	// invitations); default: the request's host.
	PublicURL string
	// SecureCookies marks cookies Secure even without TLS here (behind a
	// TLS-terminating proxy).
	SecureCookies bool
	// HSTS sends Strict-Transport-Security (serve terminates TLS).
	HSTS bool
	// BodyGrace and MinBodyRate bound how long a request body may take:
	// the grace (default 30 s) plus a second per MinBodyRate bytes
	// delivered (default 16 KiB).
	BodyGrace   time.Duration
	MinBodyRate int
}

func (c *Config) setDefaults() {
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = 10 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 15 * time.Second
	}
	if c.MessageRate <= 0 {
		c.MessageRate = 40
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 80
	}
	if c.BodyGrace <= 0 {
		c.BodyGrace = 30 * time.Second
	}
	if c.MinBodyRate <= 0 {
		c.MinBodyRate = 16 << 10
	}
}

// Deps are what the server drives.
type Deps struct {
	SFU        *media.SFU
	Links      LinkResolver
	People     *people.Store // records, sessions, permissions (the REST API)
	Devices    *devices.Registry
	Hub        *devices.Hub
	Timetables *engagement.Timetables
	Registers  *engagement.Registers
	Reports    *engagement.Reports
	Plans      *plans.Store
	Materials  *materials.Library
	Casework   *casework.Store
	Web        fs.FS // the embedded UI: join.html and static files
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer // where the server's own counters go (optional)
	Logger     *slog.Logger
}

// Server is the HTTP and WebSocket front of Seatlink.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	upgrader websocket.Upgrader
	engine   *gin.Engine

	ready    atomic.Bool
	stopping chan struct{}
	stopOnce sync.Once
	sessions sync.WaitGroup
	live     liveSessions // joined media sessions, rechecked when access changes
	devConns deviceConns  // open device channels, attached or not
	guesses  guesses      // failed code and token redemptions by source
	whip     whipSessions // live WHIP ingests
	refused  *prometheus.CounterVec
}

// New builds the server. It reports not ready until SetReady(true).
func New(cfg Config, deps Deps) *Server {
	cfg.setDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Logger,
		stopping: make(chan struct{}),
		upgrader: websocket.Upgrader{
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
			// The default CheckOrigin refuses cross-origin browser
			// connections; non-browser clients send no Origin.
		},
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// The client address in logs and the audit log is the connection's:
	// no X-Forwarded-For is believed unless proxies are configured.
	_ = e.SetTrustedProxies(nil)
	e.Use(s.recoverer(), s.accessLog(), securityHeaders(s.cfg.HSTS), s.bodyDeadlines())
	e.HandleMethodNotAllowed = true
	e.NoRoute(func(c *gin.Context) { writeHTTPError(c, http.StatusNotFound, "not_found", "no such page") })
	e.NoMethod(func(c *gin.Context) {
		writeHTTPError(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
	})
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/ws", s.serveWS)
	e.GET("/device/ws", s.serveDeviceWS)
	s.routeWHIP(e)
	s.routeAPI(e)
	s.routeWeb(e)
	s.routeFiles(e)
	s.engine = e
	s.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlink_api_refused_total",
		Help: "API requests refused by the permission check: reason role (the role may never) or scope (another LA's, school's or pupil's record)."},
		[]string{"reason"})
	if deps.Registerer != nil {
		deps.Registerer.MustRegister(s.refused)
	}
	if deps.Links != nil {
		go s.watchAccess()
	}
	return s
}

// Handler is the HTTP handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// MetricsHandler serves the Prometheus metrics. It is never routed on the
// public handler: cmd serves it on a listener of its own (--metrics-addr).
func (s *Server) MetricsHandler() http.Handler {
	if s.deps.Gatherer == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{})
}

// SetReady switches /readyz.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

func (s *Server) readyz(c *gin.Context) {
	if !s.ready.Load() {
		writeHTTPError(c, http.StatusServiceUnavailable, "not_ready", "not ready")
		return
	}
	if s.deps.People != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if s.deps.People.Ping(ctx) != nil { // a node that cannot reach its records takes no traffic
			writeHTTPError(c, http.StatusServiceUnavailable, "store_unavailable", "the records cannot be reached")
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// Drain reports not ready, tells every WebSocket client the server is
// stopping, and waits (until ctx ends) for their sessions to close.
func (s *Server) Drain(ctx context.Context) error {
	s.ready.Store(false)
	s.stopOnce.Do(func() { close(s.stopping) })
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("signaling: sessions still open at the end of the grace period")
	}
}

func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("handler panic", "path", c.FullPath(), "panic", r)
				writeHTTPError(c, http.StatusInternalServerError, "internal", "internal error")
				c.Abort()
			}
		}()
		c.Next()
	}
}

// accessLog logs each request's route pattern, never its query (which may
// carry a token in a later API) or any body.
func (s *Server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.log.Debug("http", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"dur_ms", time.Since(start).Milliseconds())
	}
}

func securityHeaders(hsts bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		if hsts {
			// A year; browsers ignore it on a certificate error or an IP
			// address, so a self-signed LAN demo locks no one out.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; media-src 'self' blob: mediastream:; "+
			"img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "microphone=(self), camera=(self), geolocation=()")
		c.Next()
	}
}

// writeHTTPError is the one place HTTP errors are rendered: a JSON body with
// a stable code.
func writeHTTPError(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": localize(c, code, msg)}})
}
