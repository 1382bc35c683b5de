package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/internal/config"
	"seatlink/internal/store"
	"seatlink/people"
)

// buildSeatlink builds the command once per test binary run.
func buildSeatlink(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "seatlink")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServer runs `seatlink serve` and waits until it reports ready.
func startServer(t *testing.T, bin, dbPath, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--database-url", dbPath, "--http-addr", addr, "--media-udp", "127.0.0.1:0",
		"--media-tcp", "off", "--log-level", "info", "--heartbeat-interval", "1s", "--data-dir", filepath.Join(filepath.Dir(dbPath), "data"))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready, exited := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var lines []string // the last lines, to say why if it never gets ready
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		closed := false
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			if len(lines) > 40 {
				lines = lines[1:]
			}
			mu.Unlock()
			if !closed && strings.Contains(sc.Text(), "msg=ready") {
				close(ready)
				closed = true
			}
			if os.Getenv("SEATLINK_TEST_LOG") != "" {
				t.Log(sc.Text())
			}
		}
	}()
	fail := func(why string) {
		_ = cmd.Process.Kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("server %s; its last log lines:\n%s", why, strings.Join(lines, "\n"))
	}
	// A later failure (no video after a restart) shows the server's side.
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("server on %s, its last log lines:\n%s", addr, strings.Join(lines, "\n"))
		}
	})
	select {
	case <-ready:
	case <-exited:
		fail("exited before it was ready")
	case <-time.After(60 * time.Second): // the whole suite runs in parallel under -race
		fail("not ready within 60 s")
	}
	return cmd
}

// serverWorld builds the seatlink binary and, before any server runs, the
// records of a pupil with a robot and a join link, in a SQLite file: for
// tests that run, kill and restart the real server process.
func serverWorld(t *testing.T) (bin, dbPath, pupilID, robotCred, joinToken string) {
	t.Helper()
	bin = buildSeatlink(t)
	dbPath = filepath.Join(t.TempDir(), "seatlink.db")
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ps := people.New(db, people.Config{})
	la, _ := ps.CreateLA(ctx, people.System, "Server LA")
	sys := people.System
	sys.LAID = la.ID
	school, _ := ps.CreateSchool(ctx, sys, la.ID, "School")
	year := 5
	pupil, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "C1", DisplayName: "C", YearGroup: &year})
	if err != nil {
		t.Fatal(err)
	}
	_, robotCred, err = devices.NewRegistry(db, ps, nil).ProvisionRobot(ctx, sys, "Robot", school.ID, "", pupil.ID)
	if err != nil {
		t.Fatal(err)
	}
	jl, err := ps.IssueJoinLink(ctx, sys, pupil.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return bin, dbPath, pupil.ID, robotCred, jl.Token
}

// A server killed with SIGKILL mid-session and restarted: the engagement
// intervals close at the last evidence of media before the kill (never
// later), the session after the restart is counted, and no time is
// counted twice.
func TestServerKilledMidSession(t *testing.T) {
	ctx := context.Background()
	bin, dbPath, pupilID, cred, token := serverWorld(t)
	addr := freePort(t)
	base := "http://" + addr
	server := startServer(t, bin, dbPath, addr)
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()

	fake := &app{cfg: configForURL(base)} // the helpers' view of the server process
	robot := startRobot(t, fake, testLink{RobotToken: cred}, nil)
	p1 := joinPupil(t, fake, testLink{PupilToken: token}, nil)
	waitFor(t, 20*time.Second, "video before the crash", func() bool { return p1.videoFrames.Load() > 30 })
	time.Sleep(7 * time.Second) // at least one media_alive

	// kill -9.
	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = server.Wait()
	killed := time.Now()
	time.Sleep(2 * time.Second)

	// Restart on the same database; the robot rejoins by itself, the
	// pupil's page would rejoin too.
	server = startServer(t, bin, dbPath, addr)
	restarted := time.Now()
	waitFor(t, 20*time.Second, "the robot back", func() bool { return robot.Stats().Connects >= 2 })
	p2 := joinPupil(t, fake, testLink{PupilToken: token}, nil)
	waitFor(t, 20*time.Second, "video after the restart", func() bool { return p2.videoFrames.Load() > 30 })
	time.Sleep(2 * time.Second)
	_ = p2.Close()
	time.Sleep(2 * time.Second) // media_stopped and session_down recorded
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = server.Wait()
	ended := time.Now()

	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, err := engagement.Events(ctx, db, pupilID, killed.Add(-time.Hour), ended.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	conn := engagement.Connected(evs)
	if len(conn) != 2 {
		for _, e := range evs {
			t.Logf("%s %s", e.At.Format("15:04:05.000"), e.Kind)
		}
		t.Fatalf("connected intervals %v, want one before the crash and one after", conn)
	}
	before, after := conn[0], conn[1]
	if before.To.After(killed) {
		t.Errorf("the interval before the crash ends at %s, after the kill at %s", before.To, killed)
	}
	if killed.Sub(before.To) > 6*time.Second {
		t.Errorf("the interval before the crash ends %s before the kill: evidence was lost", killed.Sub(before.To))
	}
	if after.From.Before(restarted) || after.To.After(ended) {
		t.Errorf("the interval after the restart %v lies outside %s..%s", after, restarted, ended)
	}
	if total := engagement.Total(conn); total > ended.Sub(before.From)-killed.Sub(before.To) {
		t.Errorf("total %s counts time twice", total)
	}
	t.Logf("before the crash: %s (ends %s before the kill); after the restart: %s", before.Duration().Round(time.Millisecond),
		killed.Sub(before.To).Round(time.Millisecond), after.Duration().Round(time.Millisecond))
}

// configForURL lets test clients built for an in-process app talk to a
// server in another process.
func configForURL(base string) config.Serve {
	c := config.Defaults()
	c.PublicURL = base
	return c
}
