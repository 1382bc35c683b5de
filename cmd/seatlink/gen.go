package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"seatlink/engagement"
	"seatlink/internal/store"
	"seatlink/people"
)

// engagementGenCmd writes a synthetic local authority (schools,
// classrooms, pupils, EWOs with caseloads, timetables, terms, registers
// and engagement events) into a database, for demos and benchmarks.
func engagementGenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("engagement-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", os.Getenv("SEATLINK_DATABASE_URL"),
		"postgres://… or a SQLite file (default seatlink-data/seatlink.db; env SEATLINK_DATABASE_URL)")
	schools := fs.Int("schools", 1, "schools to generate")
	pupils := fs.Int("pupils", 30, "pupils per school")
	weeks := fs.Int("weeks", 0, "school weeks of history, up to the week before --until (0: from 1 September)")
	until := fs.String("until", "", "generate history before the week of this day (YYYY-MM-DD; default today)")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same history)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *schools < 1 || *schools > 500 || *pupils < 1 || *pupils > 10000 || *weeks < 0 || *weeks > 60 {
		return fmt.Errorf("--schools is 1 to 500, --pupils 1 to 10000, --weeks 0 to 60")
	}
	opt := engagement.LAOptions{Schools: *schools, Pupils: *pupils, Password: demoPassword() + "-gen",
		GenOptions: engagement.GenOptions{Weeks: *weeks, Seed: *seed}}
	if *until != "" {
		t, err := time.Parse(time.DateOnly, *until)
		if err != nil {
			return fmt.Errorf("--until: want a day like 2026-11-23")
		}
		opt.Until = t.Add(12 * time.Hour)
	}
	url := *dbURL
	if url == "" {
		url = filepath.Join("seatlink-data", "seatlink.db")
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	ps := people.New(db, people.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	start := time.Now()
	last := time.Time{}
	opt.Progress = func(done, total int) {
		if time.Since(last) < 500*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		fmt.Fprintf(stderr, "\rgenerating: %d/%d pupils (%.0f%%) %s", done, total, 100*float64(done)/float64(total),
			time.Since(start).Round(time.Second))
		if done == total {
			fmt.Fprintln(stderr)
		}
	}
	out, err := engagement.GenerateLA(ctx, db, ps, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"generated": out, "password": opt.Password,
			"seconds": time.Since(start).Seconds()})
	}
	fmt.Fprintf(stdout, "generated %d schools, %d pupils, %d marks, %d engagement events in %s (%s)\n",
		len(out.Schools), out.Pupils, out.Marks, out.Events, time.Since(start).Round(time.Millisecond), db.Dialect)
	fmt.Fprintf(stdout, "admin login: %s %s\n", out.AdminEmail, opt.Password)
	for _, e := range out.EWOEmails {
		fmt.Fprintf(stdout, "ewo login: %s %s\n", e, opt.Password)
	}
	return nil
}
