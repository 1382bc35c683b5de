package engagement

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func ev(s int, kind string) Event { return Event{At: at(s), Kind: kind, PupilID: "p", LinkID: "l"} }

// alive returns media_alive evidence every 5 s in [from, to].
func alive(from, to int) []Event {
	var out []Event
	for s := from; s <= to; s += 5 {
		out = append(out, ev(s, MediaAlive))
	}
	return out
}

// monday is a clock time on Monday 23 November 2026 (UTC).
func monday(h, m, sec int) time.Time { return time.Date(2026, 11, 23, h, m, sec, 0, time.UTC) }

// aliveFrom returns media_alive evidence every 5 s in [from, to].
func aliveFrom(from, to time.Time) []Event {
	var out []Event
	for t := from; !t.After(to); t = t.Add(5 * time.Second) {
		out = append(out, Event{At: t, Kind: MediaAlive, Value: 5})
	}
	return out
}

func join(parts ...[]Event) []Event {
	var out []Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Hand-worked fixtures: each case's intervals were worked out by hand.
func TestConnectedFixtures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []Event
		want   []Interval
	}{
		{"clean session", join([]Event{ev(0, SessionUp), ev(2, MediaStarted)}, alive(7, 57), []Event{ev(60, MediaStopped), ev(61, SessionDown)}),
			[]Interval{{at(2), at(60)}}},
		{"crash: no stop, closes at the last evidence", join([]Event{ev(0, SessionUp), ev(2, MediaStarted)}, alive(7, 42)),
			[]Interval{{at(2), at(42)}}},
		{"server restart closes the open interval at its last evidence",
			join([]Event{ev(2, MediaStarted)}, alive(7, 22), []Event{ev(90, ServerStarted), ev(95, SessionUp), ev(96, MediaStarted)}, alive(101, 111)),
			[]Interval{{at(2), at(22)}, {at(96), at(111)}}},
		{"reconnect with a gap", join([]Event{ev(0, MediaStarted)}, alive(5, 30), []Event{ev(30, SessionDown), ev(33, SessionUp), ev(34, MediaStarted)},
			alive(39, 59), []Event{ev(60, MediaStopped)}),
			[]Interval{{at(0), at(30)}, {at(34), at(60)}}},
		{"a second start while open counts nothing twice", join([]Event{ev(0, MediaStarted), ev(10, MediaStarted), ev(20, MediaStarted)},
			[]Event{ev(30, MediaStopped)}), []Interval{{at(0), at(30)}}},
		{"alive without a recorded start", join(alive(10, 30), []Event{ev(31, MediaStopped)}), []Interval{{at(10), at(31)}}},
		{"stop without start", []Event{ev(5, MediaStopped)}, nil},
		{"session only, media never reached the pupil", []Event{ev(0, SessionUp), ev(50, SessionDown)}, nil},
		// The recorder dropped the stop and the next session_up: evidence
		// every 5 s to 13:20 on Monday, then the next start on Tuesday at
		// 09:00. The gap (19 h 40 min) is far more than two alive
		// intervals, so Monday's interval ends at its last evidence, 13:20:
		// 5 min, not 19 h 45 min.
		{"overnight gap: the stop and the next session_up lost",
			join([]Event{{At: monday(13, 15, 0), Kind: MediaStarted, Value: 5}}, aliveFrom(monday(13, 15, 5), monday(13, 20, 0)),
				[]Event{{At: monday(13, 15, 0).Add(19*time.Hour + 45*time.Minute), Kind: MediaStarted, Value: 5},
					{At: monday(13, 15, 0).Add(19*time.Hour + 55*time.Minute), Kind: MediaStopped}}),
			[]Interval{{monday(13, 15, 0), monday(13, 20, 0)}, {monday(13, 15, 0).Add(19*time.Hour + 45*time.Minute), monday(13, 15, 0).Add(19*time.Hour + 55*time.Minute)}}},
		// A session_down long after the last evidence (the stop was lost):
		// the media ended unrecorded after 10 s of evidence, so the
		// interval ends at the last evidence, not at the session's end.
		{"session_down after a gap closes at the last evidence", join([]Event{ev(0, MediaStarted)}, alive(5, 10), []Event{ev(600, SessionDown)}),
			[]Interval{{at(0), at(10)}}},
		// Evidence that says it repeats every 10 minutes (the generator's)
		// is no gap at 10 minutes: 0 to 30 min.
		{"a stated cadence of 10 minutes", []Event{{At: at(0), Kind: MediaStarted, Value: 600}, {At: at(600), Kind: MediaAlive, Value: 600},
			{At: at(1200), Kind: MediaAlive, Value: 600}, {At: at(1800), Kind: SessionDown}}, []Interval{{at(0), at(1800)}}},
		// Just inside two alive intervals (10 s) is no gap; just past it is.
		{"10 s between evidence is no gap", []Event{ev(0, MediaStarted), ev(10, MediaAlive), ev(20, SessionDown)}, []Interval{{at(0), at(20)}}},
		{"11 s between evidence is a gap", []Event{ev(0, MediaStarted), ev(11, MediaAlive), ev(16, SessionDown)}, []Interval{{at(11), at(16)}}},
	} {
		got := Connected(tc.events)
		if !equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSpeakingFixtures(t *testing.T) {
	events := join([]Event{ev(0, MediaStarted)}, alive(5, 60), []Event{
		ev(10, VoiceStart), ev(14, VoiceStop), // 4 s
		ev(20, VoiceStart), ev(21, VoiceStart), ev(25, VoiceStop), // 5 s, the repeat start ignored
		ev(58, VoiceStart), // open at the end: until the last evidence (60)
	})
	want := []Interval{{at(10), at(14)}, {at(20), at(25)}, {at(58), at(60)}}
	if got := Speaking(events); !equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Speech outside connected time does not count.
	if got := Speaking([]Event{ev(0, VoiceStart), ev(10, VoiceStop)}); len(got) != 0 {
		t.Fatalf("speaking with no media: %v", got)
	}
}

func equal(a, b []Interval) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].From.Equal(b[i].From) || !a[i].To.Equal(b[i].To) {
			return false
		}
	}
	return true
}

