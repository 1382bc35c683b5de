package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/devices"
	"seatlink/devices/sim"
	"seatlink/internal/browsertest"
	"seatlink/internal/wire"
	"seatlink/people"
)

// pupilControls are the pupil page's parts that must lie inside the
// window, unscrolled, at every size.
var pupilControls = []string{"#classroom", "#state", "#hand", "#whisper", "#passive", "#turn-up", "#turn-down", "#turn-left",
	"#turn-right", "#head", "#tab-faces", "#tab-chat", "#open-checkin", "#open-plan", "#open-help", ".lang-switch"}

// The pupil's page as a pupil meets it: the class and every control on
// the screen they have, without scrolling; each button's answer beside
// it; the robot asleep, switched off or the line gone said in plain words
// within 3 s; no WCAG 2.2 AA failure in any of those states; and all of
// it in Welsh.
func TestPupilPageOnEveryScreenInBothLanguages(t *testing.T) {
	ctx, _ := browsertest.New(t)
	browsertest.AxePath(t) // skip or fail early, before the world is built
	a := testApp(t)
	bg := context.Background()
	w := newDeviceWorld(t, a)
	d, code, err := a.devices.Create(bg, w.sys, devices.KindRobot, "Robot P")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, step := range []error{
		a.devices.Lend(bg, w.sys, d.ID, w.school, now, now.AddDate(0, 6, 0)),
		a.devices.Place(bg, w.sys, d.ID, w.classroom),
		a.devices.Pair(bg, w.sys, d.ID, w.pupil),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	robot, err := sim.New(sim.Config{Server: a.baseURL(), EnrollCode: code, StatePath: filepath.Join(t.TempDir(), "r.json"),
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stopRobot := context.WithCancel(bg)
	robotDone := make(chan struct{})
	go func() { defer close(robotDone); _ = robot.Run(rctx) }()
	t.Cleanup(func() { stopRobot(); <-robotDone })
	waitFor(t, 10*time.Second, "the robot online", func() bool { return a.hub.Status(d.ID).Online })
	ka, err := a.people.CreateStaff(bg, w.sys, people.StaffInput{Role: people.RoleTeacher, Email: "key@t.test", Name: "Name key@t.test",
		SchoolID: w.school, Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	keyAdult := people.Actor{Kind: "staff", ID: ka.ID, Role: people.RoleTeacher, LAID: w.sys.LAID, SchoolID: w.school}
	if _, err := a.casework.SetKeyAdult(bg, w.sys, w.pupil, ka.ID, "Ring the school office"); err != nil {
		t.Fatal(err)
	}
	jl, err := a.people.IssueJoinLink(bg, w.sys, w.pupil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	state := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink ? window.seatlink.state() : ''`))
		return s
	}
	text := func(sel string) string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('`+sel+`') || {}).textContent || ''`))
		return strings.TrimSpace(s)
	}
	waitState := func(want string, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		waitFor(t, within, "the page in state "+want, func() bool { return state() == want })
		return time.Since(start)
	}
	waitText := func(sel, want string) {
		t.Helper()
		waitFor(t, 10*time.Second, sel+" to say "+want, func() bool { return text(sel) == want })
	}
	click := func(sel string) {
		t.Helper()
		if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click(sel)); err != nil {
			t.Fatal(err)
		}
	}
	noAxe := func(what string) {
		t.Helper()
		for _, v := range browsertest.Axe(ctx, t) {
			t.Errorf("%s: %s", what, v)
		}
	}
	fits := func(lang string) {
		t.Helper()
		for _, s := range browsertest.Screens {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.Width, s.Height)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(150 * time.Millisecond) // the layout settles
			for _, panel := range []string{"#tab-faces", "#tab-chat"} {
				click(panel)
				sel := append([]string{".faces button"}, pupilControls...)
				if panel == "#tab-chat" {
					sel = append([]string{"#chat-text", "#chat-send"}, pupilControls...)
				}
				l, err := browsertest.Measure(ctx, sel...)
				if err != nil {
					t.Fatal(err)
				}
				if l.DocW > l.ViewportW || l.DocH > l.ViewportH {
					t.Errorf("%s %s (%s): the page is %dx%d in a %dx%d window: it scrolls", lang, s.Name, panel, l.DocW, l.DocH, l.ViewportW, l.ViewportH)
				}
				for _, o := range l.Outside {
					t.Errorf("%s %s (%s): %s lies outside the window", lang, s.Name, panel, o)
				}
			}
			if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" { // for people checking the layout by eye
				click("#tab-faces")
				name := fmt.Sprintf("pupil-%s-%dx%d.png", lang, s.Width, s.Height)
				if err := browsertest.Screenshot(ctx, filepath.Join(dir, name)); err != nil {
					t.Log(err)
				}
			}
			h, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById('classroom').getBoundingClientRect().height`))
			if h < 120 {
				t.Errorf("%s %s: the picture is %.0f px high, want at least 120", lang, s.Name, h)
			}
		}
		click("#tab-faces")
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 657)); err != nil {
			t.Fatal(err)
		}
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 657), chromedp.Navigate(a.baseURL()+"/join#"+jl.Token)); err != nil {
		t.Fatal(err)
	}
	waitState("in_class", 20*time.Second)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.seatlink.checkInAfter = 0`)); err != nil {
		t.Fatal(err)
	}
	if got := text("#state-text"); got != "You're in class" {
		t.Errorf("in class, the page says %q", got)
	}
	fits("en")
	noAxe("in class")

	// Each answer beside its control, and the right one.
	click("#tab-chat")
	if err := chromedp.Do(ctx, chromedp.SendKeys("#chat-text", "Hello")); err != nil {
		t.Fatal(err)
	}
	waitText("#chat-left", "275 letters left")
	click("#chat-send")
	waitText("#chat-said", "Your message is on the robot's screen.")
	if got := text("#chat-left"); got != "280 letters left" {
		t.Errorf("after sending, the count says %q", got)
	}
	click("#tab-faces")
	click(`.faces button[data-expression=happy]`)
	waitText("#faces-said", "Your robot looks happy.")
	click("#turn-left")
	waitText("#turn-said", "The robot is looking left.")
	if l, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('head').getAttribute('aria-label')`)); l != "The robot is looking left." {
		t.Errorf("the head picture is labelled %q", l)
	}
	if cx, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`Number(document.getElementById('head-eyes').getAttribute('cx'))`)); cx >= 20 {
		t.Errorf("the head picture's eyes at x=%v after turning left, want left of centre", cx)
	}
	click("#hand")
	waitText("#hand-said", "Your hand is up. Your teacher can see it.")
	if got := text("#chat-said"); got != "Your message is on the robot's screen." && got != "" {
		t.Errorf("the hand's answer went to the message box: %q", got)
	}

	// The teacher puts the robot to sleep: said within 3 s, in words.
	if _, err := a.hub.Command(bg, w.teacher, d.ID, wire.DevCmdSleep, nil); err != nil {
		t.Fatal(err)
	}
	took := waitState("asleep", 3*time.Second)
	if got := text("#state-text"); got != "Your classroom robot is asleep. Your teacher knows." {
		t.Errorf("robot asleep, the page says %q", got)
	}
	t.Logf("robot asleep: said on the page after %s", took.Round(10*time.Millisecond))
	noAxe("robot asleep")
	// The lesson's end asks "How did today feel?" (after any time in
	// class here; 10 minutes by default): never required, and the pupil
	// is told who sees it. The key adult sees it.
	waitFor(t, 5*time.Second, "the check-in sheet", func() bool {
		open, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('checkin-dialog').open`))
		return open
	})
	if got := text("#checkin-who"); got != "Only Name key@t.test, your key adult, will see this." {
		t.Errorf("the check-in sheet says %q about who sees it", got)
	}
	noAxe("check-in sheet")
	// On a small phone, upright or on its side, the sheet's faces and
	// buttons are all on the screen.
	for _, size := range [][2]int64{{320, 568}, {844, 390}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
			t.Fatal(err)
		}
		if l, err := browsertest.Measure(ctx, ".feelings label", "#checkin-words", "#checkin-send", "#checkin-close"); err != nil {
			t.Fatal(err)
		} else if len(l.Outside) > 0 || l.DocW > l.ViewportW {
			t.Errorf("the check-in sheet at %dx%d: %v outside, page %d px wide", size[0], size[1], l.Outside, l.DocW)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 657)); err != nil {
		t.Fatal(err)
	}
	click(`#checkin-form input[name=feeling][value="2"]`)
	if err := chromedp.Do(ctx, chromedp.SendKeys("#checkin-words", "Loud today")); err != nil {
		t.Fatal(err)
	}
	click("#checkin-send")
	waitText("#checkin-status", "Thank you. Name key@t.test will see it.")
	seen, err := a.casework.CheckInsOf(bg, keyAdult, w.pupil)
	if err != nil || len(seen.CheckIns) != 1 || seen.CheckIns[0].Feeling != 2 || seen.CheckIns[0].Words != "Loud today" {
		t.Errorf("the key adult sees %+v (%v)", seen, err)
	}
	click("#checkin-close")
	if _, err := a.hub.Command(bg, w.teacher, d.ID, wire.DevCmdWake, nil); err != nil {
		t.Fatal(err)
	}
	waitState("in_class", 10*time.Second)

	// The teacher mutes the robot: the pupil is told.
	if _, err := a.hub.Command(bg, w.teacher, d.ID, wire.DevCmdMute, nil); err != nil {
		t.Fatal(err)
	}
	waitText("#notice", "Your teacher has turned the robot's sound off for now.")
	if _, err := a.hub.Command(bg, w.teacher, d.ID, wire.DevCmdUnmute, nil); err != nil {
		t.Fatal(err)
	}
	waitText("#notice", "")

	// The server going away (a restart) is said in plain words, and
	// checked for accessibility, in TestBrowserPageAfterServerRestart.

	// In Welsh: the device remembers the choice; the page and its answers
	// are in Welsh, and still fit every screen.
	click(".lang-switch")
	waitFor(t, 10*time.Second, "the page in Welsh", func() bool {
		l, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		return l == "cy"
	})
	waitState("in_class", 20*time.Second)
	var kept string
	if err := a.db.Q().QueryRow(bg, `SELECT lang FROM pupils WHERE id = ?`, w.pupil).Scan(&kept); err != nil || kept != "cy" {
		t.Errorf("the pupil's chosen language is kept as %q (%v), want cy", kept, err)
	}
	// Dates and plurals in Welsh, though the browser has no Welsh data.
	for js, want := range map[string]string{
		`seatlinkI18n.date('2026-11-23')`: "Dydd Llun 23 Tachwedd",
		`seatlinkI18n.date('2026-03-02', {day: 'numeric', month: 'short', year: 'numeric'})`: "2 Maw 2026",
		`seatlinkI18n.t('pupil.chat.left', {n: 2})`:                                          "2 lythyren ar ôl",
	} {
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js)); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", js, got, err, want)
		}
	}
	if got := text("#state-text"); got != "Rydych chi yn y dosbarth" {
		t.Errorf("in class in Welsh, the page says %q", got)
	}
	if got := text("#hand-label"); got != "Codi fy llaw" && got != "Rhoi fy llaw i lawr" {
		t.Errorf("the hand button says %q", got)
	}
	fits("cy")
	noAxe("in class, Welsh")
	click(`.faces button[data-expression=happy]`)
	waitText("#faces-said", "Mae eich robot yn edrych yn hapus.")
	click("#tab-chat")
	if err := chromedp.Do(ctx, chromedp.SendKeys("#chat-text", "Helo")); err != nil {
		t.Fatal(err)
	}
	waitText("#chat-left", "276 llythyren ar ôl")
	click("#chat-send")
	waitText("#chat-said", "Mae eich neges ar sgrin y robot.")
	click("#open-help")
	if err := browsertest.Do(ctx, 5*time.Second, chromedp.WaitVisible("#help-dialog")); err != nil {
		t.Fatal(err)
	}
	if got := text("#help-title"); got != "Help" {
		t.Errorf("help sheet title %q", got)
	}
	noAxe("help sheet, Welsh")
	if err := chromedp.Do(ctx, chromedp.Click("#help-dialog .close")); err != nil {
		t.Fatal(err)
	}

	// The robot switched off: said within 3 s, in Welsh.
	stopRobot()
	<-robotDone
	took = waitState("asleep", 3*time.Second)
	if got := text("#state-text"); got != "Mae robot eich dosbarth yn cysgu. Mae eich athro yn gwybod." {
		t.Errorf("robot off, the page says %q", got)
	}
	t.Logf("robot switched off: said on the page after %s", took.Round(10*time.Millisecond))
	noAxe("robot off, Welsh")

	// A wrong link, in Welsh, says what to do.
	if err := chromedp.Do(ctx, chromedp.Navigate(a.baseURL()+"/join#not-a-real-token")); err != nil {
		t.Fatal(err)
	}
	waitState("bad_link", 10*time.Second)
	if got := text("#state-text"); got != "Mae'r ddolen ymuno hon wedi dod i ben neu nid yw'n iawn. Gofynnwch i'ch athro am un newydd." {
		t.Errorf("a wrong link in Welsh says %q", got)
	}
	noAxe("wrong link, Welsh")
}
