package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"seatlink/casework"
	"seatlink/devices"
	"seatlink/devices/sim"
	"seatlink/engagement"
	"seatlink/internal/config"
	"seatlink/internal/mail"
	"seatlink/internal/store"
	"seatlink/internal/webtls"
	"seatlink/materials"
	"seatlink/media"
	"seatlink/media/turnrelay"
	"seatlink/people"
	"seatlink/plans"
	"seatlink/signaling"
	"seatlink/web"
)

func serveCmd(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, _, err := config.LoadServe(args, os.Environ())
	if err != nil {
		return err
	}
	log := cfg.Logger()
	a, err := startApp(cfg, log)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := a.startDemo(stdout); err != nil {
			a.stop(context.Background())
			return err
		}
	}
	log.Info("ready", "http", a.httpAddr().String(), "media_udp", a.sfu.UDPAddr().String(),
		"media_tcp", addrString(a.sfu.TCPAddr()))
	select {
	case <-ctx.Done():
		log.Info("stopping: draining sessions (signal again to force)", "grace", cfg.ShutdownGrace.String())
	case err := <-a.serveErr:
		log.Error("HTTP server failed", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	a.stop(sctx)
	log.Info("stopped")
	return nil
}

func checkConfigCmd(args []string, stdout io.Writer) error {
	cfg, _, err := config.LoadServe(args, os.Environ())
	if err != nil {
		return err
	}
	web := "http " + cfg.HTTPAddr
	if cfg.TLSEnabled() {
		web = "https " + cfg.HTTPAddr
	}
	turn := "off"
	if cfg.TURNEnabled() {
		turn = strings.TrimSpace(strings.Join([]string{labelled("udp", cfg.TURNUDPAddr), labelled("tcp", cfg.TURNTCPAddr),
			labelled("tls", cfg.TURNTLSAddr)}, " "))
	}
	fmt.Fprintf(stdout, "configuration is valid: %s, media udp %s, media tcp %s, turn %s\n",
		web, cfg.MediaUDPAddr, cfg.MediaTCPAddr, turn)
	return nil
}

func labelled(label, addr string) string {
	if addr == "" {
		return ""
	}
	return label + " " + addr
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// app is the wired server: the constructor graph, written by hand.
type app struct {
	cfg      config.Serve
	log      *slog.Logger
	reg      *prometheus.Registry
	db       *store.DB
	people   *people.Store
	sfu      *media.SFU
	links    *devices.Links
	devices  *devices.Registry
	hub      *devices.Hub
	recorder *engagement.Recorder
	// reports computes the measures; its caseload shows plans' flags.
	reports *engagement.Reports
	plans   *plans.Store
	// casework: key adults, messages, check-ins; mail tells people of
	// new messages when --smtp-addr is set.
	casework *casework.Store
	mailer   *mail.Mailer
	mailStop context.CancelFunc
	// materials keeps lesson material in dirStore (the default) or S3.
	materials *materials.Library
	pprofSrv  *http.Server
	// metricsSrv serves /metrics on --metrics-addr (never the public port).
	metricsSrv *http.Server
	metricsLn  net.Listener
	dirStore   *materials.DirStore
	tmpDir     string

	housekeeping     chan struct{}
	housekeepingDone chan struct{}
	sig              *signaling.Server
	ln               net.Listener
	// tls is nil on plain HTTP; front sorts the public port's
	// connections; redirects serve plain HTTP's redirects to HTTPS.
	tls       *webtls.Setup
	front     *webtls.Front
	redirects []*http.Server
	// selfSignedPEM is where a generated certificate is kept.
	selfSignedPEM string
	turn          *turnrelay.Server
	http          *http.Server
	serveErr      chan error

	demoMu     sync.Mutex
	demoCancel context.CancelFunc
	demoDone   chan struct{}
	demoRobot  *sim.Robot
	demo       demoWorld
}

// startApp opens the database (migrating it) and every listener (HTTP,
// media UDP, ICE-TCP) and starts serving; readiness is reported only once
// all are open.
func startApp(cfg config.Serve, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry(), serveErr: make(chan error, 1)}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ok := false
	defer func() {
		if !ok {
			a.closeResources()
		}
	}()
	if err := a.openDatabase(); err != nil {
		return nil, err
	}
	a.people = people.New(a.db, people.Config{Logger: log.With("component", "people")})
	a.people.OnErase(func(ctx context.Context, q store.Q, pupilID string) error {
		if a.recorder != nil {
			a.recorder.Forget(pupilID) // a live session's late events too
		}
		return engagement.ErasePupil(ctx, q, pupilID)
	})
	a.links = devices.NewLinks(a.db)
	a.devices = devices.NewRegistry(a.db, a.people, nil)
	a.hub = devices.NewHub(a.devices, cfg.HeartbeatInterval, devices.NewHubMetrics(a.reg), log.With("component", "devices"))
	a.recorder = engagement.NewRecorder(a.db, 0, log.With("component", "engagement"))
	a.hub.SleepHook = func(pupil, device string, asleep bool, at time.Time) {
		kind := engagement.RobotAwake
		if asleep {
			kind = engagement.RobotAsleep
		}
		a.recorder.Record(engagement.Event{At: at, PupilID: pupil, LinkID: device, Kind: kind})
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen HTTP: %w", err)
	}
	a.ln = ln
	if err := a.setupTLS(); err != nil {
		return nil, err
	}
	mcfg := media.Config{
		UDPAddr: cfg.MediaUDPAddr, PublicIPs: cfg.PublicIPs,
		Logger: log.With("component", "media"), Metrics: media.NewMetrics(a.reg),
		Events: mediaEvents{a.recorder},
	}
	if cfg.TCPEnabled() {
		mcfg.TCPAddr = cfg.MediaTCPAddr
	}
	if err := a.setupTURN(&mcfg); err != nil {
		return nil, err
	}
	sfu, err := media.New(mcfg)
	if err != nil {
		return nil, err
	}
	a.sfu = sfu
	a.reports = engagement.NewReports(a.db, a.people)
	a.plans = plans.New(a.db, a.people, a.reports)
	a.reports.Plans = a.plans // the caseload's plan column
	if err := a.openMaterials(); err != nil {
		return nil, err
	}
	publicURL := cfg.PublicURL
	if publicURL == "" && a.tls != nil {
		publicURL = a.baseURL()
	}
	if err := a.setupMail(); err != nil {
		return nil, err
	}
	var notices casework.Notifier
	if a.mailer != nil {
		notices = mailNotices{mailer: a.mailer, base: a.baseURL}
	}
	a.casework = casework.New(a.db, a.people, notices, log.With("component", "casework"))
	a.reports.KeyAdults = a.casework // the caseload's key adult column
	a.sig = signaling.New(signaling.Config{PublicURL: publicURL, SecureCookies: cfg.SecureCookies || a.tls != nil,
		HSTS: a.tls != nil}, signaling.Deps{
		SFU: sfu, Links: a.links, People: a.people, Devices: a.devices, Hub: a.hub, Web: web.Static(), Gatherer: a.reg, Registerer: a.reg,
		Timetables: engagement.NewTimetables(a.db, a.people), Registers: engagement.NewRegisters(a.db, a.people),
		Reports: a.reports, Plans: a.plans, Materials: a.materials, Casework: a.casework,
		Logger: log.With("component", "signaling"),
	})
	if a.dirStore != nil {
		a.dirStore.SetBase(a.baseURL())
	}
	// Headers within 10 s; an idle keep-alive connection is closed after
	// 2 minutes; bodies have a progress-based deadline (signaling).
	a.http = &http.Server{Handler: a.sig.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := a.http.Serve(a.front.HTTP()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- err
		}
	}()
	if err := a.serveRedirects(); err != nil {
		return nil, err
	}
	go a.front.Run()
	if cfg.PprofAddr != "" {
		if err := a.servePprof(cfg.PprofAddr); err != nil {
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", a.sig.MetricsHandler())
		a.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		a.metricsLn = ln
		go func() { _ = a.metricsSrv.Serve(ln) }()
		a.log.Info("metrics", "addr", ln.Addr().String())
	}
	a.sig.SetReady(true)
	a.housekeeping = make(chan struct{})
	a.housekeepingDone = make(chan struct{})
	go a.keepHouse()
	ok = true
	return a, nil
}

// keepHouse, hourly: removes material objects without records, expired
// sessions, and telemetry older than the configured days.
func (a *app) keepHouse() {
	defer close(a.housekeepingDone)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		keep := time.Duration(a.cfg.TelemetryDays) * 24 * time.Hour
		if n, err := a.materials.Sweep(context.Background(), time.Hour); err != nil {
			a.log.Warn("material sweep", "err", err)
		} else if n > 0 {
			a.log.Info("material sweep: objects without records removed", "objects", n)
		}
		if n, err := a.people.SweepSessions(context.Background()); err != nil {
			a.log.Warn("session sweep", "err", err)
		} else if n > 0 {
			a.log.Info("expired sessions removed", "sessions", n)
		}
		if n, err := a.devices.PruneTelemetry(context.Background(), keep); err != nil {
			a.log.Warn("telemetry pruning", "err", err)
		} else if n > 0 {
			a.log.Info("telemetry pruned", "rows", n)
		}
		select {
		case <-a.housekeeping:
			return
		case <-t.C:
		}
	}
}

// openDatabase opens and migrates the configured database; with --demo
// and no database configured, a fresh temporary one.
func (a *app) openDatabase() error {
	url := a.cfg.DatabaseURL
	if url == "" && a.cfg.Demo {
		dir, err := os.MkdirTemp("", "seatlink-demo-")
		if err != nil {
			return err
		}
		a.tmpDir = dir
		url = filepath.Join(dir, "demo.db")
	} else if url == "" {
		url = filepath.Join(a.cfg.DataDir, "seatlink.db")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	a.db = db
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	a.log.Info("database ready", "dialect", db.Dialect.String())
	return nil
}

// servePprof serves Go's profiler on its own loopback listener (checked
// by the config), apart from the API: for profiling under a load test.
func (a *app) servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a.pprofSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.pprofSrv.Serve(ln) }()
	a.log.Info("profiler", "addr", ln.Addr().String())
	return nil
}