// randomLog makes a plausible, messy event log.
func randomLog(r *rand.Rand) []Event {
	kinds := []string{SessionUp, SessionDown, MediaStarted, MediaStopped, MediaAlive, MediaAlive, MediaAlive, VoiceStart,
		VoiceStop, ServerStarted, HandRaised}
	n := r.IntN(60)
	out := make([]Event, n)
	for i := range out {
		out[i] = ev(r.IntN(3600), kinds[r.IntN(len(kinds))])
	}
	return out
}

// Properties that hold for any log.
func TestIntervalProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		log := randomLog(r)
		conn := Connected(log)
		// Sorted, non-overlapping, positive, inside the log's span.
		for k, iv := range conn {
			if !iv.From.Before(iv.To) {
				t.Fatalf("empty or reversed interval %v in %v", iv, log)
			}
			if k > 0 && !conn[k-1].To.Before(iv.From) {
				t.Fatalf("overlapping or touching intervals %v", conn)
			}
		}
		// Speaking never exceeds connected time, and lies inside it.
		speak := Speaking(log)
		if Total(speak) > Total(conn) || Total(Intersect(speak, conn)) != Total(speak) {
			t.Fatalf("speaking %v outside connected %v", speak, conn)
		}
		// Duplicated events change nothing.
		if !equal(Connected(append(append([]Event(nil), log...), log...)), conn) {
			t.Fatalf("duplicates changed the intervals of %v", log)
		}
		// Order of arrival changes nothing.
		shuffled := append([]Event(nil), log...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if Total(Connected(shuffled)) != Total(conn) {
			t.Fatalf("order changed the totals of %v", log)
		}
	}
}

// Splitting a session across a reconnect (down and up at the same
// instant, media resuming at once) gives the same totals as one session.
func TestReconnectSplitKeepsTotals(t *testing.T) {
	whole := join([]Event{ev(0, SessionUp), ev(0, MediaStarted)}, alive(5, 115), []Event{ev(120, MediaStopped)})
	split := join([]Event{ev(0, SessionUp), ev(0, MediaStarted)}, alive(5, 60), []Event{ev(60, SessionDown), ev(60, SessionUp),
		ev(60, MediaStarted)}, alive(65, 115), []Event{ev(120, MediaStopped)})
	if a, b := Total(Connected(whole)), Total(Connected(split)); a != b || a != 120*time.Second {
		t.Fatalf("whole %s, split %s, want 2m0s both", a, b)
	}
}
