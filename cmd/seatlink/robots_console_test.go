package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/devices/sim"
	"seatlink/internal/browsertest"
	"seatlink/people"
)

// The teacher console, end to end: an admin adds a robot on the admin page
// and a device-sim enrolls with the code shown there; the admin lends,
// places and pairs it; the classroom's teacher sees it come online, presses
// Sleep, and sees it report asleep while its media stop reaching the pupil.
func TestBrowserTeacherConsoleRobots(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	w := newDeviceWorld(t, a)
	const pw = "console admin password"
	if _, err := a.people.CreateStaff(bg, w.sys, people.StaffInput{Role: people.RoleAdmin, Email: "admin@robots.test", Name: "Ada",
		Password: pw}); err != nil {
		t.Fatal(err)
	}
	teacherEmail := "school-a@t.test"

	text := func(sel string) string {
		s, _ := chromedp.Run(ctx, chromedp.Text(sel))
		return s
	}
	waitText := func(sel, want string) {
		t.Helper()
		waitFor(t, 15*time.Second, sel+" to say "+want, func() bool { return strings.Contains(text(sel), want) })
	}
	signIn := func(email, password string) {
		t.Helper()
		if err := browsertest.Do(ctx, 30*time.Second, chromedp.Navigate(a.baseURL()+"/staff"), chromedp.WaitVisible("#signin-form"),
			chromedp.SetValue("#signin-form [name=email]", email), chromedp.SetValue("#signin-form [name=password]", password),
			chromedp.Click("#signin-form button"), chromedp.WaitVisible("#pupils"),
			// The page has loaded all it loads: a click now lands where it is
			// aimed (under load, sections appearing late moved the buttons).
			chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
			t.Fatal(err)
		}
	}

	signIn("admin@robots.test", pw)
	if err := chromedp.Do(ctx, chromedp.SetValue("#device-form [name=name]", "Robot B"), chromedp.Click("#device-form button"),
		chromedp.WaitVisible("#enroll-code")); err != nil {
		t.Fatal(err)
	}
	code := text("#enroll-code")
	if len(code) != 9 {
		t.Fatalf("enrollment code on the page: %q", code)
	}
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById('enroll-qr').naturalWidth`)); w < 100 {
		t.Fatalf("the QR code did not render (width %v)", w)
	}
	robot, err := sim.New(sim.Config{Server: a.baseURL(), EnrollCode: code, StatePath: filepath.Join(t.TempDir(), "r.json"),
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { defer close(done); _ = robot.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// Lend, place and pair on the admin page.
	schoolSel := `#setup-form [name=school]`
	if err := chromedp.Do(ctx, chromedp.SetValue(schoolSel, w.school),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#setup-form [name=school]').dispatchEvent(new Event('change'))`),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the classroom list", func() bool {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll('#setup-classroom option').length`))
		return n >= 2
	})
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#setup-form [name=to]", time.Now().AddDate(0, 6, 0).Format(time.DateOnly)),
		chromedp.SetValue("#setup-classroom", w.classroom),
		chromedp.SetValue("#setup-form [name=pupil]", w.pupil),
		chromedp.Click("#setup-form button"),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#setup-result", "Device set up.")
	if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}

	// The teacher sees the robot online, and the pupil sees the class.
	signIn(teacherEmail, "teacher password 1")
	waitText("#robot-rows", "Robot B")
	waitText("#robot-rows", "Online")
	jl, err := a.people.IssueJoinLink(bg, w.sys, w.pupil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := joinPupil(t, a, testLink{PupilToken: jl.Token}, nil)
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() > 30 })
	waitText("#robot-rows", "Dev: connected") // the pupil column, live

	// The rows are redrawn on every live event: click in the page, in one
	// step, so a redraw between finding and clicking cannot lose the node.
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('#robot-rows button[data-action=sleep]');
		if (!b) return false; b.click(); return true; })()`)); err != nil || !ok {
		t.Fatalf("clicking sleep: %v (button found: %v)", err, ok)
	}
	waitText("#robot-rows", "Asleep")
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "teacher-robots.png"))
	}
	if !robot.DeviceState().Asleep {
		t.Fatal("the robot does not report asleep")
	}
	time.Sleep(300 * time.Millisecond)
	frozen := p.videoFrames.Load()
	time.Sleep(time.Second)
	if got := p.videoFrames.Load(); got > frozen+1 {
		t.Fatalf("media still flowing while asleep: %d → %d frames", frozen, got)
	}
	// The rows are redrawn on every live event: click in the page, in one
	// step, so a redraw between finding and clicking cannot lose the node.
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const b = document.querySelector('#robot-rows button[data-action=wake]');
		if (!b) return false; b.click(); return true; })()`)); err != nil || !ok {
		t.Fatalf("clicking wake: %v (button found: %v)", err, ok)
	}
	waitText("#robot-rows", "Online")
}
