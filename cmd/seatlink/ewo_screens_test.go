package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"seatlink/casework"
	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/people"
)

// pageTool drives one tab for the layout, axe-core and print checks of
// the EWO, plan and parent pages.
type pageTool struct {
	t   *testing.T
	ctx context.Context
	a   *app
}

func (p pageTool) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return s
}

func (p pageTool) wait(what, js string) {
	p.t.Helper()
	waitFor(p.t, 20*time.Second, what, func() bool {
		ok, _ := chromedp.Run(p.ctx, chromedp.Evaluate[bool](js))
		return ok
	})
}

func (p pageTool) open(path, visible string) {
	p.t.Helper()
	if err := browsertest.Do(p.ctx, 30*time.Second, chromedp.EmulateViewport(1366, 657), chromedp.Navigate(p.a.baseURL()+path),
		chromedp.WaitVisible(visible)); err != nil {
		p.t.Fatal(err)
	}
}

func (p pageTool) signIn(path, email, pw, visible string) {
	p.t.Helper()
	if err := browsertest.Do(p.ctx, 30*time.Second, chromedp.EmulateViewport(1366, 657), chromedp.Navigate(p.a.baseURL()+path),
		chromedp.WaitVisible("#signin-form"), chromedp.SetValue("#signin-form [name=email]", email),
		chromedp.SetValue("#signin-form [name=password]", pw), chromedp.Click("#signin-form button"),
		chromedp.WaitVisible(visible)); err != nil {
		p.t.Fatal(err)
	}
}

// screens checks the page at every browsertest.Screens size: the document
// no wider than the window (WCAG 2.2 reflow: a wide table scrolls inside
// its own region, never the page). It ends at 1366×657.
func (p pageTool) screens(where string) {
	p.t.Helper()
	for _, s := range browsertest.Screens {
		opts := []chromedp.EmulateViewportOption{}
		if s.Width < 900 {
			opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
		}
		if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(s.Width, s.Height, opts...)); err != nil {
			p.t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond) // the chart redraws after a resize
		l, err := browsertest.Measure(p.ctx, []string{}...)
		if err != nil {
			p.t.Fatal(err)
		}
		if l.DocW > l.ViewportW {
			p.t.Errorf("%s at %s: the document is %d px wide in a %d px window: %s", where, s.Name, l.DocW, l.ViewportW,
				p.eval(`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > innerWidth + 1 &&
					!e.closest('.tablewrap') && e.getClientRects().length).slice(0, 6).map(e => e.tagName + (e.id ? '#' + e.id : '') +
					'.' + e.getAttribute('class') + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')`))
		}
		p.shot(where + "-" + strings.Fields(s.Name)[len(strings.Fields(s.Name))-1])
	}
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1366, 657)); err != nil {
		p.t.Fatal(err)
	}
}

// axe runs axe-core on the page as it is: WCAG 2.2 A and AA, no violation.
func (p pageTool) axe(where string) {
	p.t.Helper()
	for _, v := range browsertest.Axe(p.ctx, p.t) {
		p.t.Errorf("%s: %s", where, v)
	}
}

func (p pageTool) shot(name string) {
	dir := os.Getenv("SEATLINK_SCREENSHOTS")
	if dir == "" {
		return
	}
	if buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	}
}

var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// printedPages prints the page as a browser prints it on A4 landscape
// paper (the page's own @page size) and counts the PDF's pages.
func (p pageTool) printedPages(name string) int {
	p.t.Helper()
	yes := true
	res, err := chromedp.Call(p.ctx, page.PrintToPDF, page.PrintToPDFParams{Landscape: &yes, PaperWidth: 11.69, PaperHeight: 8.27,
		PreferCSSPageSize: &yes, PrintBackground: &yes})
	pdf := res.Data
	if err != nil {
		p.t.Fatal(err)
	}
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name+".pdf"), pdf, 0o644)
	}
	return len(pdfPage.FindAll(pdf, -1))
}

