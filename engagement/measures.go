package engagement

import (
	"sort"
	"time"
)

// DefaultEngagedShare is the share of a session's scheduled lesson time a
// pupil must spend connected for the session to count as engaged remotely.
const DefaultEngagedShare = 0.5

// The DfE's absence thresholds: persistent absence is missing 10 % or more
// of possible sessions, severe absence 50 % or more ("Working together to
// improve school attendance", 2024). They are compared on whole counts,
// before any rounding, so 1 missed in 10 and 21 in 209 (10.05 %, shown as
// 90.0 % attendance) are both persistent absence.
func persistent(missed, of int) bool { return of > 0 && missed*10 >= of }
func severe(missed, of int) bool     { return of > 0 && missed*2 >= of }

// Session is one AM or PM session of a school day: its register mark (if
// any) and its timetable slots.
type Session struct {
	Day     string // YYYY-MM-DD
	Session string // AM or PM
	Code    string // the register mark; empty if not yet marked
	Slots   []Slot // the session's timetable (lessons, breaks, ...)
}

// SessionResult is what one session came to.
type SessionResult struct {
	Day      string `json:"day"`
	Session  string `json:"session"`
	Code     string `json:"code,omitempty"`
	Possible bool   `json:"possible"`
	// Marked: the register has a mark for it. A possible session without
	// one is a data gap: neither present nor absent.
	Marked         bool          `json:"marked"`
	Present        bool          `json:"present"`           // attending: in school or an approved activity
	OnSite         bool          `json:"on_site"`           // in school: / \ L
	Approved       bool          `json:"approved_activity"` // away on an approved educational activity: K V P W B
	Learning       time.Duration `json:"learning_ns"`
	Social         time.Duration `json:"social_ns"`
	ScheduledLearn time.Duration `json:"scheduled_learning_ns"`
	EngagedRemote  bool          `json:"engaged_remote"`
	Suggested      string        `json:"suggested_code,omitempty"` // the school's policy, never a mark
}

// Measures are a pupil's (or a group's) figures over some sessions. Every
// percentage is null when its denominator is zero: no sessions is no
// figure, never 0 %.
type Measures struct {
	PossibleSessions int `json:"possible_sessions"` // possible, marked or not
	UnmarkedSessions int `json:"unmarked_sessions"` // possible, not yet marked: a data gap
	// MarkedSessions are the possible sessions with a mark: the attendance
	// rate's denominator.
	MarkedSessions   int `json:"marked_sessions"`
	PresentSessions  int `json:"present_sessions"`           // marked attending (on site or approved activity)
	OnSiteSessions   int `json:"on_site_sessions"`           // marked / \ L
	ApprovedSessions int `json:"approved_activity_sessions"` // marked K V P W B
	AbsentSessions   int `json:"absent_sessions"`            // marked with an absence code
	// EngagedRemoteSessions are possible sessions engaged in through the
	// robot, marked or not.
	EngagedRemoteSessions int `json:"engaged_remote_sessions"`
	// RemoteNotOnSite: engaged remotely and not in school (a plan's
	// sessions "through the robot").
	RemoteNotOnSite int `json:"remote_not_on_site_sessions"`
	// KnownSessions are the education figures' denominator: the marked
	// sessions and the unmarked ones the pupil engaged in remotely (for
	// those the evidence says where the pupil was; for other unmarked
	// sessions nothing does).
	KnownSessions     int `json:"known_sessions"`
	EducationSessions int `json:"education_sessions"` // present, or engaged remotely

	AttendancePct *float64 `json:"attendance_pct"`           // present / marked
	AbsencePct    *float64 `json:"absence_pct"`              // absent / marked
	RemotePct     *float64 `json:"remote_engagement_pct"`    // engaged remotely / known
	EducationPct  *float64 `json:"education_engagement_pct"` // education / known

	LearningMinutes int `json:"learning_minutes"`
	SocialMinutes   int `json:"social_minutes"`
	ActiveMinutes   int `json:"active_minutes"`

	// The DfE flags, on the register alone: absent in 10 % or more (50 %
	// or more) of the marked possible sessions.
	PersistentAttendance bool `json:"persistent_absence"`
	SevereAttendance     bool `json:"severe_absence"`
	// Seatlink's education flags (not DfE measures): education engagement
	// at 90 % or less (50 % or less) of the known sessions.
	EducationAtMost90 bool `json:"education_at_most_90"`
	EducationAtMost50 bool `json:"education_at_most_50"`

	Sessions []SessionResult `json:"sessions,omitempty"`
}

