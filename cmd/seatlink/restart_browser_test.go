package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/internal/browsertest"
)

// The pupil's page across a server killed and restarted: it rejoins by
// itself, the picture plays again, and the page says "You're in class"
// again (its state follows the media, whatever order events come in).
func TestBrowserPageAfterServerRestart(t *testing.T) {
	ctx, _ := browsertest.New(t)
	bin, dbPath, _, cred, token := serverWorld(t)
	addr := freePort(t)
	base := "http://" + addr
	server := startServer(t, bin, dbPath, addr)
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	startRobot(t, &app{cfg: configForURL(base)}, testLink{RobotToken: cred}, nil)

	state := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink ? window.seatlink.state() : ''`))
		return s
	}
	frames := func() float64 {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => { const v = document.getElementById('classroom');
			return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0; })()`))
		return n
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/join#"+token)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "in class before the crash", func() bool { return state() == "in_class" })

	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = server.Wait()
	waitFor(t, 10*time.Second, "the page to notice", func() bool { return state() == "reconnecting" })
	said := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('state-text').textContent`))
		return s
	}
	// While the server is away the pupil is told the class is coming
	// back, never that it has ended.
	if got := said(); got != "Getting your class back…" {
		t.Errorf("server down: the page says %q", got)
	}
	for _, v := range browsertest.Axe(ctx, t) {
		t.Errorf("reconnecting: %s", v)
	}
	server = startServer(t, bin, dbPath, addr)
	before := frames()
	waitFor(t, 40*time.Second, "the picture again after the restart", func() bool { return frames() > before+30 })
	waitFor(t, 5*time.Second, "the page to say it is in class again", func() bool { return state() == "in_class" })

	// A graceful restart (an update), with the page in Welsh: the server
	// says it is stopping, and the page says the class will be back in a
	// moment.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/join?lang=cy")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "in class in Welsh", func() bool { return state() == "in_class" })
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the page to say the class is coming back", func() bool {
		return said() == "Bydd eich dosbarth yn ôl mewn eiliad." || said() == "Wrthi'n cael eich dosbarth yn ôl…"
	})
	if s := state(); s != "reconnecting" {
		t.Errorf("during a graceful restart the page is %q", s)
	}
	for _, v := range browsertest.Axe(ctx, t) {
		t.Errorf("reconnecting, Welsh: %s", v)
	}
	_ = server.Wait()
	server = startServer(t, bin, dbPath, addr)
	waitFor(t, 40*time.Second, "in class after the graceful restart", func() bool { return state() == "in_class" })
}
