package engagement

import (
	"testing"
	"time"
)

func tm(day, h, m, s int) time.Time { return time.Date(2026, 11, 22+day, h, m, s, 0, time.UTC) }

func slot(day, h1, m1, h2, m2 int, kind string) Slot {
	return Slot{Interval: Interval{From: tm(day, h1, m1, 0), To: tm(day, h2, m2, 0)}, Kind: kind}
}

// A hand-worked week (two days, four sessions). Figures worked out by hand:
//
//	Mon AM  I   (ill)        connected 09:00-10:30: lessons 09-10 + 10:15-10:30 = 75 of 165 min = 45% → not engaged;
//	                         break 10:00-10:15 = 15 min social
//	Mon PM  C2  (part-time)  connected 12:30-14:30: lesson 13:00-14:30 = 90 of 120 min = 75% → engaged remotely;
//	                         lunch 12:30-13:00 = 30 min social
//	Tue AM  /   present in school
//	Tue PM  D   dual registered: not a possible session
//
// Possible 3, all marked; present 1 → attendance 33.3 %, absent 2 of 3
// (2 × 10 ≥ 3 persistent, 2 × 2 ≥ 3 severe); engaged remotely 1 → 33.3 %;
// education 2 of 3 → 66.7 % (1 × 10 ≥ 3: 90 % or less; 1 × 2 < 3: not 50 %
// or less); learning 165 min = 2:45; social 45 min = 0:45; active minutes:
// speech 09:10:20-09:11:40 (09:10, 09:11) and 09:11:50-09:12:10 (09:12 new)
// and a hand at 13:30:05 (13:30) = 4; a hand at 16:00, not connected, does
// not count.
func TestMeasureHandWorkedWeek(t *testing.T) {
	sessions := []Session{
		{Day: "2026-11-23", Session: "AM", Code: "I", Slots: []Slot{slot(1, 9, 0, 10, 0, KindLesson), slot(1, 10, 0, 10, 15, KindBreak),
			slot(1, 10, 15, 12, 0, KindLesson)}},
		{Day: "2026-11-23", Session: "PM", Code: "C2", Slots: []Slot{slot(1, 12, 0, 13, 0, KindLunch), slot(1, 13, 0, 15, 0, KindLesson)}},
		{Day: "2026-11-24", Session: "AM", Code: "/", Slots: []Slot{slot(2, 9, 0, 12, 0, KindLesson)}},
		{Day: "2026-11-24", Session: "PM", Code: "D", Slots: []Slot{slot(2, 13, 0, 15, 0, KindLesson)}},
	}
	e := func(day, h, m, s int, kind string) Event { return Event{At: tm(day, h, m, s), Kind: kind} }
	events := []Event{
		e(1, 9, 0, 0, MediaStarted), e(1, 10, 30, 0, MediaStopped),
		e(1, 12, 30, 0, MediaStarted), e(1, 14, 30, 0, MediaStopped),
		e(1, 9, 10, 20, VoiceStart), e(1, 9, 11, 40, VoiceStop),
		e(1, 9, 11, 50, VoiceStart), e(1, 9, 12, 10, VoiceStop),
		e(1, 13, 30, 5, HandRaised), e(1, 16, 0, 0, HandRaised),
	}
	m := Measure(sessions, events, 0)
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("possible", m.PossibleSessions, 3)
	check("marked", m.MarkedSessions, 3)
	check("present", m.PresentSessions, 1)
	check("engaged remotely", m.EngagedRemoteSessions, 1)
	check("education sessions", m.EducationSessions, 2)
	check("attendance %", *m.AttendancePct, 33.3)
	check("remote %", *m.RemotePct, 33.3)
	check("education %", *m.EducationPct, 66.7)
	check("learning", HM(m.LearningMinutes), "2:45")
	check("social", HM(m.SocialMinutes), "0:45")
	check("active minutes", m.ActiveMinutes, 4)
	check("persistent", m.PersistentAttendance, true)
	check("severe", m.SevereAttendance, true)
	check("education 90 % or less", m.EducationAtMost90, true)
	check("education 50 % or less", m.EducationAtMost50, false)
	check("Mon AM engaged", m.Sessions[0].EngagedRemote, false)
	check("Mon AM learning", m.Sessions[0].Learning, 75*time.Minute)
	check("Mon PM engaged", m.Sessions[1].EngagedRemote, true)
	check("Tue PM possible", m.Sessions[3].Possible, false)

	// With a lower bar (40 %), Monday morning counts as engaged too.
	if m2 := Measure(sessions, events, 0.4); m2.EngagedRemoteSessions != 2 || *m2.EducationPct != 100 {
		t.Errorf("with 40%%: %d engaged, education %v", m2.EngagedRemoteSessions, pctText(m2.EducationPct))
	}
	// Learning and social never exceed connected time.
	if time.Duration(m.LearningMinutes+m.SocialMinutes)*time.Minute > Total(Connected(events)) {
		t.Error("learning + social > connected")
	}
}

// marked makes n sessions of one code each (no timetable needed: a marked
// session is possible unless its code says not).
func marked(counts map[string]int) []Session {
	var out []Session
	i := 0
	for code, n := range counts {
		for ; n > 0; n-- {
			out = append(out, Session{Day: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/2).Format(time.DateOnly),
				Session: []string{"AM", "PM"}[i%2], Code: code})
			i++
		}
	}
	return out
}

