package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/people"
)

// An LA admin edits a school's timetable on the page (a wrong row saves
// nothing and is shown by its table row; a good edit saves), refuses an
// overlapping term, sets the code-suggestion policy, and enters a register
// mark on the pupil page.
func TestBrowserTimetableAndRegisterPages(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	const pw = "generated test password"
	gen, err := engagement.GenerateLA(bg, a.db, a.people, engagement.LAOptions{Schools: 1, Pupils: 4, Password: pw,
		GenOptions: engagement.GenOptions{Weeks: 2, Seed: 9, Until: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	sys := people.System
	sys.LAID = gen.LAID
	school := gen.Schools[0]
	tt := engagement.NewTimetables(a.db, a.people)
	count := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitText := func(sel, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s, _ := chromedp.Run(ctx, chromedp.Text(sel))
			if strings.Contains(s, want) {
				return
			}
			if time.Now().After(deadline) {
				status, _ := chromedp.Run(ctx, chromedp.Text("#status"))
				errs, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('tt-errors').textContent`))
				t.Fatalf("%s says %q, want %q (status %q, errors %q)", sel, s, want, status, errs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := browsertest.Do(ctx, 30*time.Second,
		chromedp.Navigate(a.baseURL()+"/staff"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SetValue("#signin-form [name=email]", gen.AdminEmail),
		chromedp.SetValue("#signin-form [name=password]", pw),
		chromedp.Click("#signin-form button"),
		chromedp.WaitVisible("#tt-school-form"),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the school in the timetable form", func() bool {
		return count(`document.querySelectorAll('#tt-school option').length`) == 1
	})
	if err := chromedp.Do(ctx, chromedp.Click("#tt-school-form button"), chromedp.WaitVisible("#tt-editor")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "45 periods", func() bool { return count(`document.querySelectorAll('#periods-rows tr').length`) == 45 })
	if n := count(`document.querySelectorAll('#terms-rows tr').length`); n != 12 {
		t.Fatalf("%d terms shown, want the generator's 12 half-terms", n)
	}
	// A period that ends before it starts: nothing saved, the row named.
	if err := chromedp.Do(ctx, chromedp.SetValue("#periods-rows tr:nth-child(3) [name=end]", "08:00"), chromedp.Click("#periods-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#tt-errors tbody", "3")
	if got, _ := chromedp.Run(ctx, chromedp.Text("#tt-errors tbody")); !strings.Contains(got, "start and end") {
		t.Fatalf("error rows: %q", got)
	}
	periods, _ := tt.Periods(bg, sys, school)
	if len(periods) != 45 || periods[0].Ends == "08:00" {
		t.Fatalf("a refused save changed the timetable: %d periods", len(periods))
	}
	// Fixed, and a lesson renamed: saved.
	if err := chromedp.Do(ctx, chromedp.SetValue("#periods-rows tr:nth-child(3) [name=end]", "10:15"),
		chromedp.SetValue("#periods-rows tr:nth-child(3) [name=name]", "Maths, set 2"), chromedp.Click("#periods-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#status", "Timetable saved: 45 periods.")
	periods, _ = tt.Periods(bg, sys, school)
	found := false
	for _, p := range periods {
		found = found || p.Name == "Maths, set 2"
	}
	if !found {
		t.Fatal("the renamed lesson was not saved")
	}
	// An overlapping term is refused.
	if err := chromedp.Do(ctx, chromedp.Click("#terms-add"),
		chromedp.SetValue("#terms-rows tr:last-child [name=name]", "Extra"),
		chromedp.SetValue("#terms-rows tr:last-child [name=starts_on]", "2026-11-10"),
		chromedp.SetValue("#terms-rows tr:last-child [name=ends_on]", "2026-11-20"),
		chromedp.Click("#terms-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#tt-errors tbody", "overlaps")
	if terms, _ := tt.Terms(bg, sys, school); len(terms) != 12 {
		t.Fatalf("a refused save changed the terms: %d", len(terms))
	}
	// The school suggests B for a session engaged in remotely.
	if err := chromedp.Do(ctx, chromedp.SetValue("#policy-code", "B"), chromedp.Click("#policy-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#status", "Policy saved.")
	if code, _ := engagement.NewReports(a.db, a.people).SuggestCode(bg, sys, school); code != "B" {
		t.Fatalf("policy %q", code)
	}

	// The register page: enter a mark for the first session shown.
	pupils, _ := a.people.ListPupils(bg, sys, school)
	if err := browsertest.Do(ctx, 30*time.Second,
		chromedp.Navigate(a.baseURL()+"/ewo?through=2026-11-24&weeks=2#pupil="+pupils[0].ID),
		chromedp.WaitVisible("#grid button.mark"),
		chromedp.Click("#grid-rows tr:first-child button.mark"),
		chromedp.WaitVisible("#mark-form"),
		chromedp.SetValue("#mark-form [name=code]", "M"),
		chromedp.Click("#mark-form button[type=submit]"),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#status", "Mark saved: 2026-11-16 AM M.")
	waitText("#grid-rows tr:first-child td.cell", "M")
	marks, err := engagement.NewRegisters(a.db, a.people).Marks(bg, sys, pupils[0].ID, "2026-11-16", "2026-11-16")
	if err != nil || len(marks) != 2 || marks[0].Code != "M" || marks[0].Source != "register" {
		t.Fatalf("marks %v %+v", err, marks)
	}
}
