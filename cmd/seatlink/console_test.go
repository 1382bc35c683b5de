package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"seatlink/internal/browsertest"
	"seatlink/people"
)

// An LA admin signs in to the staff console, imports a class from a MIS
// export (first with a bad row, which imports nothing), and a teacher then
// issues a join link that the pupil's page accepts.
func TestBrowserStaffConsole(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	la, err := a.people.CreateLA(bg, people.System, "Console LA")
	if err != nil {
		t.Fatal(err)
	}
	sys := people.System
	sys.LAID = la.ID
	school, err := a.people.CreateSchool(bg, sys, la.ID, "Console School")
	if err != nil {
		t.Fatal(err)
	}
	const pw = "console test password"
	for _, in := range []people.StaffInput{
		{Role: people.RoleAdmin, Email: "admin@console.test", Name: "Ada Admin", Password: pw},
		{Role: people.RoleTeacher, Email: "teacher@console.test", Name: "Tom Teacher", SchoolID: school.ID, Password: pw},
	} {
		if _, err := a.people.CreateStaff(bg, sys, in); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	_ = os.WriteFile(bad, []byte("UPN,Preferred Forename,NC Year,Reg Group\nK1,Kim,4,4 Elm\nK2,Lee,fourteen,4 Elm\n"), 0o600)
	_ = os.WriteFile(good, []byte("UPN,Preferred Forename,NC Year,Reg Group\nK1,Kim,4,4 Elm\nK2,Lee,4,4 Elm\n"), 0o600)

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	waitText := func(sel, want string) {
		t.Helper()
		waitFor(t, 10*time.Second, sel+" to say "+want, func() bool {
			s, _ := chromedp.Run(ctx, chromedp.Text(sel))
			return strings.Contains(s, want)
		})
	}
	signIn := func(email string) {
		t.Helper()
		if err := browsertest.Do(ctx, 30*time.Second,
			chromedp.Navigate(a.baseURL()+"/staff"),
			chromedp.WaitVisible("#signin-form"),
			chromedp.SetValue("#signin-form [name=email]", email),
			chromedp.SetValue("#signin-form [name=password]", pw),
			chromedp.Click("#signin-form button"),
			// Everything the console loads is in place: nothing is redrawn
			// under a click from here (a busy machine loads it slowly).
			chromedp.WaitVisible(`body[data-ready="1"]`),
		); err != nil {
			t.Fatal(err)
		}
	}

	signIn("admin@console.test")
	waitText("#who", "Ada Admin (admin)")
	waitText("#school-list", "Console School")
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#import-form [name=file]", []string{bad}),
		chromedp.Click("#import-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#import-errors", "fourteen")
	if got := text("#import-errors tbody"); !strings.Contains(got, "3") || !strings.Contains(got, "year_group") {
		t.Fatalf("import error table: %q", got)
	}
	if rows := text("#pupil-rows"); rows != "" {
		t.Fatalf("a failed import showed pupils: %q", rows)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#import-form [name=file]", []string{good}),
		chromedp.Click("#import-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#import-result", "Imported 2 pupils and classrooms 4 Elm")
	waitText("#pupil-rows", "Lee")
	// Signing out reloads the page; wait for that before navigating on.
	if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}

	signIn("teacher@console.test")
	waitText("#who", "Tom Teacher (teacher)")
	if visible, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById('admin').hidden`)); visible {
		t.Fatal("the admin section is shown to a teacher")
	}
	waitText("#pupil-rows", "Kim")
	// The pupil's join links open under their row; a new one is issued there.
	if err := browsertest.Do(ctx, 30*time.Second, chromedp.Click(`#pupil-rows button[aria-expanded]`), chromedp.WaitVisible("#issue-link"),
		chromedp.Click("#issue-link")); err != nil {
		t.Fatal(err)
	}
	waitText("#issued", "Join link for Kim")
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "staff-console.png"))
	}
	url := text("#issued-url")
	if !strings.HasPrefix(url, a.baseURL()+"/join#") || len(text("#issued-code")) != 9 {
		t.Fatalf("issued %q code %q", url, text("#issued-code"))
	}
	// Not in the teacher's own signed-in browser: no adult holds a
	// pupil's session, and the page says what to do.
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitText("#state", "signed in as a member of staff")
	// The pupil's device accepts the link; Kim has no robot yet, and is told so.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitText("#state", "Your classroom robot is not set up yet.")
}