// openMaterials opens the object store for lesson material: MinIO/S3 if
// an endpoint is configured, else a folder in the data directory (the
// demo's temporary folder with --demo).
func (a *app) openMaterials() error {
	var os materials.ObjectStore
	if a.cfg.S3Endpoint != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s3, err := materials.NewS3Store(ctx, materials.S3Config{Endpoint: a.cfg.S3Endpoint, AccessKey: a.cfg.S3AccessKey,
			SecretKey: a.cfg.S3SecretKey, Bucket: a.cfg.S3Bucket, Secure: a.cfg.S3Secure, Region: a.cfg.S3Region})
		if err != nil {
			return err
		}
		os = s3
		a.log.Info("lesson material in S3", "endpoint", a.cfg.S3Endpoint, "bucket", a.cfg.S3Bucket)
	} else {
		dir := filepath.Join(a.cfg.DataDir, "materials")
		if a.tmpDir != "" {
			dir = filepath.Join(a.tmpDir, "materials")
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		ds, err := materials.NewDirStore(dir, "", secret)
		if err != nil {
			return err
		}
		a.dirStore, os = ds, ds
		a.log.Info("lesson material in a local folder", "dir", dir)
	}
	a.materials = materials.NewLibrary(a.db, a.people, a.reports, os)
	a.materials.MaxSize = int64(a.cfg.MaterialMaxMB) << 20
	return nil
}

