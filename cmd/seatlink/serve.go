package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"seatlink/devices"
	"seatlink/devices/sim"
	"seatlink/internal/config"
	"seatlink/media"
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
	fmt.Fprintf(stdout, "configuration is valid: http %s, media udp %s, media tcp %s\n",
		cfg.HTTPAddr, cfg.MediaUDPAddr, cfg.MediaTCPAddr)
	return nil
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
	sfu      *media.SFU
	links    *devices.Links
	sig      *signaling.Server
	ln       net.Listener
	http     *http.Server
	serveErr chan error

	demoMu     sync.Mutex
	demoCancel context.CancelFunc
	demoDone   chan struct{}
	demoRobot  *sim.Robot
	demoLink   devices.Link
}

// startApp opens every listener (HTTP, media UDP, ICE-TCP) and starts
// serving; readiness is reported only once all are open.
func startApp(cfg config.Serve, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry(), links: devices.NewLinks(),
		serveErr: make(chan error, 1)}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mcfg := media.Config{
		UDPAddr: cfg.MediaUDPAddr, PublicIPs: cfg.PublicIPs,
		Logger: log.With("component", "media"), Metrics: media.NewMetrics(a.reg),
	}
	if cfg.TCPEnabled() {
		mcfg.TCPAddr = cfg.MediaTCPAddr
	}
	if len(cfg.ICEServers) > 0 {
		mcfg.ICEServers = []webrtc.ICEServer{{URLs: cfg.ICEServers}}
	}
	sfu, err := media.New(mcfg)
	if err != nil {
		return nil, err
	}
	a.sfu = sfu
	a.sig = signaling.New(signaling.Config{}, signaling.Deps{
		SFU: sfu, Links: a.links, Web: web.Static(), Gatherer: a.reg, Logger: log.With("component", "signaling"),
	})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		_ = sfu.Close()
		return nil, fmt.Errorf("listen HTTP: %w", err)
	}
	a.ln = ln
	a.http = &http.Server{Handler: a.sig.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- err
		}
	}()
	a.sig.SetReady(true)
	return a, nil
}

func (a *app) httpAddr() net.Addr { return a.ln.Addr() }

// baseURL is where people reach this server.
func (a *app) baseURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	return "http://" + a.httpAddr().String()
}

// startDemo creates a demo link, starts a simulated robot on it in this
// process, and prints the pupil's join link.
func (a *app) startDemo(stdout io.Writer) error {
	link, err := a.links.Create()
	if err != nil {
		return err
	}
	a.demoLink = link
	fmt.Fprintf(stdout, "pupil join link: %s/join#%s\n", a.baseURL(), link.PupilToken)
	if !a.cfg.DemoRobot {
		fmt.Fprintf(stdout, "robot token: %s\n", link.RobotToken)
		return nil
	}
	robot, err := sim.New(sim.Config{Server: "http://" + a.httpAddr().String(), Token: link.RobotToken,
		Logger: a.log.With("component", "demo")})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.demoMu.Lock()
	a.demoRobot, a.demoCancel, a.demoDone = robot, cancel, done
	a.demoMu.Unlock()
	go func() {
		defer close(done)
		if err := robot.Run(ctx); err != nil {
			a.log.Error("demo robot stopped", "err", err)
		}
	}()
	return nil
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
	_ = a.sfu.Close()
	if err := a.sig.Drain(ctx); err != nil {
		a.log.Warn("drain", "err", err)
	}
	if err := a.http.Shutdown(ctx); err != nil {
		_ = a.http.Close()
	}
}
