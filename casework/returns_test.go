package casework

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// plan builds an active plan from (starts, ends, school sessions) triples.
func plan(active bool, phases ...any) ReturnPlan {
	pl := ReturnPlan{ID: "plan-1", Active: active}
	for i := 0; i+2 < len(phases); i += 3 {
		pl.Phases = append(pl.Phases, ReturnPhase{ID: "ph-" + phases[i].(string), Name: "Phase " + phases[i].(string),
			StartsOn: phases[i].(string), EndsOn: phases[i+1].(string), SchoolSessions: phases[i+2].(int)})
	}
	return pl
}

func TestPhaseStepUp(t *testing.T) {
	const today = "2026-11-25" // a Wednesday
	for _, tc := range []struct {
		name   string
		plans  []ReturnPlan
		reason string // "" for no prompt
		from   int
	}{
		{"more school, started 9 days ago", []ReturnPlan{plan(true, "2026-10-01", "2026-11-15", 2, "2026-11-16", "2026-12-18", 4)}, "phase:ph-2026-11-16", 2},
		{"more school, started today", []ReturnPlan{plan(true, "2026-10-01", "2026-11-24", 2, "2026-11-25", "2026-12-18", 3)}, "phase:ph-2026-11-25", 2},
		{"more school, started 13 days ago (the window's first day)", []ReturnPlan{plan(true, "2026-10-01", "2026-11-11", 0, "2026-11-12", "2026-12-18", 1)}, "phase:ph-2026-11-12", 0},
		{"more school, started 14 days ago (an old change)", []ReturnPlan{plan(true, "2026-10-01", "2026-11-10", 2, "2026-11-11", "2026-12-18", 4)}, "", 0},
		{"an old change, long ago", []ReturnPlan{plan(true, "2026-09-01", "2026-09-30", 2, "2026-10-01", "2026-12-18", 6)}, "", 0},
		{"the same time in school", []ReturnPlan{plan(true, "2026-10-01", "2026-11-15", 4, "2026-11-16", "2026-12-18", 4)}, "", 0},
		{"less time in school", []ReturnPlan{plan(true, "2026-10-01", "2026-11-15", 6, "2026-11-16", "2026-12-18", 4)}, "", 0},
		{"a first phase has nothing before it", []ReturnPlan{plan(true, "2026-11-16", "2026-12-18", 4)}, "", 0},
		{"the next phase has not started", []ReturnPlan{plan(true, "2026-10-01", "2026-11-30", 2, "2026-12-01", "2026-12-18", 4)}, "", 0},
		{"a draft plan", []ReturnPlan{plan(false, "2026-10-01", "2026-11-15", 2, "2026-11-16", "2026-12-18", 4)}, "", 0},
		{"the step-up phase is already over (a short one), the next is less",
			[]ReturnPlan{plan(true, "2026-10-01", "2026-11-15", 2, "2026-11-16", "2026-11-20", 4, "2026-11-23", "2026-12-18", 3)}, "", 0},
		{"a gap between phases: still more than the phase before",
			[]ReturnPlan{plan(true, "2026-10-01", "2026-11-06", 2, "2026-11-23", "2026-12-18", 5)}, "phase:ph-2026-11-23", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, ok := PhaseStepUp(tc.plans, today)
			if ok != (tc.reason != "") || pr.Reason != tc.reason {
				t.Fatalf("got %v %+v, want %q", ok, pr, tc.reason)
			}
			if ok && (pr.Kind != ReturnMoreSchool || pr.Phase == nil || pr.Phase.PreviousSessions != tc.from || pr.On != pr.Phase.StartsOn) {
				t.Errorf("prompt %+v %+v", pr, pr.Phase)
			}
		})
	}
}

// marks builds marks from "2026-11-23 AM A" strings (P present, A absent,
// X not a possible session).
func marks(ms ...string) []RegisterMark {
	var out []RegisterMark
	for _, m := range ms {
		f := strings.Fields(m)
		k := map[string]MarkKind{"P": MarkPresent, "A": MarkAbsent, "X": MarkNotCounted}[f[2]]
		out = append(out, RegisterMark{Day: f[0], Session: f[1], Kind: k})
	}
	return out
}

