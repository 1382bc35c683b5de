package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/pion/webrtc/v4"

	"seatlink/devices/sim"
)

func deviceSimCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("device-sim", flag.ContinueOnError)
	server := fs.String("server", "http://127.0.0.1:8080", "the Seatlink server's base URL")
	token := fs.String("token", os.Getenv("SEATLINK_ROBOT_TOKEN"), "the link's robot token (or SEATLINK_ROBOT_TOKEN)")
	tcp := fs.Bool("tcp", false, "use ICE-TCP only (as behind a firewall that blocks UDP)")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until interrupted)")
	report := fs.Duration("report", 5*time.Second, "how often to log the level of the pupil's audio")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("a robot token is needed: -token TOKEN (serve --demo --demo-robot=false prints one)")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg := sim.Config{Server: *server, Token: *token, ReportEvery: *report, Logger: log}
	if *tcp {
		cfg.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6}
	}
	robot, err := sim.New(cfg)
	if err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	log.Info("device-sim starting", "server", *server)
	err = robot.Run(ctx)
	st := robot.Stats()
	log.Info("device-sim stopped", "commands", st.Commands, "pupil_audio_packets", st.PupilAudioPackets, "plis", st.PLIs)
	return err
}
