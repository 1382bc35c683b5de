package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Screens are the windows people really have: a small phone, a phone
// upright and on its side, an iPad in landscape with its browser's bars,
// and a 1366x768 Chromebook's browser window.
var Screens = []struct {
	Name          string
	Width, Height int64
}{
	{"phone 320x568", 320, 568},
	{"phone 390x844", 390, 844},
	{"phone landscape 844x390", 844, 390},
	{"tablet 1024x700", 1024, 700},
	{"laptop 1366x657", 1366, 657},
}

// AxePath finds axe-core's axe.min.js: $SEATLINK_AXE, or where the test
// command installs it. Without it a test skips, except under CI.
func AxePath(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("SEATLINK_AXE")}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".cache", "seatlink-axe", "node_modules", "axe-core", "axe.min.js"))
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("axe-core not found (deploy/test.sh installs it; or set SEATLINK_AXE to axe.min.js); CI does not skip")
	}
	t.Skip("axe-core not found; deploy/test.sh installs it, or set SEATLINK_AXE to axe.min.js")
	return ""
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s): %s", v.ID, v.Help, strings.Join(v.Nodes, " | "))
}

// Axe runs axe-core on the page as it is now, for WCAG 2.2 A and AA, and
// returns what it breaks.
func Axe(ctx context.Context, t testing.TB) []Violation {
	t.Helper()
	src, err := os.ReadFile(AxePath(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.axe ? true : (function(){ `+string(src)+` ; return true })()`)); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {
	    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
	    resultTypes: ['violations'],
	  }).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help,
	    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' '))}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// Layout is where a page stands in its window: the document's width and
// height against the viewport's, and the elements (by selector) that lie
// outside the viewport or are not shown at all.
type Layout struct {
	ViewportW, ViewportH int
	DocW, DocH           int
	Outside              []string
}

// Measure measures the page in its window; selectors name the elements
// that must lie wholly inside it.
func Measure(ctx context.Context, selectors ...string) (Layout, error) {
	list, _ := json.Marshal(selectors)
	js := `(() => {
	  const out = {ViewportW: innerWidth, ViewportH: innerHeight,
	    DocW: document.documentElement.scrollWidth, DocH: document.documentElement.scrollHeight, Outside: []};
	  for (const sel of ` + string(list) + `) {
	    const els = document.querySelectorAll(sel);
	    if (!els.length) { out.Outside.push(sel + ' (none on the page)'); continue; }
	    for (const el of els) {
	      const r = el.getBoundingClientRect();
	      if (r.width === 0 || r.height === 0) { out.Outside.push(sel + ' (not shown)'); continue; }
	      if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5) {
	        out.Outside.push(sel + ' at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(','));
	      }
	    }
	  }
	  return JSON.stringify(out);
	})()`
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		return Layout{}, err
	}
	var l Layout
	err = json.Unmarshal([]byte(s), &l)
	return l, err
}
