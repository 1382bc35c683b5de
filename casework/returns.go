package casework

// Check in on return: the key adult's Today view lists "Check in with
// <pupil>" when the pupil's plan moves into a phase with more time in
// school, or the pupil is marked present after a run of absences, until
// the key adult marks it done. The rules are here; the facts they read
// (the plans' phases, the register's marks) come from the rooms casework
// does not import, through ReturnFacts. docs/CASEWORK.md states the rules.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// The rules' numbers.
const (
	// ReturnWindowDays: an event (a phase's start, a present mark) is
	// listed when it fell today or on one of the days before, this many
	// days in all.
	ReturnWindowDays = 14
	// MinAbsenceRun is the shortest run of absences before a present mark
	// that asks for a check-in.
	MinAbsenceRun = 3
	// returnLookbackDays is how far before the window the marks are read,
	// so that a run of absences before a holiday is still seen.
	returnLookbackDays = 56
)

// The kinds of return prompt.
const (
	ReturnMoreSchool    = "more_school"        // a phase with more sessions in school a week
	ReturnAfterAbsences = "back_after_absence" // present after a run of absences
)

// ActReturnDone is the audit log's action for a prompt marked done (the
// permission it needs is the key adult's, people.ActCheckInRead).
const ActReturnDone people.Action = "checkin.return_done"

// MarkKind is what a register mark counts as for the rule.
type MarkKind int

// The kinds of mark.
const (
	// MarkNotCounted is a session that is not a possible one (the DfE's
	// not-possible codes such as # or Y1): it neither breaks nor extends a run.
	MarkNotCounted MarkKind = iota
	MarkPresent             // a present (attending) code
	MarkAbsent              // an authorised or unauthorised absence code
)

// RegisterMark is one marked session. A session with no mark is simply
// not in the list: unmarked sessions, weekends and holidays neither break
// nor extend a run.
type RegisterMark struct {
	Day     string // YYYY-MM-DD
	Session string // AM or PM
	Kind    MarkKind
}

// ReturnPhase is one phase of a plan, in the plan's order.
type ReturnPhase struct {
	ID             string
	Name           string
	StartsOn       string
	EndsOn         string
	SchoolSessions int // a week, in school
}

// ReturnPlan is a plan's phases; only an active plan counts.
type ReturnPlan struct {
	ID     string
	Active bool
	Phases []ReturnPhase
}

// PhaseStep is the phase a prompt is about.
type PhaseStep struct {
	PlanID           string `json:"plan_id"`
	Name             string `json:"name"`
	StartsOn         string `json:"starts_on"`
	SchoolSessions   int    `json:"school_sessions"`
	PreviousSessions int    `json:"previous_school_sessions"`
}

// AbsenceRun is the return a prompt is about: the present mark and the
// absences just before it.
type AbsenceRun struct {
	Day      string `json:"day"`
	Session  string `json:"session"`
	Absences int    `json:"absences"`
}

// ReturnPrompt is one "check in with <pupil>" for their key adult.
type ReturnPrompt struct {
	PupilID   string `json:"pupil_id"`
	PupilName string `json:"pupil_name"`
	Kind      string `json:"kind"` // ReturnMoreSchool or ReturnAfterAbsences
	// Reason names the event: "phase:<phase id>" or "present:<day>:<AM|PM>".
	// Marking it done stores it, so the same event is not listed again.
	Reason  string      `json:"reason"`
	On      string      `json:"on"` // the day of the event
	Phase   *PhaseStep  `json:"phase,omitempty"`
	Absence *AbsenceRun `json:"absence,omitempty"`
}

// ReturnDone is a prompt marked done.
type ReturnDone struct {
	PupilID string    `json:"pupil_id"`
	Reason  string    `json:"reason"`
	DoneBy  string    `json:"done_by"`
	DoneAt  time.Time `json:"done_at"`
}

// ReturnFacts gives the rules what they read about a pupil from the rooms
// casework does not import (engagement, plans). Its calls are made only
// for a pupil whose key adult the caller is.
type ReturnFacts interface {
	// Today is today's date in the school's time zone.
	Today(ctx context.Context, schoolID string) (string, error)
	// Plans are the pupil's plans with their phases in order.
	Plans(ctx context.Context, pupilID string) ([]ReturnPlan, error)
	// Marks are the pupil's register marks from one day to another.
	Marks(ctx context.Context, pupilID, from, to string) ([]RegisterMark, error)
}

func addDays(day string, n int) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

// windowStart is the first day of the window that ends on today.
func windowStart(today string) string { return addDays(today, -(ReturnWindowDays - 1)) }

