package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/people"
)

// consoleWorld is a pupil with a robot placed in their classroom, the
// classroom's teacher, an LA admin, and a timetable with a lesson all day
// every day (so that a lesson is on now, whenever the test runs).
type consoleWorld struct {
	link      testLink
	classroom string
	teacher   string // email
	admin     string // email
}

const consolePassword = "console pages password"

func newConsoleWorld(t *testing.T, a *app) consoleWorld {
	t.Helper()
	ctx := context.Background()
	link := newTestLink(t, a)
	sys := people.System
	sys.LAID = link.LAID
	room, err := a.people.CreateClassroom(ctx, sys, link.SchoolID, "4 Elm")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.devices.Place(ctx, sys, link.RobotID, room.ID); err != nil {
		t.Fatal(err)
	}
	w := consoleWorld{link: link, classroom: room.ID}
	n := time.Now().Format("150405.000000")
	w.teacher, w.admin = "teacher"+n+"@console.test", "admin"+n+"@console.test"
	teacher, err := a.people.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleTeacher, Email: w.teacher, Name: "Tess Teacher",
		SchoolID: link.SchoolID, Password: consolePassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.people.AssignClassroom(ctx, sys, teacher.ID, room.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.people.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleAdmin, Email: w.admin, Name: "Ada Admin",
		Password: consolePassword}); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("weekday,start,end,kind,session,name\n")
	for _, d := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		csv.WriteString(d + ",00:00,23:59,lesson,AM,All day\n")
	}
	if _, err := engagement.NewTimetables(a.db, a.people).Import(ctx, sys, link.SchoolID, strings.NewReader(csv.String())); err != nil {
		t.Fatal(err)
	}
	return w
}

// consoleSignIn signs in on the staff console in a language and waits
// until the page has loaded all it loads.
func consoleSignIn(t *testing.T, ctx context.Context, a *app, email, lang string) {
	t.Helper()
	if err := browsertest.Do(ctx, 30*time.Second, chromedp.Navigate(a.baseURL()+"/staff?lang="+lang), chromedp.WaitVisible("#signin-form"),
		chromedp.SetValue("#signin-form [name=email]", email), chromedp.SetValue("#signin-form [name=password]", consolePassword),
		chromedp.Click("#signin-form button"), chromedp.WaitVisible(`body[data-ready="1"]`)); err != nil {
		t.Fatal(err)
	}
}

func consoleEval(t *testing.T, ctx context.Context, js string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// The teacher's Today view: the classroom's lesson on now, the robot
// offline, then online when the robot connects and the pupil in when they
// join, without reloading the page; the change is announced.
func TestBrowserConsoleTodayGoesLive(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	w := newConsoleWorld(t, a)
	consoleSignIn(t, ctx, a, w.teacher, "en")
	seat := `#today .today-seat[data-device="` + w.link.RobotID + `"]`
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.WaitVisible(seat+`[data-seat-state="offline"]`)); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string { s, _ := chromedp.Run(ctx, chromedp.Text(sel)); return s }
	now := `#today .today-lessons li[data-phase="now"]`
	if got := text(now); !strings.Contains(got, "All day") || !strings.Contains(got, "Robot: offline") || !strings.Contains(got, "Pupil is not in class") {
		t.Fatalf("the lesson on now says %q", got)
	}
	// Nothing reloads the page from here on.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameLoad = true`)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	startRobot(t, a, w.link, nil)
	waitFor(t, 15*time.Second, "the robot online in Today", func() bool {
		return consoleEval(t, ctx, `!!document.querySelector('`+seat+`[data-seat-state="online"]')`)
	})
	t.Logf("Today showed the robot online %s after it started", time.Since(start).Round(time.Millisecond))
	if got := text(now); !strings.Contains(got, "Robot: online") {
		t.Fatalf("the lesson on now says %q", got)
	}
	p := joinPupil(t, a, w.link, nil)
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() > 10 })
	waitFor(t, 15*time.Second, "the pupil in, in Today", func() bool {
		return consoleEval(t, ctx, `!!document.querySelector('`+seat+`[data-pupil-in="1"]')`)
	})
	if got := text(now); !strings.Contains(got, "Pupil is in class") {
		t.Fatalf("the lesson on now says %q", got)
	}
	if !consoleEval(t, ctx, `window.sameLoad === true`) {
		t.Fatal("the page reloaded")
	}
	if got := text("#today-news"); !strings.Contains(got, "Pupil is in class") {
		t.Errorf("the change was not announced: %q", got)
	}
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "staff-today.png"))
	}
}

