package main

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/devices"
	"seatlink/devices/sim"
	"seatlink/internal/browsertest"
	"seatlink/internal/store"
	"seatlink/people"
)

// The pupil's page across a server killed and restarted: it rejoins by
// itself, the picture plays again, and the page says "You're in class"
// again (its state follows the media, whatever order events come in).
func TestBrowserPageAfterServerRestart(t *testing.T) {
	ctx, _ := browsertest.New(t)
	bin := buildSeatlink(t)
	dbPath := filepath.Join(t.TempDir(), "seatlink.db")
	bg := context.Background()
	db, err := store.Open(bg, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(bg); err != nil {
		t.Fatal(err)
	}
	ps := people.New(db, people.Config{})
	la, _ := ps.CreateLA(bg, people.System, "Restart LA")
	sys := people.System
	sys.LAID = la.ID
	school, _ := ps.CreateSchool(bg, sys, la.ID, "School")
	year := 5
	pupil, err := ps.CreatePupil(bg, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "R1", DisplayName: "R", YearGroup: &year})
	if err != nil {
		t.Fatal(err)
	}
	_, cred, err := devices.NewRegistry(db, ps, nil).ProvisionRobot(bg, sys, "Robot", school.ID, "", pupil.ID)
	if err != nil {
		t.Fatal(err)
	}
	jl, err := ps.IssueJoinLink(bg, sys, pupil.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	addr := freePort(t)
	base := "http://" + addr
	server := startServer(t, bin, dbPath, addr)
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	robot, err := sim.New(sim.Config{Server: base, Token: cred, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(bg)
	defer cancel()
	go func() { _ = robot.Run(rctx) }()

	state := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink ? window.seatlink.state() : ''`))
		return s
	}
	frames := func() float64 {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const v = document.getElementById('classroom');
			return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0; })()`))
		return n
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/join#"+jl.Token)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "in class before the crash", func() bool { return state() == "in_class" })

	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = server.Wait()
	waitFor(t, 10*time.Second, "the page to notice", func() bool { return state() != "in_class" })
	server = startServer(t, bin, dbPath, addr)
	before := frames()
	waitFor(t, 40*time.Second, "the picture again after the restart", func() bool { return frames() > before+30 })
	waitFor(t, 5*time.Second, "the page to say it is in class again", func() bool { return state() == "in_class" })
}
