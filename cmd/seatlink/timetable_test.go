package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/people"
)

// An LA admin edits a school's timetable on the page (a wrong row saves
// nothing and is shown by its table row; a good edit saves); adds and
// removes holidays inside terms (saved, and shown again after reloading),
// is refused a holiday outside its term and an overlapping term, uploads
// a school calendar file with a half term and an INSET day; sets the
// code-suggestion policy, which offers only absence codes, C2 first,
// says why, and shows the server's refusal of a present code; and enters
// a register mark on the pupil page.
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
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
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
				errs, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('tt-errors').textContent + ' | ' +
					document.getElementById('terms-errors').textContent + ' | ' + document.getElementById('policy-error').textContent`))
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
	terms, _ := tt.Terms(bg, sys, school)
	if n := count(`document.querySelectorAll('#terms-list fieldset.term').length`); n != len(terms) || n != 6 {
		t.Fatalf("%d terms shown, want the generator's 6 (%d stored)", n, len(terms))
	}
	if n := count(`document.querySelectorAll('#terms-list .holiday-rows tr').length`); n != 6 {
		t.Fatalf("%d holidays shown, want a half term in each of the 6 terms", n)
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
	waitText("#tt-result", "Timetable saved: 45 periods.")
	periods, _ = tt.Periods(bg, sys, school)
	found := false
	for _, p := range periods {
		found = found || p.Name == "Maths, set 2"
	}
	if !found {
		t.Fatal("the renamed lesson was not saved")
	}
	// Holidays: an INSET day added to the autumn term is saved and shown
	// again; then the term's half term is removed.
	autumn := 0
	for i, term := range terms {
		if term.Name == "Autumn" && term.StartsOn == "2026-09-03" {
			autumn = i + 1
		}
	}
	if autumn == 0 {
		t.Fatalf("no autumn 2026 term in %+v", terms)
	}
	fs := "#terms-list fieldset.term:nth-child(" + strconv.Itoa(autumn) + ")"
	if v := eval(`document.querySelector('` + fs + ` .term-fields [name=starts_on]').value`); v != "2026-09-03" {
		t.Fatalf("term %d on the page starts %q", autumn, v)
	}
	if err := chromedp.Do(ctx, chromedp.Click(fs+" .holiday-add"),
		chromedp.SetValue(fs+" .holiday-rows tr:last-child [name=name]", "INSET day"),
		chromedp.SetValue(fs+" .holiday-rows tr:last-child [name=starts_on]", "2026-11-27"),
		chromedp.SetValue(fs+" .holiday-rows tr:last-child [name=ends_on]", "2026-11-27"),
		chromedp.Click("#terms-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#terms-result", "Terms saved: 6 terms, 7 holidays.")
	holidays := func(term int) string {
		t.Helper()
		got, _ := tt.Terms(bg, sys, school)
		var hs []string
		for _, h := range got[term-1].Holidays {
			hs = append(hs, h.Name+" "+h.StartsOn+" "+h.EndsOn)
		}
		return strings.Join(hs, ", ")
	}
	shownHolidays := func() string {
		return eval(`Array.from(document.querySelectorAll('` + fs + ` .holiday-rows tr')).map(r =>
			['name', 'starts_on', 'ends_on'].map(n => r.querySelector('[name=' + n + ']').value).join(' ')).join(', ')`)
	}
	if got, shown := holidays(autumn), shownHolidays(); got != "Half term 2026-10-24 2026-11-01, INSET day 2026-11-27 2026-11-27" || shown != got {
		t.Fatalf("autumn holidays stored %q, shown %q", got, shown)
	}
	if err := chromedp.Do(ctx, chromedp.Click(fs+" .holiday-rows tr:first-child button"), chromedp.Click("#terms-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#terms-result", "Terms saved: 6 terms, 6 holidays.")
	if got, shown := holidays(autumn), shownHolidays(); got != "INSET day 2026-11-27 2026-11-27" || shown != got {
		t.Fatalf("autumn holidays after removing half term: stored %q, shown %q", got, shown)
	}
	// A holiday outside its term is refused, named by its term.
	if err := chromedp.Do(ctx, chromedp.Click(fs+" .holiday-add"),
		chromedp.SetValue(fs+" .holiday-rows tr:last-child [name=name]", "New Year"),
		chromedp.SetValue(fs+" .holiday-rows tr:last-child [name=starts_on]", "2027-01-01"),
		chromedp.SetValue(fs+" .holiday-rows tr:last-child [name=ends_on]", "2027-01-01"),
		chromedp.Click("#terms-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#terms-errors tbody", "is not inside")
	if got := eval(`document.querySelector('#terms-errors tbody td').textContent`); got != "Autumn, holiday 2 (New Year)" {
		t.Fatalf("error row %q", got)
	}
	if n := count(`document.querySelectorAll('` + fs + ` .holiday-rows tr:last-child [aria-invalid=true]').length`); n != 3 {
		t.Fatalf("%d inputs of the wrong holiday marked invalid", n)
	}
	if got := holidays(autumn); got != "INSET day 2026-11-27 2026-11-27" {
		t.Fatalf("a refused save changed the holidays: %q", got)
	}
	// An overlapping term is refused.
	if err := chromedp.Do(ctx, chromedp.Click(fs+" .holiday-rows tr:last-child button"), chromedp.Click("#terms-add"),
		chromedp.SetValue("#terms-list fieldset.term:last-child [name=name]", "Extra"),
		chromedp.SetValue("#terms-list fieldset.term:last-child [name=starts_on]", "2026-11-10"),
		chromedp.SetValue("#terms-list fieldset.term:last-child [name=ends_on]", "2026-11-20"),
		chromedp.Click("#terms-save")); err != nil {
		t.Fatal(err)
	}
	waitText("#terms-errors tbody", "overlaps")
	if terms, _ := tt.Terms(bg, sys, school); len(terms) != 6 {
		t.Fatalf("a refused save changed the terms: %d", len(terms))
	}
	// A calendar file: a wrong one is refused by its line; a good one, with
	// half terms and an INSET day, replaces the terms and is shown.
	dir := t.TempDir()
	upload := func(name, body string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#terms-import-form [name=file]", []string{path}),
			chromedp.Click("#terms-import-form button")); err != nil {
			t.Fatal(err)
		}
	}
	upload("bad.csv", "kind,name,starts_on,ends_on\nterm,Autumn,2026-09-03,2026-12-18\nINSET,Training,2027-01-04,2027-01-04\n")
	waitText("#terms-errors tbody", "not inside any term")
	if got := eval(`document.querySelector('#terms-errors tbody td').textContent`); got != "line 3" {
		t.Fatalf("calendar error row %q", got)
	}
	upload("calendar.csv", "kind,name,starts_on,ends_on\n"+
		"term,Autumn,2026-09-03,2026-12-18\n"+
		"half term,Half term,2026-10-24,2026-11-01\n"+
		"INSET,Staff training,2026-11-20,2026-11-20\n"+
		"term,Spring,2027-01-05,2027-03-26\n"+
		"half term,Half term,2027-02-13,2027-02-21\n")
	waitText("#terms-result", "Calendar uploaded: 2 terms, 3 holidays.")
	if n := count(`document.querySelectorAll('#terms-list fieldset.term').length`); n != 2 {
		t.Fatalf("%d terms shown after the upload", n)
	}
	fs = "#terms-list fieldset.term:nth-child(1)"
	if got, shown := holidays(1), shownHolidays(); got != "Half term 2026-10-24 2026-11-01, Staff training 2026-11-20 2026-11-20" || shown != got {
		t.Fatalf("uploaded autumn holidays stored %q, shown %q", got, shown)
	}

	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		if buf, err := chromedp.Run(ctx, chromedp.Screenshot("#tt-editor")); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "timetable-terms.png"), buf, 0o644)
		}
	}

	// The code policy offers only absence codes, C2 first, and says why.
	var options []string
	if err := json.Unmarshal([]byte(eval(`JSON.stringify(Array.from(document.querySelectorAll('#policy-code option')).map(o => o.value))`)), &options); err != nil {
		t.Fatal(err)
	}
	if len(options) == 0 || options[0] != "C2" {
		t.Fatalf("policy options %q: C2 is not first", options)
	}
	for _, c := range engagement.Codes {
		if offered := slices.Contains(options, c.Code); offered != (c.Category == engagement.Authorised || c.Category == engagement.Unauthorised) {
			t.Errorf("code %s (%s) offered: %v", c.Code, c.Category, offered)
		}
	}
	for _, no := range []string{"/", `\`, "B", "K"} {
		if slices.Contains(options, no) {
			t.Errorf("present code %q offered", no)
		}
	}
	if first := eval(`document.querySelector('#policy-code option').textContent`); !strings.HasPrefix(first, "C2: ") || !strings.Contains(first, "part-time timetable") {
		t.Errorf("first option %q", first)
	}
	explain := eval(`document.getElementById('policy-explain').textContent`)
	for _, want := range []string{"absent and", "receiving remote education", "never present", "never as an approved", "C2", "part-time timetable"} {
		if !strings.Contains(strings.Join(strings.Fields(explain), " "), want) {
			t.Errorf("the explanation does not say %q: %q", want, explain)
		}
	}
	if err := chromedp.Do(ctx, chromedp.SetValue("#policy-code", "C2"), chromedp.Click("#policy-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#policy-result", "Policy saved.")
	reports := engagement.NewReports(a.db, a.people)
	if code, _ := reports.SuggestCode(bg, sys, school); code != "C2" {
		t.Fatalf("policy %q", code)
	}
	// A present code is refused by the server, which says why; the page
	// shows its words.
	if got := eval(`window.seatlinkConsole.api('PUT', '/api/v1/schools/` + school + `/code-policy', { suggest_code: 'B' }).then(
		() => 'saved', e => e.status + ' ' + e.data.error.fields[0].code)`); got != "400 not_absence_code" {
		t.Fatalf("suggesting B: %s", got)
	}
	eval(`(() => { const s = document.getElementById('policy-code'); s.appendChild(new Option('B', 'B')); s.value = 'B'; return ''; })()`)
	if err := chromedp.Do(ctx, chromedp.Click("#policy-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#policy-error", "Not saved: B records the pupil as on an approved educational activity")
	waitText("#policy-result", "The policy was not saved.")
	if code, _ := reports.SuggestCode(bg, sys, school); code != "C2" {
		t.Fatalf("a refused policy changed it: %q", code)
	}
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		if buf, err := chromedp.Run(ctx, chromedp.Screenshot("#policy-form")); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "timetable-policy.png"), buf, 0o644)
		}
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
	waitText("#status", "Mark saved: 16 November 2026 AM M.")
	waitText("#grid-rows tr:first-child td.cell", "M")
	marks, err := engagement.NewRegisters(a.db, a.people).Marks(bg, sys, pupils[0].ID, "2026-11-16", "2026-11-16")
	if err != nil || len(marks) != 2 || marks[0].Code != "M" || marks[0].Source != "register" {
		t.Fatalf("marks %v %+v", err, marks)
	}
}
