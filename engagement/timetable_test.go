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

const schoolDay = `weekday,start,end,kind,session,name,classroom
Mon,08:45,09:00,registration,AM,Registration,
Mon,09:00,10:00,lesson,AM,Maths,
Mon,10:00,10:15,break,AM,Break,
Mon,10:15,12:00,lesson,AM,English,
Mon,12:00,13:00,lunch,PM,Lunch,
Mon,13:00,15:00,lesson,PM,Science,
Mon,15:15,16:15,club,PM,Chess club,
Mon,09:00,11:00,lesson,AM,Forest school,Oak
`

func TestTimetableImportDayAndSplit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ps := people.New(db, people.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		la, _ := ps.CreateLA(ctx, people.System, "LA")
		sys := people.System
		sys.LAID = la.ID
		school, _ := ps.CreateSchool(ctx, sys, la.ID, "School")
		oak, err := ps.CreateClassroom(ctx, sys, school.ID, "Oak")
		if err != nil {
			t.Fatal(err)
		}
		ash, _ := ps.CreateClassroom(ctx, sys, school.ID, "Ash")
		tt := NewTimetables(db, ps)
		teacher := people.Actor{Kind: "staff", ID: "t", Role: people.RoleTeacher, LAID: la.ID, SchoolID: school.ID}
		if _, err := tt.Import(ctx, teacher, school.ID, strings.NewReader(schoolDay)); !errors.Is(err, people.ErrForbidden) {
			t.Fatalf("teacher import: %v", err)
		}
		n, err := tt.Import(ctx, sys, school.ID, strings.NewReader(schoolDay))
		if err != nil || n != 8 {
			t.Fatalf("import: %d %v", n, err)
		}
		// Monday 2026-11-23 in London (GMT in November).
		monday := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		slots, err := tt.Day(ctx, school.ID, ash.ID, monday)
		if err != nil || len(slots) != 7 {
			t.Fatalf("Ash's Monday: %d slots %v", len(slots), err)
		}
		if !slots[1].From.Equal(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) || slots[1].Kind != KindLesson {
			t.Fatalf("Maths slot %+v", slots[1])
		}
		own, _ := tt.Day(ctx, school.ID, oak.ID, monday)
		if len(own) != 1 || own[0].Name != "Forest school" {
			t.Fatalf("Oak's own Monday: %+v", own)
		}
		if tue, _ := tt.Day(ctx, school.ID, ash.ID, monday.AddDate(0, 0, 1)); len(tue) != 0 {
			t.Fatalf("Tuesday has %d slots", len(tue))
		}
		// Hand-worked: connected 09:30-10:30 and 12:30-13:30 on Monday.
		// Learning: Maths 09:30-10:00 (30m) + English 10:15-10:30 (15m) +
		// Science 13:00-13:30 (30m) = 75 min. Social: break 10:00-10:15
		// (15m) + lunch 12:30-13:00 (30m) = 45 min.
		hm := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, time.UTC) }
		conn := []Interval{{hm(9, 30), hm(10, 30)}, {hm(12, 30), hm(13, 30)}}
		learning, social := Split(conn, slots)
		if learning != 75*time.Minute || social != 45*time.Minute {
			t.Fatalf("learning %s social %s, want 1h15m and 45m", learning, social)
		}
		if learning+social > Total(conn) {
			t.Fatal("learning and social exceed connected time")
		}
		// A bad file changes nothing and says which rows are wrong.
		bad := "weekday,start,end,kind,session,classroom\nMon,09:00,10:00,lesson,AM,\nMon,09:30,10:30,lesson,AM,\nFunday,09:00,10:00,lesson,AM,\nTue,10:00,09:00,lesson,AM,\nWed,09:00,10:00,nap,AM,\nThu,09:00,10:00,lesson,XX,\nFri,09:00,10:00,lesson,AM,Pine\n"
		_, err = tt.Import(ctx, sys, school.ID, strings.NewReader(bad))
		var ie *people.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("bad import: %v", err)
		}
		var codes []string
		for _, e := range ie.Report.Errors {
			codes = append(codes, e.Code)
		}
		if got := strings.Join(codes, " "); got != "overlap bad_weekday bad_times bad_kind bad_session unknown_classroom" {
			t.Fatalf("row errors %q", got)
		}
		if again, _ := tt.Day(ctx, school.ID, ash.ID, monday); len(again) != 7 {
			t.Fatal("a refused import changed the timetable")
		}
	})
}

func FuzzParseTimetableCSV(f *testing.F) {
	f.Add(schoolDay)
	f.Add("weekday,start,end,kind,session\nMon,9:00,10:00,lesson,am\n")
	f.Add("weekday,start,end,kind,session\n\"Mon")
	f.Fuzz(func(t *testing.T, data string) {
		periods, errs := parseTimetableCSV(strings.NewReader(data))
		for _, e := range errs {
			if e.Row < 1 || e.Code == "" || e.Message == "" {
				t.Fatalf("bad row error %+v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		for _, p := range periods {
			a, ok1 := parseClock(p.Starts)
			b, ok2 := parseClock(p.Ends)
			if !ok1 || !ok2 || b <= a || (p.Session != "AM" && p.Session != "PM") {
				t.Fatalf("accepted bad period %+v", p)
			}
		}
	})
}
