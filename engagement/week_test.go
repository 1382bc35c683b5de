package engagement

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// The hand-worked week of measures_test.go, from stored timetable, marks
// and events (the school in UTC so the fixture's clock times apply).
func TestPupilWeekFromTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := newTestLA(t, db, true)
		ps, sys, school := tl.ps, tl.sys, tl.school
		year := 8
		pupil, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "W1", DisplayName: "W", YearGroup: &year})
		tt := NewTimetables(db, ps)
		timetable := "weekday,start,end,kind,session\n" +
			"Mon,09:00,10:00,lesson,AM\nMon,10:00,10:15,break,AM\nMon,10:15,12:00,lesson,AM\n" +
			"Mon,12:00,13:00,lunch,PM\nMon,13:00,15:00,lesson,PM\n" +
			"Tue,09:00,12:00,lesson,AM\nTue,13:00,15:00,lesson,PM\n"
		if _, err := tt.Import(ctx, sys, school.ID, strings.NewReader(timetable)); err != nil {
			t.Fatal(err)
		}
		rg := NewRegisters(db, ps)
		if _, err := rg.Import(ctx, sys, school.ID, strings.NewReader(
			"UPN,Date,Session,Mark\nW1,2026-11-23,AM,I\nW1,2026-11-23,PM,C2\nW1,2026-11-24,AM,/\nW1,2026-11-24,PM,D\n")); err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(db, 64, nil)
		for _, e := range []Event{
			{At: tm(1, 9, 0, 0), Kind: MediaStarted}, {At: tm(1, 10, 30, 0), Kind: MediaStopped},
			{At: tm(1, 12, 30, 0), Kind: MediaStarted}, {At: tm(1, 14, 30, 0), Kind: MediaStopped},
			{At: tm(1, 9, 10, 20), Kind: VoiceStart}, {At: tm(1, 9, 11, 40), Kind: VoiceStop},
			{At: tm(1, 9, 11, 50), Kind: VoiceStart}, {At: tm(1, 9, 12, 10), Kind: VoiceStop},
			{At: tm(1, 13, 30, 5), Kind: HandRaised},
		} {
			e.PupilID, e.LinkID = pupil.ID, "dev-x"
			rec.Record(e)
		}
		rec.Close()
		r := NewReports(db, ps)
		w, err := r.PupilWeek(ctx, sys, pupil.ID, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)) // a Thursday
		if err != nil {
			t.Fatal(err)
		}
		if w.Monday != "2026-11-23" || w.PossibleSessions != 3 || pctText(w.AttendancePct) != "33.3" || pctText(w.EducationPct) != "66.7" ||
			HM(w.LearningMinutes) != "2:45" || HM(w.SocialMinutes) != "0:45" || w.ActiveMinutes != 4 || !w.EducationAtMost90 || w.EducationAtMost50 {
			t.Fatalf("week %+v", w.Measures)
		}
		parent := people.Actor{Kind: "parent", ID: "pa-nobody", Role: people.RoleParent}
		if _, err := r.PupilWeek(ctx, parent, pupil.ID, time.Now()); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("a stranger parent: %v", err)
		}
	})
}

func TestGeneratedHistoryGivesPlausibleWeeks(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	ps := people.New(db, people.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	la, _ := ps.CreateLA(ctx, people.System, "LA")
	sys := people.System
	sys.LAID = la.ID
	school, _ := ps.CreateSchool(ctx, sys, la.ID, "School")
	year := 9
	var ids []string
	for i := 0; i < 8; i++ {
		p, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "G" + string(rune('0'+i)),
			DisplayName: "G", YearGroup: &year})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	until := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	marks, events, err := Generate(ctx, db, ps, sys, school.ID, ids, GenOptions{Weeks: 3, Until: until, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if marks != 8*(3*5+1)*2 || events == 0 { // three weeks and Monday 23rd

		t.Fatalf("%d marks, %d events", marks, events)
	}
	r := NewReports(db, ps)
	var severe, engaging int
	for _, id := range ids {
		w, err := r.PupilWeek(ctx, sys, id, until.AddDate(0, 0, -7))
		if err != nil {
			t.Fatal(err)
		}
		if w.PossibleSessions != 10 || w.MarkedSessions != 10 || *w.EducationPct < *w.AttendancePct || w.LearningMinutes > 5*5*60 {
			t.Fatalf("implausible week %+v", w.Measures)
		}
		if w.SevereAttendance {
			severe++
		}
		if w.EngagedRemoteSessions > 0 {
			engaging++
		}
	}
	if severe == 0 || engaging == 0 {
		t.Fatalf("the generated school has %d severely absent and %d remotely engaging pupils; want some of each", severe, engaging)
	}
}
