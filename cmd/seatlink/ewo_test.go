package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
)

// An EWO signs in to the caseload page of a generated school: the table
// shows every pupil with flags and a trend line and sorts by a column;
// its CSV download has exactly the rows and figures shown; the pupil page
// draws the weekly chart and the register grid beside engagement, whose
// CSV matches the grid cell for cell; printing hides the controls.
func TestBrowserEWOCaseload(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	const pw = "generated test password"
	gen, err := engagement.GenerateLA(context.Background(), a.db, a.people, engagement.LAOptions{Schools: 1, Pupils: 12,
		Password: pw, GenOptions: engagement.GenOptions{Weeks: 6, Seed: 3, Until: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}})
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
	waitJS := func(what, js string) {
		t.Helper()
		waitFor(t, 15*time.Second, what, func() bool {
			ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			return ok
		})
	}
	if err := browsertest.Do(ctx, 30*time.Second,
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
	// Each trend line is broken by half term (26 October): two pieces.
	if n := eval(`String(document.querySelectorAll('#caseload-rows svg.spark polyline.edu').length)`); n != "24" {
		t.Fatalf("%s trend line pieces, want 24", n)
	}
	if !strings.Contains(eval(`document.getElementById('caseload-rows').textContent`), "Severe") {
		t.Fatal("no severe-absence flag on a generated school with severely absent pupils")
	}
	// Sort by education %: first ascending, then descending.
	column := func(i int) []float64 {
		var out []float64
		for _, s := range strings.Fields(eval(`Array.from(document.querySelectorAll('#caseload-rows tr')).map(r => r.children[` +
			strconv.Itoa(i) + `].textContent).join(' ')`)) {
			f, _ := strconv.ParseFloat(s, 64)
			out = append(out, f)
		}
		return out
	}
	if err := chromedp.Do(ctx, chromedp.Click(`th[data-key=education_pct]`)); err != nil {
		t.Fatal(err)
	}
	edu := column(6)
	if len(edu) != 12 || edu[0] < edu[11] {
		t.Fatalf("sorted descending by education %%: %v", edu)
	}
	if s := eval(`document.querySelector('th[data-key=education_pct]').getAttribute('aria-sort')`); s != "descending" {
		t.Fatalf("aria-sort %q", s)
	}
	// The CSV download is the table.
	recs := readCSV(t, eval(`fetch(document.getElementById('caseload-csv').href).then(r => r.text())`))
	if len(recs) != 13 || strings.Join(recs[0], ",") != strings.Join(engagement.CaseloadColumns, ",") {
		t.Fatalf("caseload CSV: %v", recs)
	}
	shown := map[string]string{}
	for _, line := range strings.Split(eval(`Array.from(document.querySelectorAll('#caseload-rows tr')).map(r =>
		[0,4,5,6,7,8,9,11,12].map(i => r.children[i].textContent).join('|')).join('\n')`), "\n") {
		shown[strings.SplitN(line, "|", 2)[0]] = line
	}
	for _, r := range recs[1:] {
		want := strings.Join([]string{r[0], r[4], r[5], r[6], r[7], r[8], r[9], r[11], r[12]}, "|")
		if shown[r[0]] != want {
			t.Errorf("CSV row %s, page shows %s", want, shown[r[0]])
		}
	}
	// The page of the pupil who engages most through the robot.
	if err := chromedp.Do(ctx, chromedp.Click(`th[data-key=remote_pct]`), chromedp.Click(`th[data-key=remote_pct]`),
		chromedp.Click(`#caseload-rows tr:first-child a`), chromedp.WaitVisible("#grid")); err != nil {
		t.Fatal(err)
	}
	waitJS("6 weeks in the grid", `document.querySelectorAll('#grid-rows tr').length === 6`)
	if n := eval(`String(document.querySelectorAll('#week-chart rect').length)`); n != "10" {
		t.Fatalf("%s bars in the weekly chart, want 10 (6 weeks but half term, × attendance and engagement)", n)
	}
	grid := readCSV(t, eval(`fetch(document.getElementById('pupil-csv').href).then(r => r.text())`))
	page := eval(`[Array.from(document.querySelectorAll('#grid-head th')).map(c => c.textContent).join('|')].concat(
		Array.from(document.querySelectorAll('#grid-rows tr')).map(r => Array.from(r.children).map(c => c.textContent).join('|'))).join('\n')`)
	var fromCSV []string
	for i, r := range grid {
		if i == 0 {
			fromCSV = append(fromCSV, "Week|Possible|Attendance %|Education %|Learning h|Social h|Active min|"+strings.Join(r[7:], "|"))
			continue
		}
		fromCSV = append(fromCSV, strings.Join(r, "|"))
	}
	if page != strings.Join(fromCSV, "\n") {
		t.Fatalf("the pupil page and its CSV differ:\npage:\n%s\ncsv:\n%s", page, strings.Join(fromCSV, "\n"))
	}
	if !strings.Contains(page, "robot") {
		t.Error("no session shows engagement through the robot")
	}
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "ewo-pupil.png"))
	}
	// Printing: the controls go, the summary stays.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := eval(`[getComputedStyle(document.querySelector('.bar')).display, getComputedStyle(document.getElementById('pupil-summary')).display,
		getComputedStyle(document.getElementById('printed')).display].join(' ')`); got != "none grid block" {
		t.Fatalf("print styles: %q", got)
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q: %v", s, err)
	}
	return recs
}