// PhaseStepUp finds the phase change that asks for a check-in: in an
// active plan, the phase in force today started within the window and
// asks for more sessions in school a week than the phase before it.
func PhaseStepUp(plans []ReturnPlan, today string) (ReturnPrompt, bool) {
	from := windowStart(today)
	var best ReturnPrompt
	found := false
	for _, pl := range plans {
		if !pl.Active {
			continue
		}
		for i := 1; i < len(pl.Phases); i++ {
			ph, prev := pl.Phases[i], pl.Phases[i-1]
			if ph.StartsOn > today || ph.EndsOn < today || ph.StartsOn < from || ph.SchoolSessions <= prev.SchoolSessions {
				continue
			}
			if found && ph.StartsOn <= best.On {
				continue
			}
			best = ReturnPrompt{Kind: ReturnMoreSchool, Reason: "phase:" + ph.ID, On: ph.StartsOn,
				Phase: &PhaseStep{PlanID: pl.ID, Name: ph.Name, StartsOn: ph.StartsOn, SchoolSessions: ph.SchoolSessions,
					PreviousSessions: prev.SchoolSessions}}
			found = true
		}
	}
	return best, found
}

// PresentAfterAbsences finds the return that asks for a check-in: the
// latest present mark within the window whose marked sessions just before
// it are at least MinAbsenceRun absences in a row. Unmarked sessions
// (and so weekends and holidays) and not-possible sessions are passed
// over: they neither break nor extend the run.
func PresentAfterAbsences(marks []RegisterMark, today string) (ReturnPrompt, bool) {
	sorted := append([]RegisterMark(nil), marks...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Day != sorted[j].Day {
			return sorted[i].Day < sorted[j].Day
		}
		return sorted[i].Session < sorted[j].Session // AM before PM
	})
	from := windowStart(today)
	var best ReturnPrompt
	found := false
	run := 0
	for _, m := range sorted {
		if m.Day > today {
			break
		}
		switch m.Kind {
		case MarkAbsent:
			run++
		case MarkPresent:
			if run >= MinAbsenceRun && m.Day >= from {
				best = ReturnPrompt{Kind: ReturnAfterAbsences, Reason: "present:" + m.Day + ":" + m.Session, On: m.Day,
					Absence: &AbsenceRun{Day: m.Day, Session: m.Session, Absences: run}}
				found = true
			}
			run = 0
		}
	}
	return best, found
}

// keyAdultPupil is a pupil whose key adult the caller is.
type keyAdultPupil struct{ id, name, schoolID string }