// mediaEvents hands the SFU's pupil events to the engagement recorder.
type mediaEvents struct{ r *engagement.Recorder }

func (m mediaEvents) MediaEvent(e media.Event) {
	m.r.Record(engagement.Event{At: e.At, PupilID: e.Subject, LinkID: e.Link, Kind: e.Kind, Value: e.Value})
}

// metricsURL is where --metrics-addr serves /metrics ("" if off).
func (a *app) metricsURL() string {
	if a.metricsLn == nil {
		return ""
	}
	return "http://" + a.metricsLn.Addr().String() + "/metrics"
}

// closeResources closes what startApp opened, after a partial start too.
func (a *app) closeResources() {
	if a.turn != nil {
		_ = a.turn.Close()
	}
	if a.front != nil {
		_ = a.front.Close()
	}
	if a.sfu != nil {
		_ = a.sfu.Close()
	}
	if a.recorder != nil {
		a.recorder.Close() // after the SFU: its last events are the sessions ending
	}
	a.stopMail()
	if a.ln != nil && a.http == nil {
		_ = a.ln.Close()
	}
	if a.db != nil {
		_ = a.db.Close()
	}
	if a.tmpDir != "" {
		_ = os.RemoveAll(a.tmpDir)
	}
}

func (a *app) httpAddr() net.Addr { return a.ln.Addr() }

// baseURL is where people reach this server: --public-url, or this
// server's own address (https:// when it terminates TLS; the ACME name;
// a LAN address when listening on all of them).
func (a *app) baseURL() string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/")
	}
	host, port, _ := net.SplitHostPort(a.httpAddr().String())
	if len(a.cfg.ACMEDomains) > 0 {
		host = a.cfg.ACMEDomains[0]
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if lan := webtls.LocalIPs(); len(lan) > 0 {
			host = lan[0]
		}
	}
	if a.tls == nil {
		return "http://" + net.JoinHostPort(host, port)
	}
	if port == "443" {
		return "https://" + hostForURL(host)
	}
	return "https://" + net.JoinHostPort(host, port)
}

// hostForURL brackets an IPv6 address.
func hostForURL(h string) string {
	if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
		return "[" + h + "]"
	}
	return h
}

// stop drains in stages: not ready, the demo robot leaves, peers are
// closed (each client is told the server is stopping), sessions end, then
// the HTTP server shuts down within what is left of ctx.
func (a *app) stop(ctx context.Context) {
	a.sig.SetReady(false)
	a.demoMu.Lock()
	cancel, done := a.demoCancel, a.demoDone
	a.demoMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if a.housekeeping != nil {
		close(a.housekeeping)
		<-a.housekeepingDone
	}
	a.hub.Close()
	_ = a.sfu.Close()
	a.recorder.Flush()
	if err := a.sig.Drain(ctx); err != nil {
		a.log.Warn("drain", "err", err)
	}
	if a.metricsSrv != nil {
		_ = a.metricsSrv.Close()
	}
	if a.pprofSrv != nil {
		_ = a.pprofSrv.Close()
	}
	if err := a.http.Shutdown(ctx); err != nil {
		_ = a.http.Close()
	}
	for _, r := range a.redirects {
		_ = r.Close()
	}
	a.sfu = nil // closed above
	a.closeResources()
}
