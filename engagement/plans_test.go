package engagement

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

func goodPlan() PlanInput {
	return PlanInput{Status: PlanActive, StartsOn: "2026-11-16", EndsOn: "2026-12-18", Summary: "Back to school by Christmas",
		Phases: []Phase{
			{Name: "Robot mornings", StartsOn: "2026-11-16", EndsOn: "2026-11-22", SchoolSessions: 2, RobotSessions: 1, RobotUse: "lessons"},
			{Name: "Mostly in school", StartsOn: "2026-11-23", EndsOn: "2026-12-18", SchoolSessions: 3, RobotSessions: 0, RobotUse: "when unwell"},
		},
		Reviews: []Review{{On: "2026-12-01"}, {On: "2026-12-10"}}}
}

func TestPlanValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*PlanInput)
		field string
		code  string
	}{
		{"no end date", func(p *PlanInput) { p.EndsOn = "" }, "ends_on", "required"},
		{"bad end date", func(p *PlanInput) { p.EndsOn = "soon" }, "ends_on", "bad_date"},
		{"ends before it starts", func(p *PlanInput) { p.EndsOn = "2026-11-01" }, "ends_on", "ends_before_start"},
		{"no phases", func(p *PlanInput) { p.Phases = nil }, "phases", "bad_phases"},
		{"phases overlap", func(p *PlanInput) { p.Phases[1].StartsOn = "2026-11-20" }, "phases[1].starts_on", "overlap"},
		{"phase outside the plan", func(p *PlanInput) { p.Phases[1].EndsOn = "2027-01-10" }, "phases[1].starts_on", "outside_plan"},
		{"phase ends before it starts", func(p *PlanInput) { p.Phases[0].EndsOn = "2026-11-10" }, "phases[0].ends_on", "ends_before_start"},
		{"phase without a name", func(p *PlanInput) { p.Phases[0].Name = " " }, "phases[0].name", "bad_name"},
		{"too many sessions", func(p *PlanInput) { p.Phases[0].SchoolSessions = 11 }, "phases[0].school_sessions", "bad_target"},
		{"review after the end", func(p *PlanInput) { p.Reviews[1].On = "2027-01-05" }, "reviews[1].on", "after_end"},
		{"review before the start", func(p *PlanInput) { p.Reviews[0].On = "2026-10-05" }, "reviews[0].on", "before_start"},
		{"two reviews on a day", func(p *PlanInput) { p.Reviews[1].On = "2026-12-01" }, "reviews[1].on", "duplicate"},
		{"unknown status", func(p *PlanInput) { p.Status = "paused" }, "status", "bad_status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := goodPlan()
			tc.edit(&in)
			err := in.validate()
			var pe *PlanError
			if !errors.As(err, &pe) || !errors.Is(err, people.ErrInvalid) {
				t.Fatalf("got %v, want a PlanError", err)
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
		w := newTestLA(t, db, true)
		ps, sys, school := w.ps, w.sys, w.school
		year := 8
		pupil, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "P1", DisplayName: "P", YearGroup: &year})
		if _, err := NewTimetables(db, ps).Import(ctx, sys, school.ID, strings.NewReader("weekday,start,end,kind,session\n"+
			"Mon,09:00,12:00,lesson,AM\nMon,13:00,15:00,lesson,PM\nTue,09:00,12:00,lesson,AM\nTue,13:00,15:00,lesson,PM\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := NewRegisters(db, ps).Import(ctx, sys, school.ID, strings.NewReader("UPN,Date,Session,Mark\n"+
			"P1,2026-11-16,AM,/\nP1,2026-11-16,PM,\\\nP1,2026-11-17,AM,I\nP1,2026-11-17,PM,I\n"+
			"P1,2026-11-23,AM,/\nP1,2026-11-23,PM,I\nP1,2026-11-24,AM,I\nP1,2026-11-24,PM,I\n"+
			"P1,2026-11-30,AM,I\nP1,2026-11-30,PM,I\nP1,2026-12-01,AM,I\nP1,2026-12-01,PM,I\n")); err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(db, 8, nil)
		rec.Record(Event{At: time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC), PupilID: pupil.ID, Kind: MediaStarted})
		rec.Record(Event{At: time.Date(2026, 11, 17, 12, 0, 0, 0, time.UTC), PupilID: pupil.ID, Kind: MediaStopped})
		rec.Close()

		plans := NewPlans(db, ps)
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
		flags, err := plans.activeFlags(ctx, []people.Pupil{pupil})
		if err != nil || !flags[pupil.ID].PastEnd {
			t.Fatalf("after the end: %v %+v", err, flags)
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
		in.Version, in.Status = 2, PlanEnded
		if _, err := plans.Update(ctx, sys, pl.ID, in); err != nil {
			t.Fatal(err)
		}
		in.Version, in.Status = 3, PlanActive
		var pe *PlanError
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