// pupilsOfKeyAdult are the pupils whose key adult a is.
func (s *Store) pupilsOfKeyAdult(ctx context.Context, a people.Actor) ([]keyAdultPupil, error) {
	rows, err := s.db.Q().Query(ctx, `SELECT p.id, p.display_name, p.school_id FROM key_adults k JOIN pupils p ON p.id = k.pupil_id
		WHERE k.staff_id = ? ORDER BY p.display_name, p.id`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keyAdultPupil
	for rows.Next() {
		var p keyAdultPupil
		if err := rows.Scan(&p.id, &p.name, &p.schoolID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// promptsOf are the pupil's prompts by the rules, done or not.
func promptsOf(ctx context.Context, facts ReturnFacts, p keyAdultPupil) ([]ReturnPrompt, error) {
	today, err := facts.Today(ctx, p.schoolID)
	if err != nil {
		return nil, err
	}
	plans, err := facts.Plans(ctx, p.id)
	if err != nil {
		return nil, err
	}
	marks, err := facts.Marks(ctx, p.id, addDays(windowStart(today), -returnLookbackDays), today)
	if err != nil {
		return nil, err
	}
	var out []ReturnPrompt
	if pr, ok := PhaseStepUp(plans, today); ok {
		out = append(out, pr)
	}
	if pr, ok := PresentAfterAbsences(marks, today); ok {
		out = append(out, pr)
	}
	for i := range out {
		out[i].PupilID, out[i].PupilName = p.id, p.name
	}
	return out, nil
}

func (s *Store) doneReasons(ctx context.Context, pupilID string) (map[string]bool, error) {
	rows, err := s.db.Q().Query(ctx, `SELECT reason FROM return_checkins WHERE pupil_id = ?`, pupilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		done[r] = true
	}
	return done, rows.Err()
}

// authorizeKeyAdult lets only staff through, and only for a pupil whose
// key adult they are (people.ActCheckInRead is the key adult's scope for
// every staff role).
func (s *Store) authorizeKeyAdult(ctx context.Context, a people.Actor, pupilID string) error {
	if a.Kind != "staff" {
		return people.ErrForbidden
	}
	return s.people.Authorize(ctx, a, people.ActCheckInRead, people.Target{PupilID: pupilID})
}

// ReturnPrompts are the check-ins on return waiting for a, the key adult
// of the pupils they name: newest event first. Each pupil named is an
// audited view ("today check-in"). Only staff have them; a member of staff
// who is nobody's key adult has none.
func (s *Store) ReturnPrompts(ctx context.Context, a people.Actor, facts ReturnFacts) ([]ReturnPrompt, error) {
	if a.Kind != "staff" {
		return nil, people.ErrForbidden
	}
	if _, ok := people.ScopeOf(a.Role, people.ActCheckInRead); !ok {
		return nil, people.ErrForbidden
	}
	pupils, err := s.pupilsOfKeyAdult(ctx, a)
	if err != nil {
		return nil, err
	}
	out := []ReturnPrompt{}
	for _, p := range pupils {
		if err := s.authorizeKeyAdult(ctx, a, p.id); err != nil {
			continue // the key adult link is there, but the policy says no
		}
		prompts, err := promptsOf(ctx, facts, p)
		if err != nil {
			return nil, err
		}
		if len(prompts) == 0 {
			continue
		}
		done, err := s.doneReasons(ctx, p.id)
		if err != nil {
			return nil, err
		}
		listed := false
		for _, pr := range prompts {
			if !done[pr.Reason] {
				out = append(out, pr)
				listed = true
			}
		}
		if listed {
			if err := s.people.AuditView(ctx, a, p.id, "today check-in"); err != nil {
				return nil, err
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].On > out[j].On })
	return out, nil
}

var reasonPattern = regexp.MustCompile(`^(phase:[A-Za-z0-9_-]{1,80}|present:[0-9]{4}-[0-9]{2}-[0-9]{2}:(AM|PM))$`)

// MarkReturnDone marks a pupil's check-in on return done, for their key
// adult alone: reason must name one of the pupil's prompts as the rules
// find it now (or one already done, which stays done). Audited.
func (s *Store) MarkReturnDone(ctx context.Context, a people.Actor, facts ReturnFacts, pupilID, reason string) (ReturnDone, error) {
	if err := s.authorizeKeyAdult(ctx, a, pupilID); err != nil {
		return ReturnDone{}, err
	}
	if !reasonPattern.MatchString(reason) {
		return ReturnDone{}, &people.FieldError{Field: "reason", Code: "bad_reason",
			Message: "reason is a prompt's reason, like present:2026-11-23:AM or phase:<phase id>"}
	}
	if d, err := s.returnDone(ctx, pupilID, reason); err == nil {
		return d, nil // done stays done
	} else if !errors.Is(err, people.ErrNotFound) {
		return ReturnDone{}, err
	}
	var p keyAdultPupil
	if err := s.db.Q().QueryRow(ctx, `SELECT id, display_name, school_id FROM pupils WHERE id = ?`, pupilID).
		Scan(&p.id, &p.name, &p.schoolID); err != nil {
		return ReturnDone{}, people.NotFoundIfNoRows(err)
	}
	prompts, err := promptsOf(ctx, facts, p)
	if err != nil {
		return ReturnDone{}, err
	}
	found := false
	for _, pr := range prompts {
		found = found || pr.Reason == reason
	}
	if !found {
		return ReturnDone{}, fmt.Errorf("%w: no check-in on return %s for this pupil now", people.ErrNotFound, reason)
	}
	d := ReturnDone{PupilID: pupilID, Reason: reason, DoneBy: a.ID, DoneAt: s.now().UTC().Truncate(time.Millisecond)}
	err = s.db.Tx(ctx, func(q store.Q) error {
		res, err := q.Exec(ctx, `INSERT INTO return_checkins (pupil_id, reason, done_by, done_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (pupil_id, reason) DO NOTHING`, pupilID, reason, a.ID, d.DoneAt.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // marked done a moment ago: one audit entry
		}
		return s.people.AuditPupil(ctx, q, a, ActReturnDone, "pupil", pupilID, pupilID, reason)
	})
	if err != nil {
		return ReturnDone{}, err
	}
	return s.returnDone(ctx, pupilID, reason)
}

func (s *Store) returnDone(ctx context.Context, pupilID, reason string) (ReturnDone, error) {
	d := ReturnDone{PupilID: pupilID, Reason: reason}
	var at int64
	err := s.db.Q().QueryRow(ctx, `SELECT done_by, done_at FROM return_checkins WHERE pupil_id = ? AND reason = ?`, pupilID, reason).
		Scan(&d.DoneBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return ReturnDone{}, people.ErrNotFound
	}
	d.DoneAt = time.UnixMilli(at).UTC()
	return d, err
}

// returnsDone are the pupil's check-ins on return marked done, oldest
// first (for the subject access export).
func (s *Store) returnsDone(ctx context.Context, pupilID string) ([]ReturnDone, error) {
	rows, err := s.db.Q().Query(ctx, `SELECT reason, done_by, done_at FROM return_checkins WHERE pupil_id = ? ORDER BY done_at, reason`, pupilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ReturnDone{}
	for rows.Next() {
		d := ReturnDone{PupilID: pupilID}
		var at int64
		if err := rows.Scan(&d.Reason, &d.DoneBy, &at); err != nil {
			return nil, err
		}
		d.DoneAt = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}