func TestPresentAfterAbsences(t *testing.T) {
	const today = "2026-11-25" // a Wednesday
	for _, tc := range []struct {
		name     string
		marks    []RegisterMark
		reason   string
		absences int
	}{
		{"no marks", nil, "", 0},
		{"present all along", marks("2026-11-23 AM P", "2026-11-23 PM P", "2026-11-24 AM P"), "", 0},
		{"a run of 2", marks("2026-11-20 PM P", "2026-11-23 AM A", "2026-11-23 PM A", "2026-11-24 AM P"), "", 0},
		{"a run of 3", marks("2026-11-20 PM P", "2026-11-23 AM A", "2026-11-23 PM A", "2026-11-24 AM A", "2026-11-24 PM P"),
			"present:2026-11-24:PM", 3},
		{"a run of 5, over a weekend", marks("2026-11-19 AM A", "2026-11-19 PM A", "2026-11-20 AM A", "2026-11-20 PM A",
			"2026-11-23 AM A", "2026-11-23 PM P", "2026-11-24 AM P"), "present:2026-11-23:PM", 5},
		{"absent still: no return yet", marks("2026-11-23 AM A", "2026-11-23 PM A", "2026-11-24 AM A", "2026-11-24 PM A"), "", 0},
		{"present after a holiday gap (absent before half term, back after it)",
			marks("2026-10-22 PM A", "2026-10-23 AM A", "2026-10-23 PM A", "2026-11-16 AM P", "2026-11-16 PM P"), "present:2026-11-16:AM", 3},
		{"a holiday gap after being present: no run", marks("2026-10-22 PM P", "2026-10-23 AM P", "2026-10-23 PM P", "2026-11-16 AM P"), "", 0},
		{"unmarked sessions in the run are passed over", marks("2026-11-18 AM A", "2026-11-19 PM A", "2026-11-23 AM A", "2026-11-24 AM P"),
			"present:2026-11-24:AM", 3},
		{"a not-possible session neither breaks nor extends the run", marks("2026-11-20 AM A", "2026-11-20 PM A", "2026-11-23 AM X",
			"2026-11-23 PM P"), "", 0},
		{"a not-possible session inside a run of 3", marks("2026-11-20 AM A", "2026-11-20 PM A", "2026-11-23 AM X",
			"2026-11-23 PM A", "2026-11-24 AM P"), "present:2026-11-24:AM", 3},
		{"the return 14 days ago is outside the window", marks("2026-11-09 AM A", "2026-11-09 PM A", "2026-11-10 AM A",
			"2026-11-11 AM P"), "", 0},
		{"the return 13 days ago is inside it", marks("2026-11-09 AM A", "2026-11-09 PM A", "2026-11-11 AM A",
			"2026-11-12 AM P"), "present:2026-11-12:AM", 3},
		{"two returns: the latest", marks("2026-11-12 AM A", "2026-11-12 PM A", "2026-11-13 AM A", "2026-11-13 PM P",
			"2026-11-19 AM A", "2026-11-19 PM A", "2026-11-20 AM A", "2026-11-20 PM A", "2026-11-23 AM P"), "present:2026-11-23:AM", 4},
		{"PM is after AM whatever the order given", marks("2026-11-24 PM P", "2026-11-24 AM A", "2026-11-23 PM A", "2026-11-23 AM A"),
			"present:2026-11-24:PM", 3},
		{"a mark after today does not count", marks("2026-11-24 AM A", "2026-11-24 PM A", "2026-11-25 AM A", "2026-11-26 AM P"), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, ok := PresentAfterAbsences(tc.marks, today)
			if ok != (tc.reason != "") || pr.Reason != tc.reason {
				t.Fatalf("got %v %+v, want %q", ok, pr, tc.reason)
			}
			if ok && (pr.Kind != ReturnAfterAbsences || pr.Absence == nil || pr.Absence.Absences != tc.absences || pr.On != pr.Absence.Day) {
				t.Errorf("prompt %+v %+v, want %d absences", pr, pr.Absence, tc.absences)
			}
		})
	}
}

// fakeFacts are a plan and marks per pupil, on a fixed day.
type fakeFacts struct {
	today string
	plans map[string][]ReturnPlan
	marks map[string][]RegisterMark
}

