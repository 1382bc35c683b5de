package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
)

// An EWO signs in to the caseload page of a generated school. The table
// shows the server's columns and cells, so that every row reads exactly
// as its CSV download does, with flag chips, plan links and a trend line
// broken at half term; it sorts by the raw figures (mouse and keyboard,
// with aria-sort) and filters by robot use; the groups show the DfE's
// shares of pupils. The pupil page's grid is its CSV cell for cell, the
// chart has bars only for weeks with figures, and the printed summary
// gives each percentage with its sessions and times as h:mm. Both pages
// fit a 1366×657 screen and a phone, the wide tables scrolling in their
// own boxes.
func TestBrowserEWOCaseload(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	const pw = "generated test password"
	gen, err := engagement.GenerateLA(context.Background(), a.db, a.people, engagement.LAOptions{Schools: 1, Pupils: 12,
		Password: pw, GenOptions: engagement.GenOptions{Seed: 3, Until: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	evalJSON := func(js string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(eval(js)), v); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
	}
	waitJS := func(what, js string) {
		t.Helper()
		waitFor(t, 15*time.Second, what, func() bool {
			ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			return ok
		})
	}
	shots := os.Getenv("SEATLINK_SCREENSHOTS")
	screenshot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		eval(`window.scrollTo(0, 0); document.querySelectorAll('.tablewrap').forEach(w => { w.scrollLeft = 0; }); ''`)
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		}
		if err == nil {
			err = browsertest.Screenshot(ctx, filepath.Join(shots, name+"-full.png"))
		}
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
		}
	}
	// fits checks that the page does not scroll sideways: only the wide
	// tables do, inside their boxes.
	fits := func(where string) {
		t.Helper()
		if got := eval(`String(document.documentElement.scrollWidth - document.documentElement.clientWidth)`); got != "0" {
			t.Errorf("%s: the page is %s px wider than the window: %s", where, got, eval(`Array.from(document.querySelectorAll('body *')).filter(e =>
				e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !e.closest('.tablewrap')).slice(0, 8).map(e =>
				e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
		}
	}
	if err := browsertest.Do(ctx, 30*time.Second,
		chromedp.EmulateViewport(1366, 657),
		chromedp.Navigate(a.baseURL()+"/ewo?through=2026-11-24&weeks=6"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SetValue("#signin-form [name=email]", gen.EWOEmails[0]),
		chromedp.SetValue("#signin-form [name=password]", pw),
		chromedp.Click("#signin-form button"),
		chromedp.WaitVisible("#caseload-table"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS("12 caseload rows", `document.querySelectorAll('#caseload-rows tr').length === 12`)
	var cl engagement.Caseload
	evalJSON(`fetch('/api/v1/caseload?through=2026-11-24&weeks=6').then(r => r.text())`, &cl)
	if len(cl.Rows) != 12 || len(cl.Columns) != 21 || len(cl.Weeks) != 6 {
		t.Fatalf("caseload JSON: %d rows, %d columns, %d weeks", len(cl.Rows), len(cl.Columns), len(cl.Weeks))
	}
	// The status names both days in words, in the page's language.
	if s := eval(`document.getElementById('status').textContent`); !regexp.MustCompile(`^Sessions up to \D*\b24\b.*2026; weeks from \D*\b` +
		strings.TrimPrefix(cl.From[8:], "0") + `\b.*2026\.$`).MatchString(s) {
		t.Errorf("status %q, from %s", s, cl.From)
	}
	if s := eval(`document.getElementById('caseload-window').textContent`); !strings.Contains(s, "year to date, from") || !strings.Contains(s, "term to date, from") {
		t.Errorf("no word on the windows above the table: %q", s)
	}

	// The page is its CSV: the headers, and every row cell for cell.
	recs := readCSV(t, eval(`fetch(document.getElementById('caseload-csv').href).then(r => r.text())`))
	var head []string
	evalJSON(`JSON.stringify(Array.from(document.querySelectorAll('#caseload-head th')).map(c => c.textContent))`, &head)
	if len(recs) != 13 || !slices.Equal(recs[0], head) || !slices.Equal(head, cl.Columns) {
		t.Fatalf("caseload headers:\npage %q\nCSV  %q\nJSON %q", head, recs[0], cl.Columns)
	}
	pageRows := func() [][]string {
		t.Helper()
		var rows [][]string
		evalJSON(`JSON.stringify(Array.from(document.querySelectorAll('#caseload-rows tr')).map(r =>
			Array.from(r.children).map(c => c.textContent)))`, &rows)
		return rows
	}
	shown := map[string][]string{}
	for _, r := range pageRows() {
		shown[r[0]] = r
	}
	byNumber := map[string]engagement.CaseloadRow{}
	for _, r := range cl.Rows {
		byNumber[r.PupilNumber] = r
	}
	for _, r := range recs[1:] {
		r = unformula(r)
		if !slices.Equal(shown[r[0]], r) {
			t.Errorf("pupil %s:\nCSV  %q\npage %q", r[0], r, shown[r[0]])
		}
		if !slices.Equal(byNumber[r[0]].Cells, r) {
			t.Errorf("pupil %s: the JSON's cells are not the CSV's:\nCSV  %q\nJSON %q", r[0], r, byNumber[r[0]].Cells)
		}
	}
	// A change is a figure written here, no formula to guard: the CSV
	// has it as the page shows it ("-1:10", not "'-1:10").
	for _, r := range recs[1:] {
		if r[17] != byNumber[r[0]].Cells[17] {
			t.Errorf("pupil %s: change %q in the CSV, %q on the page", r[0], r[17], byNumber[r[0]].Cells[17])
		}
	}
	// Flags are chips; a generated school has severely absent pupils.
	if n := eval(`String(Array.from(document.querySelectorAll('#caseload-rows .flag.severe')).filter(c => c.textContent === 'severe absence').length)`); n == "0" {
		t.Fatal("no severe-absence chip on a generated school with severely absent pupils")
	}
	// The trend line is broken wherever a week has no figure: half term
	// (26 October) breaks every pupil's.
	var pieces []int
	evalJSON(`JSON.stringify(Array.from(document.querySelectorAll('#caseload-rows tr')).map(r =>
		r.querySelectorAll('svg.spark polyline.edu').length))`, &pieces)
	for i, r := range pageRows() {
		runs, gap := 0, true
		for _, v := range strings.Fields(r[engagement.ColTrend]) {
			if v != engagement.NoFigure && gap {
				runs++
			}
			gap = v == engagement.NoFigure
		}
		if pieces[i] != runs || !strings.Contains(r[engagement.ColTrend], engagement.NoFigure) {
			t.Errorf("pupil %s: trend %q drawn in %d pieces, want %d with a gap at half term", r[0], r[engagement.ColTrend], pieces[i], runs)
		}
	}

	// Sorting by the raw figures, no figure last, with aria-sort.
	order := func() []string {
		var ids []string
		for _, r := range pageRows() {
			ids = append(ids, r[0])
		}
		return ids
	}
	wantOrder := func(key func(engagement.CaseloadRow) *float64, desc bool) []string {
		rows := slices.Clone(cl.Rows)
		sort.SliceStable(rows, func(i, j int) bool {
			x, y := key(rows[i]), key(rows[j])
			switch {
			case x == nil || y == nil:
				return x != nil && y == nil
			case *x != *y:
				return (*x < *y) != desc
			}
			return rows[i].PupilNumber < rows[j].PupilNumber
		})
		var ids []string
		for _, r := range rows {
			ids = append(ids, r.PupilNumber)
		}
		return ids
	}
	ariaSort := func(key string) string {
		return eval(`document.querySelector('#caseload-head th[data-key=` + key + `]').getAttribute('aria-sort')`)
	}
	attendance := func(r engagement.CaseloadRow) *float64 { return r.YearToDate.AttendancePct }
	if err := chromedp.Do(ctx, chromedp.Click(`th[data-key=attendance_year] button`)); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), wantOrder(attendance, false); !slices.Equal(got, want) || ariaSort("attendance_year") != "ascending" {
		t.Fatalf("sorted by attendance: %v, want %v (aria-sort %q)", got, want, ariaSort("attendance_year"))
	}
	if err := chromedp.Do(ctx, chromedp.Click(`th[data-key=attendance_year] button`)); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), wantOrder(attendance, true); !slices.Equal(got, want) || ariaSort("attendance_year") != "descending" {
		t.Fatalf("sorted by attendance, descending: %v, want %v (aria-sort %q)", got, want, ariaSort("attendance_year"))
	}
	if s := ariaSort("education_year"); s != "none" {
		t.Fatalf("aria-sort of another column: %q", s)
	}
	// By keyboard: robot time, then days since the robot was used (never
	// is longest ago).
	robot := func(r engagement.CaseloadRow) *float64 { v := float64(r.Usage.Minutes); return &v }
	if err := chromedp.Do(ctx, chromedp.Focus(`th[data-key=robot_time] button`), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), wantOrder(robot, false); !slices.Equal(got, want) || ariaSort("robot_time") != "ascending" {
		t.Fatalf("sorted by robot time: %v, want %v", got, want)
	}
	since := func(r engagement.CaseloadRow) *float64 {
		v := 1e9
		if r.Usage.DaysSinceUsed != nil {
			v = float64(*r.Usage.DaysSinceUsed)
		}
		return &v
	}
	if err := chromedp.Do(ctx, chromedp.Focus(`th[data-key=days_since_used] button`), chromedp.KeyEvent(" ")); err != nil {
		t.Fatal(err)
	}
	if got, want := order(), wantOrder(since, false); !slices.Equal(got, want) || ariaSort("days_since_used") != "ascending" {
		t.Fatalf("sorted by days since used: %v, want %v", got, want)
	}

	// The usage filter hides the rows that do not match; the CSV keeps them.
	hidden := 0
	for _, f := range []struct {
		value string
		keep  func(engagement.CaseloadRow) bool
	}{
		{"used", func(r engagement.CaseloadRow) bool { return r.Usage.Minutes > 0 }},
		{"idle14", func(r engagement.CaseloadRow) bool {
			return r.Usage.DaysSinceUsed == nil || *r.Usage.DaysSinceUsed >= 14
		}},
		{"never", func(r engagement.CaseloadRow) bool { return r.Usage.DaysSinceUsed == nil }},
		{"all", func(engagement.CaseloadRow) bool { return true }},
	} {
		eval(`(() => { const s = document.getElementById('usage-filter'); s.value = '` + f.value + `';
			s.dispatchEvent(new Event('change')); return ''; })()`)
		var want []string
		for _, r := range cl.Rows {
			if f.keep(r) {
				want = append(want, r.PupilNumber)
			}
		}
		got := order()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("filter %s shows %v, want %v", f.value, got, want)
		}
		if c := eval(`document.getElementById('caseload-count').textContent`); c != fmt.Sprintf("Showing %d of 12 pupils.", len(want)) {
			t.Errorf("filter %s: count says %q", f.value, c)
		}
		hidden += 12 - len(want)
	}
	if hidden == 0 {
		t.Error("no usage filter hid a row of the generated caseload")
	}

	// Groups: the DfE's overall absence rate and shares of pupils.
	var groups [][]string
	evalJSON(`JSON.stringify(Array.from(document.querySelectorAll('#group-rows tr')).map(r => Array.from(r.children).map(c => c.textContent)))`, &groups)
	if len(groups) != len(cl.Groups) || len(groups) < 3 {
		t.Fatalf("%d group rows for %d groups", len(groups), len(cl.Groups))
	}
	whole := cl.Groups[len(cl.Groups)-1]
	last := groups[len(groups)-1]
	wantShare := func(n int, pct *float64) string {
		return fmt.Sprintf("%d of %d pupils (%.1f %%)", n, whole.PupilsCounted, *pct)
	}
	if whole.Level != "caseload" || last[0] != "Whole caseload" || last[1] != "12" ||
		last[2] != engagement.PctOf(whole.Measures.AbsencePct, whole.Measures.MarkedSessions) ||
		last[3] != wantShare(whole.PersistentPupils, whole.PersistentPct) || last[4] != wantShare(whole.SeverePupils, whole.SeverePct) ||
		last[6] != engagement.HM(whole.Measures.LearningMinutes) || last[7] != engagement.HM(whole.Measures.SocialMinutes) {
		t.Errorf("whole caseload row %q for %+v", last, whole)
	}
	if !strings.Contains(last[3], " of 12 pupils (") {
		t.Errorf("persistently absent %q", last[3])
	}

	// 1366×657: the page does not scroll sideways, the caseload table does.
	fits("caseload at 1366×657")
	if eval(`String(document.querySelector('#caseload .tablewrap').scrollWidth > document.querySelector('#caseload .tablewrap').clientWidth)`) != "true" {
		t.Log("the caseload table fits 1366 px without scrolling")
	}
	screenshot("ewo-caseload-1366")
	if shots != "" { // the table's right-hand side, scrolled to in its box
		eval(`const w = document.querySelector('#caseload .tablewrap'); w.scrollIntoView(); w.scrollLeft = w.scrollWidth; ''`)
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(filepath.Join(shots, "ewo-caseload-1366-scrolled.png"), buf, 0o644)
		}
	}
	// A phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	fits("caseload on a phone")
	screenshot("ewo-caseload-phone")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 657)); err != nil {
		t.Fatal(err)
	}

	// The page of the pupil who used the robot most.
	for i := 0; i < 2 && ariaSort("robot_time") != "descending"; i++ {
		if err := chromedp.Do(ctx, chromedp.Click(`th[data-key=robot_time] button`)); err != nil {
			t.Fatal(err)
		}
	}
	pupil := order()[0]
	if err := chromedp.Do(ctx, chromedp.Click(`#caseload-rows tr:first-child a`), chromedp.WaitVisible("#grid")); err != nil {
		t.Fatal(err)
	}
	waitJS("6 weeks in the grid", `document.querySelectorAll('#grid-rows tr').length === 6`)
	var h engagement.PupilHistory
	evalJSON(`fetch('/api/v1/pupils/' + encodeURIComponent(location.hash.slice('#pupil='.length)) +
		'/history?through=2026-11-24&weeks=6').then(r => r.text())`, &h)
	if h.Pupil.PupilNumber != pupil || len(h.Weeks) != 6 {
		t.Fatalf("history of %s: %d weeks", h.Pupil.PupilNumber, len(h.Weeks))
	}
	// The grid is its CSV, headers and cells.
	grid := readCSV(t, eval(`fetch(document.getElementById('pupil-csv').href).then(r => r.text())`))
	var page [][]string
	evalJSON(`JSON.stringify([Array.from(document.querySelectorAll('#grid-head th')).map(c => c.textContent)].concat(
		Array.from(document.querySelectorAll('#grid-rows tr')).map(r => Array.from(r.children).map(c => c.textContent))))`, &page)
	if len(grid) != 7 || len(page) != 7 || !slices.Equal(grid[0], h.Columns) || len(h.Columns) != 19 {
		t.Fatalf("grid: CSV %d rows, page %d, columns %q", len(grid), len(page), h.Columns)
	}
	for i := range grid {
		if want := unformula(grid[i]); !slices.Equal(page[i], want) {
			t.Errorf("grid row %d:\nCSV  %q\npage %q", i, want, page[i])
		}
	}
	if !strings.Contains(fmt.Sprint(page), "robot") {
		t.Error("no session shows engagement through the robot")
	}
	// The chart: bars only for weeks with figures; words for the others.
	var att, edu, noSchool, notMarked int
	for _, w := range h.Weeks {
		switch {
		case w.PossibleSessions == 0:
			noSchool++
		case w.AttendancePct == nil:
			notMarked++
		default:
			att++
		}
		if w.PossibleSessions > 0 && w.EducationPct != nil {
			edu++
		}
	}
	chart := eval(`[document.querySelectorAll('#week-chart rect.bar-att').length, document.querySelectorAll('#week-chart rect.bar-edu').length,
		Array.from(document.querySelectorAll('#week-chart text')).filter(t => t.textContent === 'no school').length,
		Array.from(document.querySelectorAll('#week-chart text')).filter(t => t.textContent === 'not marked').length].join(' ')`)
	if want := fmt.Sprint(att, edu, noSchool, notMarked); chart != want || noSchool == 0 {
		t.Fatalf("chart bars/labels %q, want %q (half term is no school)", chart, want)
	}
	// The summary (also the printed one) reads like the caseload.
	summary := map[string]string{}
	evalJSON(`JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll('#pupil-summary > div')).map(d =>
		[d.dataset.key, d.querySelector('dd').textContent])))`, &summary)
	flags := engagement.FlagText(h.YearToDate)
	if h.UnmarkedOverdue > 0 {
		flags = strings.TrimPrefix(flags+"; "+strconv.Itoa(h.UnmarkedOverdue)+" session"+map[bool]string{true: "", false: "s"}[h.UnmarkedOverdue == 1]+
			" not marked after two school days", "; ")
	}
	if flags == "" {
		flags = "none"
	}
	for key, want := range map[string]string{
		"attendance-term": engagement.PctOf(h.TermToDate.AttendancePct, h.TermToDate.MarkedSessions),
		"attendance-year": engagement.PctOf(h.YearToDate.AttendancePct, h.YearToDate.MarkedSessions),
		"education-term":  engagement.PctOf(h.TermToDate.EducationPct, h.TermToDate.KnownSessions),
		"education-year":  engagement.PctOf(h.YearToDate.EducationPct, h.YearToDate.KnownSessions),
		"learning":        engagement.HM(h.TermToDate.LearningMinutes),
		"social":          engagement.HM(h.TermToDate.SocialMinutes),
		"active":          strconv.Itoa(h.TermToDate.ActiveMinutes),
		"flags":           flags,
		"last-week":       byNumber[pupil].Cells[15],
	} {
		if summary[key] != want {
			t.Errorf("summary %s: %q, want %q", key, summary[key], want)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d % of \d+ sessions?$`).MatchString(summary["attendance-term"]) ||
		!regexp.MustCompile(`^\d+:\d\d$`).MatchString(summary["learning"]) ||
		!strings.HasPrefix(summary["robot"], byNumber[pupil].Cells[16]+" (") {
		t.Errorf("summary %q", summary)
	}
	fits("pupil page at 1366×657")
	screenshot("ewo-pupil")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	fits("pupil page on a phone")
	screenshot("ewo-pupil-phone")
	// Printing: the controls go, the summary stays.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := eval(`[getComputedStyle(document.querySelector('.bar')).display, getComputedStyle(document.getElementById('pupil-summary')).display,
		getComputedStyle(document.getElementById('printed')).display, getComputedStyle(document.getElementById('range')).display].join(' ')`); got != "none grid block none" {
		t.Fatalf("print styles: %q", got)
	}
	if s := eval(`document.getElementById('pupil-summary').innerText`); !strings.Contains(s, summary["attendance-term"]) {
		t.Fatalf("printed summary %q", s)
	}
	// A report cannot end after today: the page says the server's words.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(a.baseURL()+"/ewo?through=2099-01-05&weeks=6")); err != nil {
		t.Fatal(err)
	}
	waitJS("the future_date refusal", `document.getElementById('status').textContent.includes('cannot end after today') &&
		document.getElementById('caseload').hidden`)
}

// unformula undoes the CSV's guard against formulas in the cells people
// typed (number, name, school, class): a name the page shows as "=X" is
// written "'=X".
func unformula(rec []string) []string {
	out := make([]string, len(rec))
	for i, c := range rec {
		if i <= engagement.ColName+2 && len(c) > 1 && c[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(c[1])) {
			c = c[1:]
		}
		out[i] = c
	}
	return out
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q: %v", s, err)
	}
	return recs
}