// The DfE thresholds at their boundaries, on whole counts: persistent
// absence is missed × 10 ≥ possible, severe missed × 2 ≥ possible.
func TestThresholdsAtTheBoundary(t *testing.T) {
	for _, tc := range []struct {
		name               string
		sessions           []Session
		attendance         string // as shown
		persistent, severe bool
	}{
		// 1 missed of 10: 1 × 10 = 10 ≥ 10.
		{"exactly 10 %", marked(map[string]int{"/": 9, "I": 1}), "90.0", true, false},
		// 1 of 11: 10 < 11.
		{"just under 10 %", marked(map[string]int{"/": 10, "I": 1}), "90.9", false, false},
		// 21 of 209 = 10.05 %, shown as 90.0 % attendance: 210 ≥ 209.
		{"10.05 %, shown as 90.0", marked(map[string]int{"/": 188, "N": 21}), "90.0", true, false},
		// 20 of 209 = 9.57 %: 200 < 209.
		{"9.57 %", marked(map[string]int{"/": 189, "N": 20}), "90.4", false, false},
		// The first day: 1 of 2, 1 × 2 = 2 ≥ 2: severe (and persistent).
		{"exactly 50 %, the first day", marked(map[string]int{"/": 1, "I": 1}), "50.0", true, true},
		// 2 of 5 = 40 %: 4 < 5, not severe.
		{"40 %", marked(map[string]int{"/": 3, "I": 2}), "60.0", true, false},
		// Unmarked sessions are not absences: 9 present, 11 not marked.
		{"unmarked are no absence", append(marked(map[string]int{"/": 9}), unmarked(11)...), "100.0", false, false},
		// Not possible codes leave the count: 8 / and 1 I of 9 (1 × 10 ≥ 9).
		{"not possible left out", marked(map[string]int{"/": 8, "I": 1, "X": 3, "#": 2}), "88.9", true, false},
		// K counts toward attendance as the DfE counts it.
		{"K attends", marked(map[string]int{"/": 5, "K": 5}), "100.0", false, false},
		{"nothing marked: no figure", unmarked(4), "nil", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Measure(tc.sessions, nil, 0)
			if got := pctText(m.AttendancePct); got != tc.attendance || m.PersistentAttendance != tc.persistent || m.SevereAttendance != tc.severe {
				t.Errorf("attendance %s persistent %v severe %v; want %s %v %v", got, m.PersistentAttendance, m.SevereAttendance,
					tc.attendance, tc.persistent, tc.severe)
			}
			// Without remote engagement, education is attendance.
			if m.EducationAtMost90 != tc.persistent || m.EducationAtMost50 != tc.severe {
				t.Errorf("education flags %v %v", m.EducationAtMost90, m.EducationAtMost50)
			}
		})
	}
}

// unmarked makes n unmarked sessions with an hour's lesson each (so they
// are possible).
func unmarked(n int) []Session {
	var out []Session
	for i := 0; i < n; i++ {
		d := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		out = append(out, Session{Day: d.Format(time.DateOnly), Session: "AM",
			Slots: []Slot{{Interval: Interval{From: d, To: d.Add(time.Hour)}, Kind: KindLesson, Session: "AM"}}})
	}
	return out
}

// K (education the LA arranged), V, P, W and B count toward attendance but
// the pupil was not in school: 4 /, 1 L, 2 K, 1 V, 1 B and 1 I of 10 →
// present 9 (90.0 %), in school 5 (/ and L), approved activity 4, absent 1.
func TestOnSiteApartFromApprovedActivity(t *testing.T) {
	m := Measure(marked(map[string]int{"/": 4, "L": 1, "K": 2, "V": 1, "B": 1, "I": 1}), nil, 0)
	if m.PresentSessions != 9 || m.OnSiteSessions != 5 || m.ApprovedSessions != 4 || m.AbsentSessions != 1 || pctText(m.AttendancePct) != "90.0" {
		t.Fatalf("%+v", m)
	}
}

// A group as the DfE publishes it: 19 pupils at 100 % (10 of 10) and one
// at 0 % (0 of 10). Pooled: 10 absent of 200 = 5.0 % absence rate; pupils
// severely absent 1 of 20 = 5.0 %, persistently absent 1 of 20 = 5.0 %
// (not a class at 95 % with no flag). A pupil with nothing marked is not
// counted in the shares.
func TestGroupSharesOfPupils(t *testing.T) {
	var ms []Measures
	for i := 0; i < 19; i++ {
		ms = append(ms, Measure(marked(map[string]int{"/": 10}), nil, 0))
	}
	ms = append(ms, Measure(marked(map[string]int{"I": 10}), nil, 0), Measure(unmarked(3), nil, 0))
	g := Aggregate(ms)
	if g.Pupils != 21 || g.PupilsCounted != 20 || g.SeverePupils != 1 || g.PersistentPupils != 1 ||
		pctText(g.SeverePct) != "5.0" || pctText(g.PersistentPct) != "5.0" ||
		PctOf(g.Measures.AbsencePct, g.Measures.MarkedSessions) != "5.0 % of 200 sessions" || g.Measures.SevereAttendance {
		t.Fatalf("%+v", g)
	}
}

func TestLabels(t *testing.T) {
	v := 90.0
	for _, tc := range []struct{ got, want string }{
		{HM(105), "1:45"}, {HM(0), "0:00"}, {HM(600), "10:00"}, {HM(-45), "-0:45"},
		{signedHM(45), "+0:45"}, {signedHM(-70), "-1:10"}, {signedHM(0), "0:00"},
		{PctOf(&v, 40), "90.0 % of 40 sessions"}, {PctOf(&v, 1), "90.0 % of 1 session"}, {PctOf(nil, 0), "–"},
		{FlagText(Measures{SevereAttendance: true, PersistentAttendance: true, EducationAtMost90: true}), "severe absence; education engagement 90 % or less"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMeasureEmpty(t *testing.T) {
	m := Measure(nil, nil, 0)
	if m.PossibleSessions != 0 || m.AttendancePct != nil || m.PersistentAttendance {
		t.Fatalf("no sessions: %+v", m)
	}
}
