package plans

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"seatlink/engagement"
	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
	"seatlink/people/peopletest"
)

func goodPlan() Input {
	return Input{Status: Active, StartsOn: "2026-11-16", EndsOn: "2026-12-18", Summary: "Back to school by Christmas",
		Phases: []Phase{
			{Name: "Robot mornings", StartsOn: "2026-11-16", EndsOn: "2026-11-22", SchoolSessions: 2, RobotSessions: 1, RobotUse: "lessons"},
			{Name: "Mostly in school", StartsOn: "2026-11-23", EndsOn: "2026-12-18", SchoolSessions: 3, RobotSessions: 0, RobotUse: "when unwell"},
		},
		Reviews: []Review{{On: "2026-12-01"}, {On: "2026-12-10"}}}
}

func TestPlanValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Input)
		field string
		code  string
	}{
		{"no end date", func(p *Input) { p.EndsOn = "" }, "ends_on", "required"},
		{"bad end date", func(p *Input) { p.EndsOn = "soon" }, "ends_on", "bad_date"},
		{"ends before it starts", func(p *Input) { p.EndsOn = "2026-11-01" }, "ends_on", "ends_before_start"},
		{"no phases", func(p *Input) { p.Phases = nil }, "phases", "bad_phases"},
		{"phases overlap", func(p *Input) { p.Phases[1].StartsOn = "2026-11-20" }, "phases[1].starts_on", "overlap"},
		{"phase outside the plan", func(p *Input) { p.Phases[1].EndsOn = "2027-01-10" }, "phases[1].starts_on", "outside_plan"},
		{"phase ends before it starts", func(p *Input) { p.Phases[0].EndsOn = "2026-11-10" }, "phases[0].ends_on", "ends_before_start"},
		{"phase without a name", func(p *Input) { p.Phases[0].Name = " " }, "phases[0].name", "bad_name"},
		{"too many sessions", func(p *Input) { p.Phases[0].SchoolSessions = 11 }, "phases[0].school_sessions", "bad_target"},
		{"review after the end", func(p *Input) { p.Reviews[1].On = "2027-01-05" }, "reviews[1].on", "after_end"},
		{"review before the start", func(p *Input) { p.Reviews[0].On = "2026-10-05" }, "reviews[0].on", "before_start"},
		{"two reviews on a day", func(p *Input) { p.Reviews[1].On = "2026-12-01" }, "reviews[1].on", "duplicate"},
		{"unknown status", func(p *Input) { p.Status = "paused" }, "status", "bad_status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := goodPlan()
			tc.edit(&in)
			err := in.validate()
			var pe *InputError
			if !errors.As(err, &pe) || !errors.Is(err, people.ErrInvalid) {
				t.Fatalf("got %v, want an InputError", err)
			}
			for _, p := range pe.Problems {
				if p.Field == tc.field && p.Code == tc.code {
					return
				}
			}
			t.Fatalf("problems %v, want %s %s", err, tc.field, tc.code)
		})
	}
	in := goodPlan()
	if err := in.validate(); err != nil {
		t.Fatalf("a good plan: %v", err)
	}
}

