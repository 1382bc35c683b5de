package engagement

import (
	"time"
)

// DefaultEngagedShare is the share of a session's scheduled lesson time a
// pupil must spend connected for the session to count as engaged remotely.
const DefaultEngagedShare = 0.5

// Absence thresholds (DfE): persistent below 90 %, severe below 50 %.
const (
	PersistentBelow = 90.0
	SevereBelow     = 50.0
)

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
	Day            string        `json:"day"`
	Session        string        `json:"session"`
	Code           string        `json:"code,omitempty"`
	Possible       bool          `json:"possible"`
	Present        bool          `json:"present"`
	Learning       time.Duration `json:"learning_ns"`
	Social         time.Duration `json:"social_ns"`
	ScheduledLearn time.Duration `json:"scheduled_learning_ns"`
	EngagedRemote  bool          `json:"engaged_remote"`
	Suggested      string        `json:"suggested_code,omitempty"` // the school's policy, never a mark
}

// Measures are a pupil's figures over some sessions (a week, a term).
type Measures struct {
	PossibleSessions      int     `json:"possible_sessions"`
	PresentSessions       int     `json:"present_sessions"`
	EngagedRemoteSessions int     `json:"engaged_remote_sessions"`
	EducationSessions     int     `json:"education_sessions"` // present, or engaged remotely
	AttendancePct         float64 `json:"attendance_pct"`
	RemotePct             float64 `json:"remote_engagement_pct"`
	EducationPct          float64 `json:"education_engagement_pct"`
	LearningHours         float64 `json:"learning_hours"`
	SocialHours           float64 `json:"social_hours"`
	ActiveMinutes         int     `json:"active_minutes"`
	// Flags on attendance alone and on education engagement.
	PersistentAttendance bool            `json:"persistent_absence_attendance"`
	SevereAttendance     bool            `json:"severe_absence_attendance"`
	PersistentEducation  bool            `json:"persistent_absence_education"`
	SevereEducation      bool            `json:"severe_absence_education"`
	Sessions             []SessionResult `json:"sessions"`
}

// Measure computes a pupil's measures from their sessions and their
// engagement events. Definitions (docs/MEASURES.md):
//   - a session is possible unless its mark is a "not possible" code; an
//     unmarked session with timetabled lessons is possible;
//   - present: the mark's category is present;
//   - engaged remotely: learning time (connected time inside the
//     session's lessons) reaches share of its scheduled lesson time;
//   - education engagement: present, or engaged remotely;
//   - active minutes: the distinct minutes in which the pupil spoke, raised
//     a hand, wrote in the chat or turned the robot's head while connected.
func Measure(sessions []Session, events []Event, share float64) Measures {
	if share <= 0 || share > 1 {
		share = DefaultEngagedShare
	}
	conn := Connected(events)
	var m Measures
	var learning, social time.Duration
	for _, s := range sessions {
		r := SessionResult{Day: s.Day, Session: s.Session, Code: s.Code}
		for _, sl := range s.Slots {
			if sl.Kind == KindLesson {
				r.ScheduledLearn += sl.Duration()
			}
		}
		r.Learning, r.Social = Split(conn, s.Slots)
		learning += r.Learning
		social += r.Social
		code, marked := LookupCode(s.Code)
		switch {
		case marked && code.Category == NotPossible:
		case marked || r.ScheduledLearn > 0:
			r.Possible = true
		}
		r.Present = marked && code.Category == Present
		r.EngagedRemote = r.ScheduledLearn > 0 && float64(r.Learning) >= share*float64(r.ScheduledLearn)
		if r.Possible {
			m.PossibleSessions++
			if r.Present {
				m.PresentSessions++
			}
			if r.EngagedRemote {
				m.EngagedRemoteSessions++
			}
			if r.Present || r.EngagedRemote {
				m.EducationSessions++
			}
		}
		m.Sessions = append(m.Sessions, r)
	}
	m.finish(learning, social)
	m.ActiveMinutes = activeMinutes(events, conn)
	return m
}

// activeMinutes counts the distinct clock minutes in which the pupil spoke,
// raised a hand, wrote in the chat or turned the robot's head while
// connected.
func activeMinutes(events []Event, conn []Interval) int {
	minutes := map[int64]bool{}
	for _, iv := range Speaking(events) {
		for t := iv.From.Truncate(time.Minute); t.Before(iv.To); t = t.Add(time.Minute) {
			minutes[t.Unix()] = true
		}
	}
	for _, e := range events {
		if (e.Kind == HandRaised || e.Kind == Chat || e.Kind == HeadTurn) && len(Intersect([]Interval{{From: e.At, To: e.At.Add(time.Millisecond)}}, conn)) > 0 {
			minutes[e.At.Truncate(time.Minute).Unix()] = true
		}
	}
	return len(minutes)
}

// finish works out the percentages and flags from the session counts, and
// the hours from the durations: the one place each is defined.
func (m *Measures) finish(learning, social time.Duration) {
	m.AttendancePct, m.RemotePct, m.EducationPct = 0, 0, 0
	m.PersistentAttendance, m.SevereAttendance, m.PersistentEducation, m.SevereEducation = false, false, false, false
	if m.PossibleSessions > 0 {
		n := float64(m.PossibleSessions)
		m.AttendancePct = round1(100 * float64(m.PresentSessions) / n)
		m.RemotePct = round1(100 * float64(m.EngagedRemoteSessions) / n)
		m.EducationPct = round1(100 * float64(m.EducationSessions) / n)
		m.PersistentAttendance = m.AttendancePct < PersistentBelow
		m.SevereAttendance = m.AttendancePct < SevereBelow
		m.PersistentEducation = m.EducationPct < PersistentBelow
		m.SevereEducation = m.EducationPct < SevereBelow
	}
	m.LearningHours = round2(learning.Hours())
	m.SocialHours = round2(social.Hours())
}

// Aggregate combines pupils' measures into a group's (a classroom, a
// school, a caseload): sessions are added up and the percentages taken
// over the group's possible sessions, so a pupil with more possible
// sessions weighs more, as in the DfE's school-level figures; hours and
// active minutes are totals. The flags then say whether the group as a
// whole is below the thresholds. Per-session detail is dropped.
func Aggregate(ms []Measures) Measures {
	var g Measures
	var learning, social time.Duration
	for _, m := range ms {
		g.PossibleSessions += m.PossibleSessions
		g.PresentSessions += m.PresentSessions
		g.EngagedRemoteSessions += m.EngagedRemoteSessions
		g.EducationSessions += m.EducationSessions
		g.ActiveMinutes += m.ActiveMinutes
		learning += time.Duration(m.LearningHours * float64(time.Hour))
		social += time.Duration(m.SocialHours * float64(time.Hour))
	}
	g.finish(learning, social)
	return g
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