func (f *fakeFacts) Today(context.Context, string) (string, error) { return f.today, nil }
func (f *fakeFacts) Plans(_ context.Context, id string) ([]ReturnPlan, error) {
	return f.plans[id], nil
}
func (f *fakeFacts) Marks(_ context.Context, id, from, to string) ([]RegisterMark, error) {
	var out []RegisterMark
	for _, m := range f.marks[id] {
		if m.Day >= from && m.Day <= to {
			out = append(out, m)
		}
	}
	return out, nil
}

// The prompts on both databases: only the key adult sees them (a teacher,
// then an EWO with no classroom), marking one done stores it for the
// pupil and event, so it is not listed again (and stays done), audited
// once; other staff, parents and pupils neither see nor dismiss them.
func TestReturnPromptsForTheKeyAdult(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.cw.SetClock(func() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) })
		facts := &fakeFacts{today: "2026-11-25",
			plans: map[string][]ReturnPlan{w.pupil.ID: {plan(true, "2026-10-01", "2026-11-15", 2, "2026-11-16", "2026-12-18", 4)}},
			marks: map[string][]RegisterMark{
				w.pupil.ID:      marks("2026-11-23 AM A", "2026-11-23 PM A", "2026-11-24 AM A", "2026-11-24 PM P"),
				w.otherPupil.ID: marks("2026-11-23 AM A", "2026-11-23 PM A", "2026-11-24 AM A", "2026-11-24 PM P"),
			}}
		list := func(a people.Actor) []ReturnPrompt {
			t.Helper()
			got, err := w.cw.ReturnPrompts(ctx, a, facts)
			if err != nil {
				t.Fatalf("%s %s: %v", a.Kind, a.ID, err)
			}
			return got
		}
		// No key adult yet: nobody has prompts.
		for _, a := range []people.Actor{w.keyAdult, w.ewo, w.admin} {
			if got := list(a); len(got) != 0 {
				t.Errorf("before a key adult is named, %s has %+v", a.ID, got)
			}
		}
		if _, err := w.cw.SetKeyAdult(ctx, w.admin, w.pupil.ID, w.keyAdult.ID, ""); err != nil {
			t.Fatal(err)
		}
		got := list(w.keyAdult)
		if len(got) != 2 || got[0].Reason != "present:2026-11-24:PM" || got[1].Reason != "phase:ph-2026-11-16" ||
			got[0].PupilName != "Pupil C1" || got[0].PupilID != w.pupil.ID {
			t.Fatalf("the key adult's prompts: %+v", got)
		}
		views := auditCount(t, db, people.ActPupilView, w.pupil.ID)
		if views == 0 {
			t.Error("listing the prompts was not audited as a view of the pupil")
		}
		// Other staff see none, and may not mark them done.
		for _, a := range []people.Actor{w.otherTeacher, w.ewo, w.admin, w.farTeacher} {
			if got := list(a); len(got) != 0 {
				t.Errorf("%s (not the key adult) sees %+v", a.ID, got)
			}
			if _, err := w.cw.MarkReturnDone(ctx, a, facts, w.pupil.ID, "present:2026-11-24:PM"); !refused(err) {
				t.Errorf("%s (not the key adult) marked it done: %v", a.ID, err)
			}
		}
		for _, a := range []people.Actor{w.parent, w.pupil} {
			if _, err := w.cw.ReturnPrompts(ctx, a, facts); !errors.Is(err, people.ErrForbidden) {
				t.Errorf("%s has prompts: %v", a.Kind, err)
			}
			if _, err := w.cw.MarkReturnDone(ctx, a, facts, w.pupil.ID, "present:2026-11-24:PM"); !errors.Is(err, people.ErrForbidden) {
				t.Errorf("%s marked it done: %v", a.Kind, err)
			}
		}
		// Bad and unknown reasons.
		var fe *people.FieldError
		for _, r := range []string{"", "present:24/11/2026:PM", "present:2026-11-24:EVE", "phase:", "phase:a b", "other:x", strings.Repeat("p", 200)} {
			if _, err := w.cw.MarkReturnDone(ctx, w.keyAdult, facts, w.pupil.ID, r); !errors.As(err, &fe) || fe.Field != "reason" {
				t.Errorf("reason %q: %v", r, err)
			}
		}
		for _, r := range []string{"present:2026-11-23:AM", "phase:ph-2026-10-01", "phase:ph-nothing"} {
			if _, err := w.cw.MarkReturnDone(ctx, w.keyAdult, facts, w.pupil.ID, r); !errors.Is(err, people.ErrNotFound) {
				t.Errorf("reason %q (no such prompt): %v", r, err)
			}
		}
		if n, _ := countDone(t, db); n != 0 {
			t.Fatalf("refusals stored %d", n)
		}
		d, err := w.cw.MarkReturnDone(ctx, w.keyAdult, facts, w.pupil.ID, "present:2026-11-24:PM")
		if err != nil || d.DoneBy != w.keyAdult.ID || d.Reason != "present:2026-11-24:PM" || d.DoneAt.IsZero() {
			t.Fatalf("marked done: %+v %v", d, err)
		}
		if got := list(w.keyAdult); len(got) != 1 || got[0].Reason != "phase:ph-2026-11-16" {
			t.Fatalf("after marking one done: %+v", got)
		}
		// Done stays done: again is the same answer, audited once; a later
		// look, a new key adult or a later register import do not bring it back.
		if again, err := w.cw.MarkReturnDone(ctx, w.keyAdult, facts, w.pupil.ID, "present:2026-11-24:PM"); err != nil || !again.DoneAt.Equal(d.DoneAt) {
			t.Errorf("marked done again: %+v %v", again, err)
		}
		if n := auditCount(t, db, ActReturnDone, w.pupil.ID); n != 1 {
			t.Errorf("marking done audited %d times, want 1", n)
		}
		facts.marks[w.pupil.ID] = append(facts.marks[w.pupil.ID], marks("2026-11-25 AM P")...)
		if _, err := w.cw.MarkReturnDone(ctx, w.keyAdult, facts, w.pupil.ID, "phase:ph-2026-11-16"); err != nil {
			t.Fatal(err)
		}
		if got := list(w.keyAdult); len(got) != 0 {
			t.Fatalf("after both done: %+v", got)
		}
		// An EWO with no classroom as the new key adult: the done ones stay
		// done; a new return (a new event) is theirs to see.
		if _, err := w.cw.SetKeyAdult(ctx, w.admin, w.pupil.ID, w.ewo.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := list(w.ewo); len(got) != 0 {
			t.Fatalf("the new key adult sees done prompts: %+v", got)
		}
		if got := list(w.keyAdult); len(got) != 0 {
			t.Fatalf("the former key adult still sees prompts: %+v", got)
		}
		facts.marks[w.pupil.ID] = marks("2026-11-19 AM A", "2026-11-19 PM A", "2026-11-20 AM A", "2026-11-23 AM P")
		if got := list(w.ewo); len(got) != 1 || got[0].Reason != "present:2026-11-23:AM" || got[0].Absence.Absences != 3 {
			t.Fatalf("the EWO's prompts: %+v", got)
		}
		if _, err := w.cw.MarkReturnDone(ctx, w.keyAdult, facts, w.pupil.ID, "present:2026-11-23:AM"); !refused(err) {
			t.Errorf("the former key adult marked the new one done: %v", err)
		}
		if _, err := w.cw.MarkReturnDone(ctx, w.ewo, facts, w.pupil.ID, "present:2026-11-23:AM"); err != nil {
			t.Fatal(err)
		}
		// The subject access export holds what was marked done; erasure takes it.
		ex, err := w.cw.ExportPupil(ctx, w.admin, w.pupil.ID)
		if err != nil || len(ex.ReturnsDone) != 3 {
			t.Fatalf("export: %+v %v", ex.ReturnsDone, err)
		}
		if err := w.ps.ErasePupil(ctx, w.admin, w.pupil.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := countDone(t, db); n != 0 {
			t.Errorf("erasure left %d check-ins on return", n)
		}
	})
}

func countDone(t *testing.T, db *store.DB) (int, error) {
	t.Helper()
	var n int
	err := db.Q().QueryRow(context.Background(), `SELECT COUNT(*) FROM return_checkins`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n, err
}
