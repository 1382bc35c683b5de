package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pion/webrtc/v4"

	"seatlink/devices/sim"
)

// robotFlags are the flags every robot command shares: the server, the
// credential or enrollment code and where it is kept, a time bound and
// the log level.
type robotFlags struct {
	server, token, enroll, state, level, caFile *string
	duration                                    *time.Duration
}

func newRobotFlags(fs *flag.FlagSet, stateFile string) robotFlags {
	return robotFlags{
		server:   fs.String("server", "http://127.0.0.1:8080", "the Seatlink server's base URL"),
		token:    fs.String("token", os.Getenv("SEATLINK_ROBOT_TOKEN"), "the robot's device credential (or SEATLINK_ROBOT_TOKEN)"),
		enroll:   fs.String("enroll", "", "an enrollment code from the admin page, exchanged for a credential on first start"),
		state:    fs.String("state", "seatlink-data/"+stateFile, "where the credential is kept between runs"),
		duration: fs.Duration("duration", 0, "stop after this long (0: run until interrupted)"),
		level:    fs.String("log-level", "info", "debug, info, warn or error"),
		caFile:   fs.String("ca-file", "", "PEM certificates to trust for the server (an LA's own CA, or a demo's self-signed certificate)"),
	}
}

// tls is the TLS configuration -ca-file asks for (nil: system roots).
func (f robotFlags) tls() (*tls.Config, error) {
	if *f.caFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(*f.caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("-ca-file %s: no PEM certificate in it", *f.caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// start checks that the robot can have a credential and returns its
// logger and context (bounded by -duration).
func (f robotFlags) start(ctx context.Context) (context.Context, context.CancelFunc, *slog.Logger, error) {
	if *f.token == "" && *f.enroll == "" {
		if _, err := os.Stat(*f.state); err != nil {
			return nil, nil, nil, errors.New("enroll the robot first: -enroll CODE (from the admin page), or give -token CREDENTIAL")
		}
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*f.level)); err != nil {
		return nil, nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	if *f.duration > 0 {
		ctx, cancel := context.WithTimeout(ctx, *f.duration)
		return ctx, cancel, log, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	return ctx, cancel, log, nil
}

func deviceSimCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("device-sim", flag.ContinueOnError)
	rf := newRobotFlags(fs, "device-sim.json")
	flat := fs.Bool("flat-battery", false, "start with a nearly flat battery")
	flaky := fs.Bool("flaky", false, "drop the control channel every 20 to 40 seconds")
	tcp := fs.Bool("tcp", false, "use ICE-TCP only (as behind a firewall that blocks UDP)")
	report := fs.Duration("report", 5*time.Second, "how often to log the level of the pupil's audio")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel, log, err := rf.start(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	tlsConf, err := rf.tls()
	if err != nil {
		return err
	}
	cfg := sim.Config{Server: *rf.server, TLS: tlsConf, Token: *rf.token, EnrollCode: *rf.enroll, StatePath: *rf.state, FlatBattery: *flat,
		Flaky: *flaky, ReportEvery: *report, Logger: log}
	if *tcp {
		cfg.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6}
	}
	robot, err := sim.New(cfg)
	if err != nil {
		return err
	}
	log.Info("device-sim starting", "server", *rf.server)
	err = robot.Run(ctx)
	st := robot.Stats()
	log.Info("device-sim stopped", "commands", st.Commands, "pupil_audio_packets", st.PupilAudioPackets, "plis", st.PLIs)
	return err
}