// Measure computes a pupil's measures from their sessions and their
// engagement events. Definitions (docs/MEASURES.md):
//   - a session is possible unless its mark is a "not possible" code; an
//     unmarked session with timetabled lessons is possible, and unmarked;
//   - present: the mark's category is present (on site: / \ L; an
//     approved activity: K V P W B);
//   - engaged remotely: learning time (connected time inside the
//     session's lessons) reaches share of its scheduled lesson time;
//   - education engagement: present, or engaged remotely;
//   - active minutes: the distinct minutes in which the pupil spoke, raised
//     a hand, wrote in the chat or turned the robot's head while connected.
func Measure(sessions []Session, events []Event, share float64) Measures {
	return newEvidence(events).measure(sessions, time.Time{}, time.Time{}, share)
}

// evidence is a pupil's events read once: when they were connected and
// speaking, and the moments of their actions while connected, each in
// time order. A report measures many windows (weeks, term, year) from one
// evidence.
type evidence struct {
	conn, speak []Interval
	acts        []time.Time
}

func newEvidence(events []Event) evidence {
	ev := evidence{conn: Connected(events)}
	ev.speak = speaking(events, ev.conn)
	for _, e := range sortEvents(events) {
		if (e.Kind == HandRaised || e.Kind == Chat || e.Kind == HeadTurn) && len(clip(ev.conn, e.At, e.At.Add(time.Millisecond))) > 0 {
			ev.acts = append(ev.acts, e.At)
		}
	}
	return ev
}

// clip is the parts of sorted, merged intervals inside [from, to); a zero
// bound is no bound. It finds them by binary search.
func clip(ivs []Interval, from, to time.Time) []Interval {
	lo, hi := 0, len(ivs)
	if !from.IsZero() {
		lo = sort.Search(len(ivs), func(i int) bool { return ivs[i].To.After(from) })
	}
	if !to.IsZero() {
		hi = sort.Search(len(ivs), func(i int) bool { return !ivs[i].From.Before(to) })
	}
	if lo >= hi {
		return nil
	}
	out := append([]Interval(nil), ivs[lo:hi]...)
	if !from.IsZero() && out[0].From.Before(from) {
		out[0].From = from
	}
	if !to.IsZero() && out[len(out)-1].To.After(to) {
		out[len(out)-1].To = to
	}
	return out
}

// measure is Measure over the sessions, counting evidence inside [from, to)
// (zero: unbounded).
func (ev evidence) measure(sessions []Session, from, to time.Time, share float64) Measures {
	if share <= 0 || share > 1 {
		share = DefaultEngagedShare
	}
	conn := clip(ev.conn, from, to)
	var m Measures
	var learning, social time.Duration
	for _, s := range sessions {
		r := SessionResult{Day: s.Day, Session: s.Session, Code: s.Code}
		var first, last time.Time
		for _, sl := range s.Slots {
			if sl.Kind == KindLesson {
				r.ScheduledLearn += sl.Duration()
			}
			if first.IsZero() || sl.From.Before(first) {
				first = sl.From
			}
			if sl.To.After(last) {
				last = sl.To
			}
		}
		if len(s.Slots) > 0 {
			r.Learning, r.Social = Split(clip(conn, first, last), s.Slots)
		}
		learning += r.Learning
		social += r.Social
		code, marked := LookupCode(s.Code)
		r.Possible = sessionPossible(s)
		r.Marked = marked
		r.Present = marked && code.Category == Present
		r.OnSite = r.Present && code.OnSite()
		r.Approved = r.Present && !r.OnSite
		r.EngagedRemote = r.ScheduledLearn > 0 && float64(r.Learning) >= share*float64(r.ScheduledLearn)
		m.add(r)
		m.Sessions = append(m.Sessions, r)
	}
	m.LearningMinutes, m.SocialMinutes = minutes(learning), minutes(social)
	m.ActiveMinutes = ev.activeMinutes(from, to)
	m.finish()
	return m
}

// sessionPossible is the one rule for whether a session is possible: not
// when its mark is a "not possible" code; otherwise when it is marked, or
// unmarked with timetabled lessons.
func sessionPossible(s Session) bool {
	if c, ok := LookupCode(s.Code); ok {
		return c.Category != NotPossible
	}
	for _, sl := range s.Slots {
		if sl.Kind == KindLesson {
			return true
		}
	}
	return false
}

// add counts one session.
func (m *Measures) add(r SessionResult) {
	if !r.Possible {
		return
	}
	m.PossibleSessions++
	if !r.Marked {
		m.UnmarkedSessions++
	} else {
		m.MarkedSessions++
		switch {
		case r.OnSite:
			m.OnSiteSessions++
		case r.Approved:
			m.ApprovedSessions++
		default:
			m.AbsentSessions++
		}
		if r.Present {
			m.PresentSessions++
		}
	}
	if r.EngagedRemote {
		m.EngagedRemoteSessions++
		if !r.OnSite {
			m.RemoteNotOnSite++
		}
	}
	if r.Marked || r.EngagedRemote {
		m.KnownSessions++
	}
	if r.Present || r.EngagedRemote {
		m.EducationSessions++
	}
}

