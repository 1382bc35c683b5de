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
// Possible 3; present 1 → attendance 33.3 % (persistent and severe);
// engaged remotely 1 → 33.3 %; education 2 → 66.7 % (persistent, not severe);
// learning 165 min = 2.75 h; social 45 min = 0.75 h; active minutes:
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
	check("present", m.PresentSessions, 1)
	check("engaged remotely", m.EngagedRemoteSessions, 1)
	check("education sessions", m.EducationSessions, 2)
	check("attendance %", m.AttendancePct, 33.3)
	check("remote %", m.RemotePct, 33.3)
	check("education %", m.EducationPct, 66.7)
	check("learning hours", m.LearningHours, 2.75)
	check("social hours", m.SocialHours, 0.75)
	check("active minutes", m.ActiveMinutes, 4)
	check("persistent (attendance)", m.PersistentAttendance, true)
	check("severe (attendance)", m.SevereAttendance, true)
	check("persistent (education)", m.PersistentEducation, true)
	check("severe (education)", m.SevereEducation, false)
	check("Mon AM engaged", m.Sessions[0].EngagedRemote, false)
	check("Mon AM learning", m.Sessions[0].Learning, 75*time.Minute)
	check("Mon PM engaged", m.Sessions[1].EngagedRemote, true)
	check("Tue PM possible", m.Sessions[3].Possible, false)

	// With a lower bar (40 %), Monday morning counts as engaged too.
	if m2 := Measure(sessions, events, 0.4); m2.EngagedRemoteSessions != 2 || m2.EducationPct != 100 {
		t.Errorf("with 40%%: %d engaged, education %.1f%%", m2.EngagedRemoteSessions, m2.EducationPct)
	}
	// Learning and social never exceed connected time.
	if time.Duration(m.LearningHours*float64(time.Hour))+time.Duration(m.SocialHours*float64(time.Hour)) > Total(Connected(events)) {
		t.Error("learning + social > connected")
	}
}

func TestMeasureEmpty(t *testing.T) {
	m := Measure(nil, nil, 0)
	if m.PossibleSessions != 0 || m.AttendancePct != 0 || m.PersistentAttendance {
		t.Fatalf("no sessions: %+v", m)
	}
}
