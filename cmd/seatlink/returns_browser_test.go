package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/people"
	"seatlink/plans"
)

// Check in on return on the console's Today view: the pupil, marked
// present after three absences, is listed for their key adult (an EWO with
// no classroom, whose Today had no part before) and for no other member of
// staff; axe-core finds nothing in English or Welsh; marking it done takes
// it away, and it stays away after a reload.
func TestBrowserConsoleCheckInOnReturn(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	w := newConsoleWorld(t, a)
	bg := context.Background()
	sys := people.System
	sys.LAID = w.link.LAID
	ewoEmail := "ewo" + time.Now().Format("150405.000000") + "@console.test"
	ewo, err := a.people.CreateStaff(bg, sys, people.StaffInput{Role: people.RoleEWO, Email: ewoEmail, Name: "Eira EWO", SchoolID: w.link.SchoolID,
		Password: consolePassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.casework.SetKeyAdult(bg, sys, w.link.PupilID, ewo.ID, "Ring the office"); err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	day := func(n int) string { return time.Now().In(london).AddDate(0, 0, n).Format(time.DateOnly) }
	reg := engagement.NewRegisters(a.db, a.people)
	for _, m := range []engagement.Mark{{Day: day(-3), Session: "AM", Code: "I"}, {Day: day(-3), Session: "PM", Code: "I"},
		{Day: day(-2), Session: "AM", Code: "N"}, {Day: day(-2), Session: "PM", Code: `\`}} {
		m.PupilID = w.link.PupilID
		if err := reg.Set(bg, sys, m); err != nil {
			t.Fatal(err)
		}
	}
	// And the plan moved into a phase with more time in school five days ago.
	if _, err := a.plans.Create(bg, sys, w.link.PupilID, plans.Input{Status: plans.Active, StartsOn: day(-40), EndsOn: day(60),
		Phases: []plans.Phase{{Name: "Mornings", StartsOn: day(-40), EndsOn: day(-6), SchoolSessions: 2},
			{Name: "Mornings and Tuesdays", StartsOn: day(-5), EndsOn: day(60), SchoolSessions: 4}}}); err != nil {
		t.Fatal(err)
	}
	item := `#returns-list li.return[data-pupil="` + w.link.PupilID + `"][data-kind="back_after_absence"]`
	phaseItem := `#returns-list li.return[data-pupil="` + w.link.PupilID + `"][data-kind="more_school"]`
	text := func(sel string) string { s, _ := chromedp.Run(ctx, chromedp.Text(sel)); return s }
	axe := func(name string) {
		t.Helper()
		for _, v := range browsertest.Axe(ctx, t) {
			t.Errorf("%s: %s", name, v)
		}
	}
	signOut := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
			t.Fatal(err)
		}
	}
	// The classroom's teacher is not the key adult: nothing to check in on.
	consoleSignIn(t, ctx, a, w.teacher, "en")
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.WaitVisible("#returns li.returns-none")); err != nil {
		t.Fatal(err)
	}
	if consoleEval(t, ctx, `!!document.querySelector('#returns-list li.return')`) {
		t.Fatal("the teacher, not the key adult, is asked to check in")
	}
	signOut()
	for _, lang := range []string{"cy", "en"} {
		consoleSignIn(t, ctx, a, ewoEmail, lang)
		if err := browsertest.Do(ctx, 10*time.Second, chromedp.WaitVisible(item)); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if !consoleEval(t, ctx, `!document.getElementById('today').hidden && document.querySelector('#console-nav a[href="#today"]').offsetParent !== null`) {
			t.Errorf("%s: the EWO's Today is not shown in the navigation", lang)
		}
		if lang == "en" {
			if got := text(item); !strings.Contains(got, "Check in with Pupil:") || !strings.Contains(got, "(afternoon) after 3 sessions absent") {
				t.Errorf("the prompt says %q", got)
			}
			if got := text(phaseItem); !strings.Contains(got, "Check in with Pupil:") ||
				!strings.Contains(got, "“Mornings and Tuesdays”") || !strings.Contains(got, "4 sessions a week in school, up from 2") {
				t.Errorf("the phase's prompt says %q", got)
			}
		} else if got := text(item); !strings.Contains(got, "Cael gair gyda Pupil:") || !strings.Contains(got, "(prynhawn) ar ôl 3 sesiwn") {
			t.Errorf("the Welsh prompt says %q", got)
		}
		axe("the key adult's Today " + lang)
		if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
			_ = browsertest.Screenshot(ctx, filepath.Join(dir, "staff-returns-"+lang+".png"))
		}
		if lang == "cy" {
			signOut()
		}
	}
	// Done: gone from the list, said beside it, and not back after a
	// reload; the other prompt stays until it is done too.
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click(item+` button[data-action="return-done"]`),
		chromedp.WaitNotPresent(item)); err != nil {
		t.Fatal(err)
	}
	if !consoleEval(t, ctx, `!!document.querySelector('`+phaseItem+`')`) {
		t.Fatal("marking one done took the other away")
	}
	if got := text("#returns-result"); !strings.Contains(got, "Marked done: check in with Pupil") {
		t.Errorf("the result says %q", got)
	}
	if !consoleEval(t, ctx, `document.activeElement === document.getElementById('returns-result')`) {
		t.Error("the focus is not on the result")
	}
	axe("after marking done")
	if err := browsertest.Do(ctx, 20*time.Second, chromedp.Reload(), chromedp.WaitVisible(`body[data-ready="1"]`),
		chromedp.WaitVisible(phaseItem)); err != nil {
		t.Fatal(err)
	}
	if consoleEval(t, ctx, `!!document.querySelector('`+item+`')`) {
		t.Error("the prompt is back after a reload")
	}
	if err := browsertest.Do(ctx, 10*time.Second, chromedp.Click(phaseItem+` button[data-action="return-done"]`),
		chromedp.WaitVisible("#returns li.returns-none")); err != nil {
		t.Fatal(err)
	}
	if done, err := a.casework.ExportPupil(bg, sys, w.link.PupilID); err != nil || len(done.ReturnsDone) != 2 || done.ReturnsDone[0].DoneBy != ewo.ID {
		t.Errorf("the record of it done: %+v %v", done.ReturnsDone, err)
	}
}