// Join links from the page: a pupil's links with the one they are in
// class through; issuing a new one offers to revoke the older one, which
// takes the pupil out of class at once, and the revoked link no longer
// joins.
func TestBrowserConsoleJoinLinksRevoke(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	w := newConsoleWorld(t, a)
	startRobot(t, a, w.link, nil)
	p := joinPupil(t, a, w.link, nil)
	waitFor(t, 20*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() > 10 })
	consoleSignIn(t, ctx, a, w.teacher, "en")
	text := func(sel string) string { s, _ := chromedp.Run(ctx, chromedp.Text(sel)); return s }
	old := `#pupil-rows li.link[data-link="` + w.link.JoinLinkID + `"]`
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click(`#pupil-rows button[data-pupil="`+w.link.PupilID+`"]`),
		chromedp.WaitVisible(old)); err != nil {
		t.Fatal(err)
	}
	if got := text(old); !strings.Contains(got, "Pupil is in class through this link now") || !strings.Contains(got, "works until") {
		t.Fatalf("the link says %q", got)
	}
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click("#issue-link"), chromedp.WaitVisible("#revoke-older")); err != nil {
		t.Fatal(err)
	}
	if got := text("#links-result"); !strings.Contains(got, "Pupil has 1 older link that still works") {
		t.Fatalf("the result says %q", got)
	}
	if !consoleEval(t, ctx, `document.activeElement === document.getElementById('links-result')`) {
		t.Error("the result did not take the focus")
	}
	url := text("#issued-url")
	if !strings.HasPrefix(url, a.baseURL()+"/join#") {
		t.Fatalf("issued %q", url)
	}
	start := time.Now()
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click("#revoke-older")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
		t.Logf("the pupil was out of class %s after the click", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the pupil is still in class 5 s after the link was revoked")
	}
	waitFor(t, 5*time.Second, "the revocation said", func() bool { return strings.Contains(text("#links-result"), "Revoked.") })
	if n := consoleEval(t, ctx, `document.querySelectorAll('#pupil-rows li.link[data-active="1"]').length === 1 &&
		!document.querySelector('`+old+`[data-active="1"]')`); !n {
		t.Fatal("the list does not show the old link revoked and the new one working")
	}
	// The revoked link no longer joins.
	status, body := (&staffClient{t: t, base: a.baseURL(), c: &http.Client{Timeout: 10 * time.Second}}).do("POST", "/api/v1/pupil/session",
		map[string]string{"token": w.link.PupilToken})
	if status != 410 {
		t.Fatalf("the revoked link: %d %s", status, body)
	}
}

// The staff console as an admin and as a teacher, and the classroom
// station, in English and Welsh: axe-core finds nothing at WCAG 2.2 AA,
// and at every screen size the document is no wider than the window.
func TestBrowserConsoleAxeAndReflow(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	w := newConsoleWorld(t, a)
	startRobot(t, a, w.link, nil)
	check := func(name string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 657)); err != nil {
			t.Fatal(err)
		}
		for _, v := range browsertest.Axe(ctx, t) {
			t.Errorf("%s: %s", name, v)
		}
		for _, s := range browsertest.Screens {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.Width, s.Height)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			l, err := browsertest.Measure(ctx, "header") // (with no selector it finds none to measure)
			if err != nil {
				t.Fatal(err)
			}
			if l.DocW > l.ViewportW {
				wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e =>
				  e.getBoundingClientRect().right > innerWidth + 0.5 && !e.closest('.scroll')).slice(0, 5).map(e =>
				  e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
				t.Errorf("%s at %s: the document is %d px wide in a %d px window (%s)", name, s.Name, l.DocW, l.ViewportW, wide)
			}
			if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
				_ = browsertest.Screenshot(ctx, filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", strings.ReplaceAll(name, " ", "-"), s.Width, s.Height)))
			}
		}
	}
	for _, lang := range []string{"en", "cy"} {
		consoleSignIn(t, ctx, a, w.admin, lang)
		if !consoleEval(t, ctx, `document.documentElement.lang === '`+lang+`' && !document.getElementById('admin').hidden`) {
			t.Fatalf("%s: not the admin's console in %s", lang, lang)
		}
		// The audit log with names, and a timetable open: the longest states.
		if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click("#audit-load"), chromedp.WaitVisible("#audit tbody tr"),
			chromedp.Click("#tt-school-form button"), chromedp.WaitVisible("#tt-editor")); err != nil {
			t.Fatal(err)
		}
		if got, _ := chromedp.Run(ctx, chromedp.Text("#audit tbody")); strings.Contains(got, w.link.PupilID) {
			t.Errorf("%s: the audit log shows a pupil's id: %q", lang, got)
		}
		check("admin " + lang)
		if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
			t.Fatal(err)
		}
		consoleSignIn(t, ctx, a, w.teacher, lang)
		if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click(`#pupil-rows button[data-pupil="`+w.link.PupilID+`"]`),
			chromedp.WaitVisible("#pupil-rows li.link"), chromedp.WaitVisible(`#today .today-seat[data-seat-state="online"]`)); err != nil {
			t.Fatal(err)
		}
		check("teacher " + lang)
		if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
			t.Fatal(err)
		}
		// The station before it is set up (its enrollment form).
		if err := browsertest.Do(ctx, 20*time.Second, chromedp.Navigate(a.baseURL()+"/station?lang="+lang), chromedp.WaitVisible("#enroll")); err != nil {
			t.Fatal(err)
		}
		check("station " + lang)
	}
}