// A plan's progress, worked by hand. The school week has lessons on
// Monday and Tuesday (AM and PM): four sessions.
//
//	Phase 1 (16–22 Nov): 2 in school, 1 through the robot.
//	  Mon / \  Tue I (connected 9:00–12:00: engaged remotely) I
//	  → in school 2, robot 1: met.
//	Phase 2 (23 Nov – 18 Dec): 3 in school.
//	  week of 23rd: Mon / I, Tue I I → in school 1: missed.
//	  week of 30th: all I → missed. Two weeks running: flagged.
//	On Saturday 5 December: review of 1 Dec not held → overdue; review
//	of 10 Dec → due; not past the end. On 20 December: past the end.
func TestPlanProgressAndFlags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := peopletest.NewLA(t, db, true)
		ps, sys, school := w.People, w.Sys, w.School
		year := 8
		pupil, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "P1", DisplayName: "P", YearGroup: &year})
		if _, err := engagement.NewTimetables(db, ps).Import(ctx, sys, school.ID, strings.NewReader("weekday,start,end,kind,session\n"+
			"Mon,09:00,12:00,lesson,AM\nMon,13:00,15:00,lesson,PM\nTue,09:00,12:00,lesson,AM\nTue,13:00,15:00,lesson,PM\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := engagement.NewRegisters(db, ps).Import(ctx, sys, school.ID, strings.NewReader("UPN,Date,Session,Mark\n"+
			"P1,2026-11-16,AM,/\nP1,2026-11-16,PM,\\\nP1,2026-11-17,AM,I\nP1,2026-11-17,PM,I\n"+
			"P1,2026-11-23,AM,/\nP1,2026-11-23,PM,I\nP1,2026-11-24,AM,I\nP1,2026-11-24,PM,I\n"+
			"P1,2026-11-30,AM,I\nP1,2026-11-30,PM,I\nP1,2026-12-01,AM,I\nP1,2026-12-01,PM,I\n")); err != nil {
			t.Fatal(err)
		}
		rec := engagement.NewRecorder(db, 8, nil)
		rec.Record(engagement.Event{At: time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC), PupilID: pupil.ID, Kind: engagement.MediaStarted})
		rec.Record(engagement.Event{At: time.Date(2026, 11, 17, 12, 0, 0, 0, time.UTC), PupilID: pupil.ID, Kind: engagement.MediaStopped})
		rec.Close()

		reports := engagement.NewReports(db, ps)
		plans := New(db, ps, reports)
		plans.now = func() time.Time { return time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC) }
		pl, err := plans.Create(ctx, sys, pupil.ID, goodPlan())
		if err != nil {
			t.Fatal(err)
		}
		pr, err := plans.Progress(ctx, sys, pl.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range pr.Weeks {
			got = append(got, w.Monday+" "+w.Phase+" "+itoa(w.InSchool)+"+"+itoa(w.ThroughRobot)+" of "+
				itoa(w.TargetSchool)+"+"+itoa(w.TargetRobot)+" met="+boolS(w.Met)+" judged="+boolS(w.Judged))
		}
		want := []string{
			"2026-11-16 Robot mornings 2+1 of 2+1 met=true judged=true",
			"2026-11-23 Mostly in school 1+0 of 3+0 met=false judged=true",
			"2026-11-30 Mostly in school 0+0 of 3+0 met=false judged=true",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("progress:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		f := pr.Flags
		if !f.MissedTwoWeeks || !f.ReviewOverdue || !f.ReviewDue || f.PastEnd {
			t.Fatalf("flags %+v", f)
		}
		plans.now = func() time.Time { return time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC) }
		flags, err := plans.ActiveFlags(ctx, []people.Pupil{pupil})
		if err != nil || !flags[pupil.ID].PastEnd {
			t.Fatalf("after the end: %v %+v", err, flags)
		}
		// The caseload shows them, through the flagger it is given, and
		// shows no plan column without one.
		dec20 := time.Date(2026, 12, 20, 10, 0, 0, 0, time.UTC)
		for _, flagger := range []engagement.PlanFlagger{plans, nil} {
			reports.Plans = flagger
			cl, err := reports.Caseload(ctx, sys, engagement.Range{Through: dec20, Weeks: 2, Now: dec20})
			if err != nil || len(cl.Rows) != 1 {
				t.Fatalf("caseload: %v %+v", err, cl)
			}
			row := cl.Rows[0]
			if flagger == nil {
				if row.Plan != nil || row.Cells[engagement.ColPlan] != "" {
					t.Fatalf("a caseload without a flagger shows a plan: %+v %q", row.Plan, row.Cells[engagement.ColPlan])
				}
				continue
			}
			if row.Plan == nil || row.Plan.PlanID != pl.ID || !row.Plan.PastEnd ||
				!strings.Contains(row.Cells[engagement.ColPlan], "past its end date") {
				t.Fatalf("the caseload's plan column: %+v %q", row.Plan, row.Cells[engagement.ColPlan])
			}
		}

		// Editing: a stale version is refused; phases keep their ids; an
		// ended plan stays ended; every version is in the history.
		in := goodPlan()
		in.Version = pl.Version
		in.Reviews[0].Held = true
		upd, err := plans.Update(ctx, sys, pl.ID, in)
		if err != nil || upd.Version != 2 || upd.Phases[0].ID != pl.Phases[0].ID || !upd.Reviews[0].Held {
			t.Fatalf("update: %v %+v", err, upd)
		}
		var ce *people.ConflictError
		if _, err := plans.Update(ctx, sys, pl.ID, in); !errors.As(err, &ce) {
			t.Fatalf("a stale version: %v", err)
		}
		in.Version, in.Status = 2, Ended
		if _, err := plans.Update(ctx, sys, pl.ID, in); err != nil {
			t.Fatal(err)
		}
		in.Version, in.Status = 3, Active
		var pe *InputError
		if _, err := plans.Update(ctx, sys, pl.ID, in); !errors.As(err, &pe) {
			t.Fatalf("reopening an ended plan: %v", err)
		}
		hist, err := plans.History(ctx, sys, pl.ID)
		if err != nil || len(hist) != 3 || !strings.Contains(string(hist[2].Plan), `"status":"ended"`) {
			t.Fatalf("history: %v %d", err, len(hist))
		}
		// Notes in each voice; a stranger parent sees nothing.
		parent, invite, err := ps.InviteParent(ctx, sys, people.ParentInput{Email: "p@x.test", Name: "Parent", PupilIDs: []string{pupil.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ps.AcceptInvite(ctx, invite, "a parent password"); err != nil {
			t.Fatal(err)
		}
		pa := people.Actor{Kind: "parent", ID: parent.ID, Role: people.RoleParent}
		if n, err := plans.AddNote(ctx, pa, pl.ID, "She is looking forward to art."); err != nil || n.Voice != "parent" {
			t.Fatalf("parent note: %v %+v", err, n)
		}
		pu := people.Actor{Kind: "pupil", ID: pupil.ID, Role: people.RolePupil}
		if n, err := plans.AddNote(ctx, pu, pl.ID, "Mornings are hard."); err != nil || n.Voice != "pupil" {
			t.Fatalf("pupil note: %v %+v", err, n)
		}
		if _, err := plans.AddNote(ctx, pa, pl.ID, " "); err == nil {
			t.Fatal("an empty note was accepted")
		}
		if _, err := plans.Update(ctx, pa, pl.ID, in); !errors.Is(err, people.ErrForbidden) {
			t.Fatalf("a parent editing the plan: %v", err)
		}
		stranger := people.Actor{Kind: "parent", ID: "pa-nobody", Role: people.RoleParent}
		if _, err := plans.Get(ctx, stranger, pl.ID); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("a stranger parent: %v", err)
		}
		got2, _ := plans.Get(ctx, pa, pl.ID)
		if len(got2.Notes) != 2 || got2.Notes[0].Voice != "parent" {
			t.Fatalf("notes %+v", got2.Notes)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func boolS(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Part weeks, worked by hand. The school week has 10 sessions (a lesson
// each morning and afternoon, Monday to Friday); the phase asks for 8 in
// school and 1 through the robot, so 9 together. A week is judged against
// targets pro-rated to its available sessions, rounded up:
// due = ⌈target × available ÷ 10⌉.
//
//	w/c 31 Aug: the term starts Thu 3 Sep: 4 sessions, all /.
//	            due 8×4/10 = 3.2 → 4 in school, 9×4/10 = 3.6 → 4 together:
//	            4 ≥ 4, met (the old rule: 4 < 8, missed)
//	w/c 7 Sep:  INSET Thu 10 and Fri 11: 6 sessions, all /.
//	            due 4.8 → 5 and 5.4 → 6: 6 ≥ 5 and 6 ≥ 6, met
//	w/c 14 Sep: a whole week: 6 /, 2 K (LA provision), 2 I. K counts
//	            toward attendance but not in school: 6 < 8, missed (the
//	            old rule counted 8 present: met)
//	w/c 21 Sep: Mon–Wed / (6), Thu and Fri not marked: 6 available;
//	            due 5 and 6: met
//	w/c 28 Sep: the clock is Wed 30 Sep 10:00; the week is not over: not
//	            judged
//
// One missed week, so no "targets missed two weeks running" (the old rule
// raised it on the first two weeks).
func TestPlanPartWeeksAreProRated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := peopletest.NewLA(t, db, true)
		ps, sys, school := w.People, w.Sys, w.School
		year := 8
		pupil, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "P1", DisplayName: "P", YearGroup: &year})
		tt := engagement.NewTimetables(db, ps)
		var week strings.Builder
		week.WriteString("weekday,start,end,kind,session\n")
		for _, d := range []string{"Mon", "Tue", "Wed", "Thu", "Fri"} {
			week.WriteString(d + ",09:00,12:00,lesson,AM\n" + d + ",13:00,15:00,lesson,PM\n")
		}
		if _, err := tt.Import(ctx, sys, school.ID, strings.NewReader(week.String())); err != nil {
			t.Fatal(err)
		}
		if _, err := tt.ImportTerms(ctx, sys, school.ID, strings.NewReader("kind,name,starts_on,ends_on\n"+
			"term,Autumn,2026-09-03,2026-12-18\nINSET,INSET days,2026-09-10,2026-09-11\nhalf term,Half term,2026-10-26,2026-10-30\n")); err != nil {
			t.Fatal(err)
		}
		var reg strings.Builder
		reg.WriteString("UPN,Date,Session,Mark\n")
		mark := func(day, code string) {
			reg.WriteString("P1," + day + ",AM," + code + "\n")
			reg.WriteString("P1," + day + ",PM," + strings.ReplaceAll(code, "/", `\`) + "\n")
		}
		for _, d := range []string{"2026-09-03", "2026-09-04", "2026-09-07", "2026-09-08", "2026-09-09",
			"2026-09-14", "2026-09-15", "2026-09-16", "2026-09-21", "2026-09-22", "2026-09-23", "2026-09-28", "2026-09-29"} {
			mark(d, "/")
		}
		mark("2026-09-17", "K")
		mark("2026-09-18", "I")
		if _, err := engagement.NewRegisters(db, ps).Import(ctx, sys, school.ID, strings.NewReader(reg.String())); err != nil {
			t.Fatal(err)
		}
		plans := New(db, ps, engagement.NewReports(db, ps))
		plans.now = func() time.Time { return time.Date(2026, 9, 30, 10, 0, 0, 0, time.UTC) }
		pl, err := plans.Create(ctx, sys, pupil.ID, Input{Status: Active, StartsOn: "2026-09-03", EndsOn: "2026-10-23",
			Phases:  []Phase{{Name: "Building up", StartsOn: "2026-09-03", EndsOn: "2026-10-23", SchoolSessions: 8, RobotSessions: 1}},
			Reviews: []Review{{On: "2026-10-16"}}})
		if err != nil {
			t.Fatal(err)
		}
		pr, err := plans.Progress(ctx, sys, pl.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range pr.Weeks {
			got = append(got, w.Monday+" "+itoa(w.InSchool)+"+"+itoa(w.ThroughRobot)+" of "+itoa(w.Available)+"/"+itoa(w.FullWeek)+
				" due "+itoa(w.DueSchool)+","+itoa(w.DueTogether)+" met="+boolS(w.Met)+" judged="+boolS(w.Judged))
		}
		want := []string{
			"2026-08-31 4+0 of 4/10 due 4,4 met=true judged=true",
			"2026-09-07 6+0 of 6/10 due 5,6 met=true judged=true",
			"2026-09-14 6+0 of 10/10 due 8,9 met=false judged=true",
			"2026-09-21 6+0 of 6/10 due 5,6 met=true judged=true",
			"2026-09-28 4+0 of 4/10 due 4,4 met=true judged=false",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("progress:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if pr.Flags.MissedTwoWeeks {
			t.Fatal("targets missed two weeks running, with one week missed")
		}
	})
}

func TestProRate(t *testing.T) {
	for _, tc := range []struct{ target, available, full, want int }{
		{8, 10, 10, 8}, {8, 6, 10, 5}, {8, 4, 10, 4}, {9, 6, 10, 6}, {3, 1, 10, 1}, {0, 6, 10, 0},
		{10, 6, 10, 6}, {8, 12, 10, 8}, {4, 4, 8, 2}, {4, 3, 8, 2}, {5, 2, 0, 5},
	} {
		if got := proRate(tc.target, tc.available, tc.full); got != tc.want {
			t.Errorf("proRate(%d, %d, %d) = %d, want %d", tc.target, tc.available, tc.full, got, tc.want)
		}
	}
}