func minutes(d time.Duration) int { return int((d + 30*time.Second) / time.Minute) }

// activeMinutes counts the distinct clock minutes in [from, to) in which
// the pupil spoke, raised a hand, wrote in the chat or turned the robot's
// head while connected.
func (ev evidence) activeMinutes(from, to time.Time) int {
	minutes := map[int64]bool{}
	for _, iv := range clip(ev.speak, from, to) {
		for t := iv.From.Truncate(time.Minute); t.Before(iv.To); t = t.Add(time.Minute) {
			minutes[t.Unix()] = true
		}
	}
	for _, at := range ev.acts {
		if (from.IsZero() || !at.Before(from)) && (to.IsZero() || at.Before(to)) {
			minutes[at.Truncate(time.Minute).Unix()] = true
		}
	}
	return len(minutes)
}

// finish works out the percentages and flags from the session counts: the
// one place each is defined. The flags compare whole counts; the
// percentages are only for reading.
func (m *Measures) finish() {
	m.AttendancePct = share(m.PresentSessions, m.MarkedSessions)
	m.AbsencePct = share(m.AbsentSessions, m.MarkedSessions)
	m.RemotePct = share(m.EngagedRemoteSessions, m.KnownSessions)
	m.EducationPct = share(m.EducationSessions, m.KnownSessions)
	m.PersistentAttendance = persistent(m.AbsentSessions, m.MarkedSessions)
	m.SevereAttendance = severe(m.AbsentSessions, m.MarkedSessions)
	m.EducationAtMost90 = persistent(m.KnownSessions-m.EducationSessions, m.KnownSessions)
	m.EducationAtMost50 = severe(m.KnownSessions-m.EducationSessions, m.KnownSessions)
}

// share is n of d as a percentage rounded half up to one decimal, or nil
// when d is zero (no sessions is no figure).
func share(n, d int) *float64 {
	if d <= 0 {
		return nil
	}
	v := float64((2000*int64(n)+int64(d))/(2*int64(d))) / 10
	return &v
}

// Group is a classroom's, a school's or the whole caseload's figures, as
// the DfE publishes them for a school: the overall absence rate over the
// pooled sessions (a pupil with more possible sessions weighs more), and
// the shares of pupils persistently and severely absent, with counts.
type Group struct {
	Level    string   `json:"level"` // classroom, school, caseload
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name,omitempty"`
	Pupils   int      `json:"pupils"`
	Measures Measures `json:"measures"` // pooled sessions; no flags (a group is not a pupil)
	// PupilsCounted have at least one marked session in the window: the
	// shares' denominator.
	PupilsCounted    int      `json:"pupils_counted"`
	PersistentPupils int      `json:"persistent_pupils"`
	SeverePupils     int      `json:"severe_pupils"`
	PersistentPct    *float64 `json:"persistent_pupils_pct"`
	SeverePct        *float64 `json:"severe_pupils_pct"`
}

// Aggregate combines pupils' measures into a group's: sessions, minutes
// and pupils are added up, the rates taken over the pooled sessions, and
// the persistent and severe shares over the pupils with marked sessions.
func Aggregate(ms []Measures) Group {
	var g Group
	for _, m := range ms {
		g.Pupils++
		p := &g.Measures
		p.PossibleSessions += m.PossibleSessions
		p.UnmarkedSessions += m.UnmarkedSessions
		p.MarkedSessions += m.MarkedSessions
		p.PresentSessions += m.PresentSessions
		p.OnSiteSessions += m.OnSiteSessions
		p.ApprovedSessions += m.ApprovedSessions
		p.AbsentSessions += m.AbsentSessions
		p.EngagedRemoteSessions += m.EngagedRemoteSessions
		p.RemoteNotOnSite += m.RemoteNotOnSite
		p.KnownSessions += m.KnownSessions
		p.EducationSessions += m.EducationSessions
		p.LearningMinutes += m.LearningMinutes
		p.SocialMinutes += m.SocialMinutes
		p.ActiveMinutes += m.ActiveMinutes
		if m.MarkedSessions > 0 {
			g.PupilsCounted++
			if m.PersistentAttendance {
				g.PersistentPupils++
			}
			if m.SevereAttendance {
				g.SeverePupils++
			}
		}
	}
	g.Measures.finish()
	// A group is not a pupil: the flags are the pupils' shares above.
	g.Measures.PersistentAttendance, g.Measures.SevereAttendance = false, false
	g.Measures.EducationAtMost90, g.Measures.EducationAtMost50 = false, false
	g.PersistentPct = share(g.PersistentPupils, g.PupilsCounted)
	g.SeverePct = share(g.SeverePupils, g.PupilsCounted)
	return g
}