// The caseload and the EWO's pupil page in English and in Welsh: no
// sideways scrolling of the page at any screen, 0 axe-core violations;
// the caseload's columns are chosen to fit (the pupil's name stays in
// view); the register's mark buttons are at least 24×24 px; the printed
// summary is one A4 landscape page for 6 and for 12 weeks; the CSV
// downloads are named with the pupil number (or caseload) and the dates.
func TestBrowserEWOScreensAxePrint(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	const pw = "generated test password"
	gen, err := engagement.GenerateLA(context.Background(), a.db, a.people, engagement.LAOptions{Schools: 1, Pupils: 12,
		Password: pw, GenOptions: engagement.GenOptions{Seed: 3, Until: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatal(err)
	}
	p := pageTool{t: t, ctx: ctx, a: a}
	p.signIn("/ewo?through=2026-11-24&weeks=6", gen.EWOEmails[0], pw, "#caseload-table")
	for _, lang := range []string{"en", "cy"} {
		p.open("/ewo?through=2026-11-24&weeks=6&lang="+lang, "#caseload-table")
		p.wait("12 caseload rows", `document.body.dataset.ready === '1' && document.querySelectorAll('#caseload-rows tr').length === 12`)
		if got := p.eval(`document.documentElement.lang + ' ' + document.querySelector('#caseload h1').textContent`); lang == "cy" &&
			got != "cy Llwyth achosion: presenoldeb ochr yn ochr ag ymgysylltu" {
			t.Errorf("Welsh caseload: %q", got)
		}
		// At 1366 px the chosen columns fit without scrolling the table;
		// the name column is always shown and sticks to the left.
		if got := p.eval(`(() => { const w = document.querySelector('#caseload .tablewrap');
			return [w.scrollWidth <= w.clientWidth, getComputedStyle(document.querySelector('#caseload-rows th.stick')).position,
			document.querySelectorAll('#caseload-head th:not([hidden])').length].join(' '); })()`); got != "true sticky 12" {
			t.Errorf("%s caseload at 1366 px: fits, name column, columns shown: %q", lang, got)
		}
		p.screens("caseload-" + lang)
		p.axe("caseload in " + lang)
		if lang == "en" {
			// Every column can be shown; the table then scrolls in its own
			// labelled, focusable region, the page still does not.
			if err := chromedp.Do(ctx, chromedp.Click("#columns summary"), chromedp.Click("#columns-all")); err != nil {
				t.Fatal(err)
			}
			if got := p.eval(`String(document.querySelectorAll('#caseload-head th:not([hidden])').length)`); got != "21" {
				t.Errorf("show all: %s columns", got)
			}
			p.screens("caseload-all-columns")
			if got := p.eval(`(() => { const w = document.querySelector('#caseload .tablewrap');
				return [w.scrollWidth > w.clientWidth, w.getAttribute('role'), w.tabIndex, !!document.getElementById(w.getAttribute('aria-labelledby'))].join(' '); })()`); got != "true region 0 true" {
				t.Errorf("the wide table's region: %q", got)
			}
			p.axe("caseload with every column, columns chooser open")
			if err := chromedp.Do(ctx, chromedp.Click("#columns-fit"), chromedp.Click("#columns summary")); err != nil {
				t.Fatal(err)
			}
			// The caseload's CSV is named with its dates.
			if got := p.eval(`fetch(document.getElementById('caseload-csv').href).then(r => r.headers.get('content-disposition'))`); got !=
				`attachment; filename="seatlink-caseload-2026-10-19-to-2026-11-24.csv"` {
				t.Errorf("caseload CSV: %q", got)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Click(`#caseload-rows tr:first-child a`), chromedp.WaitVisible("#grid")); err != nil {
			t.Fatal(err)
		}
		p.wait("6 weeks in the grid", `document.querySelectorAll('#grid-rows tr').length === 6 && !document.getElementById('pupil').hidden`)
		p.screens("ewo-pupil-" + lang)
		p.axe("EWO's pupil page in " + lang)
	}
	number := p.eval(`document.querySelector('#grid-rows') && document.getElementById('pupil-name').textContent.replace(/^.*\((.*)\)$/, '$1')`)
	if got, want := p.eval(`fetch(document.getElementById('pupil-csv').href).then(r => r.headers.get('content-disposition'))`),
		`attachment; filename="seatlink-`+number+`-2026-10-19-to-2026-11-24.csv"`; got != want {
		t.Errorf("pupil CSV: %q, want %q", got, want)
	}

	// Printing: one A4 landscape page, for 6 weeks and for 12 (and in
	// Welsh, whose words are longer), with the pupil's standing barriers
	// and open support: more than the page holds, so "and N more".
	hash := p.eval(`location.hash`)
	pupilID := strings.TrimPrefix(hash, "#pupil=")
	sys := people.System
	sys.LAID = gen.LAID
	long := strings.Repeat("She says the corridors at change-over are too loud and crowded, and she cannot face them. ", 4)
	for i, kind := range []string{"anxiety", "bullying", "transport", "family", "send", "other", "illness"} {
		b, err := a.casework.AddBarrier(context.Background(), sys, pupilID, kind, casework.Voices[i%4], long)
		if err != nil {
			t.Fatal(err)
		}
		if kind == "illness" {
			if err := a.casework.ResolveBarrier(context.Background(), sys, b.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; i < 7; i++ {
		s, err := a.casework.AddSupport(context.Background(), sys, pupilID, fmt.Sprintf("Action %d: %s", i+1, long), "Mrs Evans, key adult",
			time.Now().AddDate(0, 0, 7*i-7).Format(time.DateOnly))
		if err != nil {
			t.Fatal(err)
		}
		if i == 6 {
			if err := a.casework.SetSupportStatus(context.Background(), sys, s.ID, "done"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, pr := range []struct {
		weeks int
		lang  string
	}{{6, "en"}, {12, "en"}, {12, "cy"}} {
		weeks := pr.weeks
		p.open(fmt.Sprintf("/ewo?through=2026-11-24&weeks=%d&lang=%s%s", weeks, pr.lang, hash), "#grid")
		p.wait(fmt.Sprint(weeks, " weeks"), fmt.Sprintf(`document.querySelectorAll('#grid-rows tr').length === %d && document.body.dataset.ready === '1'`, weeks))
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		if got := p.eval(`[getComputedStyle(document.querySelector('.bar')).display, getComputedStyle(document.getElementById('printed')).display,
			document.querySelectorAll('#week-chart rect').length > 0].join(' ')`); got != "none block true" {
			t.Errorf("print styles: %q", got)
		}
		// Six barriers standing and six actions open: three of each, then "and 3 more".
		more := map[string]string{"en": "and 3 more", "cy": "a 3 arall"}[pr.lang]
		if got := p.eval(`[getComputedStyle(document.getElementById('support-print')).display, getComputedStyle(document.getElementById('support-panel')).display,
			...['print-barriers', 'print-support'].map(id => document.querySelectorAll('#' + id + ' li').length + ':' +
			document.querySelector('#' + id + ' li:last-child').textContent)].join('|')`); got != "block|none|4:"+more+"|4:"+more {
			t.Errorf("%s printed barriers and support: %q", pr.lang, got)
		}
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""}); err != nil {
			t.Fatal(err)
		}
		if n := p.printedPages(fmt.Sprintf("ewo-print-%dweeks-%s", weeks, pr.lang)); n != 1 {
			t.Errorf("the %d-week summary in %s prints on %d A4 landscape pages, want 1", weeks, pr.lang, n)
		}
	}

	// The admin may enter marks: each mark button is at least 24×24 px,
	// at a laptop's width and a phone's.
	if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}
	p.signIn("/ewo?through=2026-11-24&weeks=6&lang=en"+hash, gen.AdminEmail, pw, "#grid button.mark")
	for _, w := range []int64{1366, 320} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 700)); err != nil {
			t.Fatal(err)
		}
		var sizes [][2]float64
		if err := json.Unmarshal([]byte(p.eval(`JSON.stringify(Array.from(document.querySelectorAll('#grid button.mark')).map(b => {
			const r = b.getBoundingClientRect(); return [r.width, r.height]; }))`)), &sizes); err != nil || len(sizes) < 30 {
			t.Fatalf("mark buttons: %v %v", sizes, err)
		}
		for _, s := range sizes {
			if s[0] < 24 || s[1] < 24 {
				t.Errorf("at %d px a mark button is %.0f×%.0f px, under 24×24", w, s[0], s[1])
				break
			}
		}
	}
	p.screens("ewo-pupil-admin")
	p.axe("pupil page with mark buttons")
}
