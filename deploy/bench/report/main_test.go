package main

import (
	"strings"
	"testing"

	"seatlink/devices/sim"
)

// Runs pair in order per size, ratios are Seatlink over LiveKit, and the
// headline is their median.
func TestComparisonPairsRunsInOrder(t *testing.T) {
	rep := func(links int, coresPerGb, rss float64) sim.LoadReport {
		return sim.LoadReport{Links: links, LinksWithMedia: links, Seconds: 10, ServerCoresPerGbS: coresPerGb, ServerRSSMiB: rss}
	}
	ours := []sim.LoadReport{rep(10, 8, 110), rep(10, 9, 120), rep(50, 4, 200)}
	peer := []sim.LoadReport{rep(10, 10, 150), rep(10, 10, 150), rep(50, 8, 350)}
	got := comparison(ours, peer, 100, 100)
	for _, want := range []string{
		"| 10 | 1 |", "| 10 | 2 |", "| 50 | 1 |",
		"| 0.80 |", "| 0.90 |", "| 0.50 |", // cores per Gbit/s ratios
		"median 0.80 over 3 paired runs (0.50 to 0.90)",
		"Memory per link above idle: median 0.40 (0.20 to 0.40)", // (10/10)/(50/10), (20/10)/(50/10), (100/50)/(250/50)
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if got := comparison(ours, nil, 0, 0); !strings.Contains(got, "Not run") {
		t.Errorf("no peer runs: %s", got)
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
}

func TestKeptSection(t *testing.T) {
	page := "# B\n\n## Load\n\nx\n\n## Networks\n\nline 1\n\n| a | b |\n\n## Peer\n\ny\n"
	if got, want := keptSection(page, "## Networks"), "\n## Networks\n\nline 1\n\n| a | b |\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := keptSection("# B\n\n## Networks\n\nlast\n", "## Networks"); got != "\n## Networks\n\nlast\n" {
		t.Fatalf("at the end: %q", got)
	}
	if got := keptSection("# B\n", "## Networks"); got != "" {
		t.Fatalf("absent: %q", got)
	}
}
