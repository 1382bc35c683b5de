package engagement

import (
	"sort"
	"time"
)

// Interval is a half-open span of time [From, To).
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Duration is To − From.
func (i Interval) Duration() time.Duration { return i.To.Sub(i.From) }

// Total adds up the intervals' durations.
func Total(ivs []Interval) time.Duration {
	var d time.Duration
	for _, i := range ivs {
		d += i.Duration()
	}
	return d
}

// rank orders events of the same instant: what closes before what opens,
// so that a reconnect (down, up and started at one instant) joins up and
// the result never depends on the order events arrived in.
func rank(kind string) int {
	switch kind {
	case ServerStarted:
		return 0
	case MediaStopped, VoiceStop: // evidence of where media ended: before a session_down says less
		return 1
	case SessionDown:
		return 2
	case SessionUp:
		return 3
	case MediaStarted, MediaAlive, VoiceStart:
		return 4
	}
	return 5
}

// sortEvents orders events by time and rank, without changing the input.
func sortEvents(events []Event) []Event {
	out := append([]Event(nil), events...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return rank(out[i].Kind) < rank(out[j].Kind)
	})
	return out
}

// DefaultAliveEvery is how often the SFU records media_alive while media
// flows. Media evidence may say how often it repeats (its Value, in
// seconds; the generator's synthetic evidence repeats every ten minutes);
// evidence that says nothing repeats this often.
const DefaultAliveEvery = 5 * time.Second

func aliveEvery(e Event) time.Duration {
	if e.Value > 0 && e.Value < 86400 {
		return time.Duration(e.Value * float64(time.Second))
	}
	return DefaultAliveEvery
}

// Connected derives when classroom media was reaching the pupil. An
// interval opens at media_started (or at media_alive, if the start was not
// recorded) and closes at media_stopped or session_down; if instead the log
// shows a new session or a server restart, or simply ends, it closes at the
// last evidence of media (started or alive), never later. Evidence comes
// at least every alive interval while media flows, so a gap of more than
// two alive intervals before the next start, alive or session_down (the
// recorder dropped the stop and what followed) also closes the interval at
// its last evidence: a Monday afternoon never runs on to Tuesday. A
// media_stopped is stamped with the last packet's time, so it is evidence
// too and closes the interval where it says. A start while already open (a reconnect) opens
// nothing new, so no minute counts twice; the result is sorted, with
// overlaps and touching intervals merged.
func Connected(events []Event) []Interval {
	var out []Interval
	var open bool
	var from, last time.Time
	var every time.Duration
	closeAt := func(t time.Time) {
		if t.After(from) {
			out = append(out, Interval{From: from, To: t})
		}
		open = false
	}
	lost := func(t time.Time) bool { return t.Sub(last) > 2*every }
	for _, e := range sortEvents(events) {
		switch e.Kind {
		case MediaStarted, MediaAlive:
			if open && lost(e.At) {
				closeAt(last)
			}
			if !open {
				open, from = true, e.At
			}
			last, every = e.At, aliveEvery(e)
		case MediaStopped:
			// Stamped with the last packet's time: evidence itself.
			if open {
				closeAt(e.At)
			}
		case SessionDown:
			// Not evidence of media: after a gap, the media had stopped
			// unrecorded at some time after the last evidence.
			if open && lost(e.At) {
				closeAt(last)
			} else if open {
				closeAt(e.At)
			}
		case SessionUp, ServerStarted:
			if open {
				closeAt(last)
			}
		}
	}
	if open {
		closeAt(last)
	}
	return Merge(out)
}

// Speaking derives when the pupil was speaking: voice_start to voice_stop,
// only while connected (an unclosed voice interval ends with its connected
// interval).
func Speaking(events []Event) []Interval { return speaking(events, Connected(events)) }

// speaking is Speaking with the connected intervals already worked out.
func speaking(events []Event, conn []Interval) []Interval {
	var raw []Interval
	var open bool
	var from time.Time
	sorted := sortEvents(events)
	for _, e := range sorted {
		switch e.Kind {
		case VoiceStart:
			if !open {
				open, from = true, e.At
			}
		case VoiceStop, SessionDown, MediaStopped, SessionUp, ServerStarted:
			if open {
				raw = append(raw, Interval{From: from, To: e.At})
				open = false
			}
		}
	}
	if open && len(sorted) > 0 {
		raw = append(raw, Interval{From: from, To: sorted[len(sorted)-1].At})
	}
	return Intersect(Merge(raw), conn)
}

// Merge sorts intervals and joins the overlapping and touching ones.
func Merge(ivs []Interval) []Interval {
	if len(ivs) == 0 {
		return nil
	}
	s := append([]Interval(nil), ivs...)
	sort.Slice(s, func(i, j int) bool { return s[i].From.Before(s[j].From) })
	out := []Interval{s[0]}
	for _, i := range s[1:] {
		last := &out[len(out)-1]
		if !i.From.After(last.To) {
			if i.To.After(last.To) {
				last.To = i.To
			}
			continue
		}
		out = append(out, i)
	}
	return out
}

// Intersect returns the parts of a that lie inside b (both merged).
func Intersect(a, b []Interval) []Interval {
	var out []Interval
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		from, to := maxTime(a[i].From, b[j].From), minTime(a[i].To, b[j].To)
		if from.Before(to) {
			out = append(out, Interval{From: from, To: to})
		}
		if a[i].To.Before(b[j].To) {
			i++
		} else {
			j++
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
