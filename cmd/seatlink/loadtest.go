package main

import (
	"context"
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
	metrics := fs.String("metrics", "", "the server's Prometheus metrics URL, from its --metrics-addr (loopback only; forwarded rates, NACKs)")
	email := fs.String("admin-email", os.Getenv("SEATLINK_LOADTEST_ADMIN_EMAIL"), "an LA admin's email (creates the links; env SEATLINK_LOADTEST_ADMIN_EMAIL)")
	password := fs.String("admin-password", "", "the admin's password (prefer env SEATLINK_LOADTEST_ADMIN_PASSWORD)")
	var lf sim.LoadFlags
	lf.Register(fs, stderr)
	cpuProfile := fs.String("cpuprofile", "", "write the load test's own CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		*password = os.Getenv("SEATLINK_LOADTEST_ADMIN_PASSWORD")
	}
	if err := lf.Check(); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return errors.New("an LA admin's --admin-email and SEATLINK_LOADTEST_ADMIN_PASSWORD are needed to create the links (serve --demo prints one)")
	}
	if err := sim.LoopbackOnly(*server); err != nil {
		return err
	}
	if *metrics != "" {
		if err := sim.LoopbackOnly(*metrics); err != nil {
			return err
		}
	}
	start := time.Now()
	creds, err := sim.Provision(ctx, *server, *email, *password, lf.Links, func(done int) {
		fmt.Fprintf(stderr, "\rcreating links %s %d/%d", sim.Bar(float64(done)/float64(lf.Links)), done, lf.Links)
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
	cfg := lf.Config(*server, creds)
	cfg.Metrics = *metrics
	rep, err := sim.Load(ctx, cfg)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	return rep.Finish(stdout, lf.JSON)
}
