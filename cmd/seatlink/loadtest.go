package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"seatlink/devices/sim"
)

// loadtestCmd drives a running server on loopback with synthetic links.
func loadtestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "the server to drive (loopback only)")
	email := fs.String("admin-email", os.Getenv("SEATLINK_LOADTEST_ADMIN_EMAIL"), "an LA admin's email (creates the links; env SEATLINK_LOADTEST_ADMIN_EMAIL)")
	password := fs.String("admin-password", "", "the admin's password (prefer env SEATLINK_LOADTEST_ADMIN_PASSWORD)")
	links := fs.Int("links", 10, "links (robot + pupil) to run, 1 to 500")
	seconds := fs.Float64("seconds", 20, "steady seconds measured after the last join, 1 to 600")
	ramp := fs.Float64("ramp", 10, "joins per second")
	bitrate := fs.Int("bitrate", 1_500_000, "robot video bitrate, bit/s")
	fps := fs.Int("fps", 30, "robot video frames per second")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write the load test's own CPU profile of the run to this file")
	pid := fs.Int("server-pid", 0, "the server's process id, to read its CPU and memory from /proc (else from /metrics)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		*password = os.Getenv("SEATLINK_LOADTEST_ADMIN_PASSWORD")
	}
	if *links < 1 || *links > 500 || *seconds < 1 || *seconds > 600 || *ramp <= 0 || *ramp > 200 ||
		*bitrate < 50_000 || *bitrate > 20_000_000 || *fps < 1 || *fps > 60 {
		return errors.New("--links 1 to 500, --seconds 1 to 600, --ramp up to 200/s, --bitrate 50k to 20M, --fps 1 to 60")
	}
	if *email == "" || *password == "" {
		return errors.New("an LA admin's --admin-email and SEATLINK_LOADTEST_ADMIN_PASSWORD are needed to create the links (serve --demo prints one)")
	}
	if err := sim.LoopbackOnly(*server); err != nil {
		return err
	}
	start := time.Now()
	creds, err := sim.Provision(ctx, *server, *email, *password, *links, func(done int) {
		fmt.Fprintf(stderr, "\rcreating links %s %d/%d", sim.Bar(float64(done)/float64(*links)), done, *links)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created %d links in %s\n", len(creds), time.Since(start).Round(time.Millisecond))
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := sim.Load(ctx, sim.LoadConfig{Server: *server, Links: creds, Duration: time.Duration(*seconds * float64(time.Second)),
		RampPerSec: *ramp, VideoBitrate: *bitrate, FPS: *fps, ServerPID: *pid,
		Progress: func(p sim.LoadProgress) {
			fmt.Fprint(stderr, p)
		}})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	rep.WriteSummary(stdout)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if rep.LinksFailed > 0 {
		return fmt.Errorf("%d of %d links never got media", rep.LinksFailed, rep.Links)
	}
	return nil
}
