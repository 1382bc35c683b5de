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
	token := fs.String("token", os.Getenv("SEATLINK_ROBOT_TOKEN"), "the robot's device credential (or SEATLINK_ROBOT_TOKEN)")
	enroll := fs.String("enroll", "", "an enrollment code from the admin page, exchanged for a credential on first start")
	state := fs.String("state", "seatlink-data/device-sim.json", "where the credential is kept between runs")
	flat := fs.Bool("flat-battery", false, "start with a nearly flat battery")
	flaky := fs.Bool("flaky", false, "drop the control channel every 20 to 40 seconds")
	tcp := fs.Bool("tcp", false, "use ICE-TCP only (as behind a firewall that blocks UDP)")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until interrupted)")
	report := fs.Duration("report", 5*time.Second, "how often to log the level of the pupil's audio")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" && *enroll == "" {
		if _, err := os.Stat(*state); err != nil {
			return errors.New("enroll the robot first: -enroll CODE (from the admin page), or give -token CREDENTIAL")
		}
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg := sim.Config{Server: *server, Token: *token, EnrollCode: *enroll, StatePath: *state, FlatBattery: *flat,
		Flaky: *flaky, ReportEvery: *report, Logger: log}
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
