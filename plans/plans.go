// Package plans keeps pupils' graded re-integration plans: phases with
// weekly targets, a mandatory end date, reviews, notes in each voice,
// every saved version, and each week's progress against the targets as
// the register and the engagement evidence show it (package engagement).
package plans

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"seatlink/engagement"
	"seatlink/internal/store"
	"seatlink/people"
)

// Plan statuses.
const (
	Draft  = "draft"
	Active = "active"
	Ended  = "ended"
)

// Phase is one step of a plan: its dates, weekly targets and how the
// robot is used in it.
type Phase struct {
	ID             string  `json:"id,omitempty"`
	Name           string  `json:"name"`
	StartsOn       string  `json:"starts_on"`
	EndsOn         string  `json:"ends_on"`
	SchoolSessions int     `json:"school_sessions"` // per week, in school
	RobotSessions  int     `json:"robot_sessions"`  // per week, through the robot
	OtherHours     float64 `json:"other_hours"`     // per week, other learning (not measured by the gateway)
	RobotUse       string  `json:"robot_use"`
}

// Review is a review meeting date, and whether it was held.
type Review struct {
	On   string `json:"on"`
	Held bool   `json:"held"`
}

// Note is a view on the plan in one voice: the pupil's, a parent's, the
// school's or the EWO's. Notes are only ever added.
type Note struct {
	At         time.Time `json:"at"`
	Voice      string    `json:"voice"`
	AuthorKind string    `json:"author_kind"`
	AuthorID   string    `json:"author_id"`
	Text       string    `json:"text"`
}

// Plan is a pupil's graded re-integration plan.
type Plan struct {
	ID        string    `json:"id"`
	PupilID   string    `json:"pupil_id"`
	Status    string    `json:"status"`
	StartsOn  string    `json:"starts_on"`
	EndsOn    string    `json:"ends_on"`
	Summary   string    `json:"summary"`
	Version   int       `json:"version"`
	Phases    []Phase   `json:"phases"`
	Reviews   []Review  `json:"reviews"`
	Notes     []Note    `json:"notes"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input is what an EWO writes; Version must be the version read (0
// for a new plan), so two people's edits never silently overwrite.
type Input struct {
	Status   string   `json:"status"`
	StartsOn string   `json:"starts_on"`
	EndsOn   string   `json:"ends_on"`
	Summary  string   `json:"summary"`
	Version  int      `json:"version"`
	Phases   []Phase  `json:"phases"`
	Reviews  []Review `json:"reviews"`
}

// InputError lists everything wrong with a plan; nothing is saved.
type InputError struct{ Problems []*people.FieldError }

func (e *InputError) Error() string {
	var s []string
	for _, p := range e.Problems {
		s = append(s, p.Error())
	}
	return strings.Join(s, "; ")
}

// Unwrap makes an InputError an invalid-input error.
func (e *InputError) Unwrap() error { return people.ErrInvalid }

// validate checks a plan: a start and a mandatory end date, in order;
// one to twelve phases, each inside the plan, in order, not overlapping,
// with targets of 0 to 10 sessions a week; reviews inside the plan; a
// known status. Dates are normalised to YYYY-MM-DD.
func (in *Input) validate() error {
	var ps []*people.FieldError
	bad := func(field, code, format string, args ...any) {
		ps = append(ps, &people.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if in.Status == "" {
		in.Status = Draft
	}
	if in.Status != Draft && in.Status != Active && in.Status != Ended {
		bad("status", "bad_status", "status is draft, active or ended")
	}
	in.Summary = strings.TrimSpace(in.Summary)
	if len(in.Summary) > 2000 {
		bad("summary", "too_long", "the summary has at most 2000 characters")
	}
	date := func(field string, v *string, need string) bool {
		if strings.TrimSpace(*v) == "" {
			bad(field, "required", "%s", need)
			return false
		}
		d, err := engagement.ParseDay(*v)
		if err != nil {
			bad(field, "bad_date", "%s is a date like 2026-11-23", field)
			return false
		}
		*v = d
		return true
	}
	okStart := date("starts_on", &in.StartsOn, "the plan needs a start date")
	okEnd := date("ends_on", &in.EndsOn, "a plan must have an end date: a robot is a bridge back to school, not a place to stay")
	okPlan := okStart && okEnd
	if okPlan && in.EndsOn < in.StartsOn {
		bad("ends_on", "ends_before_start", "the plan ends before it starts")
		okPlan = false
	}
	if len(in.Phases) == 0 || len(in.Phases) > 12 {
		bad("phases", "bad_phases", "a plan has 1 to 12 phases")
	}
	for i := range in.Phases {
		ph := &in.Phases[i]
		f := func(name string) string { return fmt.Sprintf("phases[%d].%s", i, name) }
		ph.Name, ph.RobotUse = strings.TrimSpace(ph.Name), strings.TrimSpace(ph.RobotUse)
		if ph.Name == "" || len(ph.Name) > 100 {
			bad(f("name"), "bad_name", "phase %d needs a name of up to 100 characters", i+1)
		}
		if len(ph.RobotUse) > 500 {
			bad(f("robot_use"), "too_long", "phase %d: how the robot is used has at most 500 characters", i+1)
		}
		for _, t := range []struct {
			name string
			v    int
		}{{"school_sessions", ph.SchoolSessions}, {"robot_sessions", ph.RobotSessions}} {
			if t.v < 0 || t.v > 10 {
				bad(f(t.name), "bad_target", "phase %d: a week has 0 to 10 sessions", i+1)
			}
		}
		if ph.OtherHours < 0 || ph.OtherHours > 40 {
			bad(f("other_hours"), "bad_target", "phase %d: other learning is 0 to 40 hours a week", i+1)
		}
		okS, okE := date(f("starts_on"), &ph.StartsOn, "each phase needs a start date"), date(f("ends_on"), &ph.EndsOn, "each phase needs an end date")
		if !okS || !okE {
			continue
		}
		switch {
		case ph.EndsOn < ph.StartsOn:
			bad(f("ends_on"), "ends_before_start", "phase %d ends before it starts", i+1)
		case okPlan && (ph.StartsOn < in.StartsOn || ph.EndsOn > in.EndsOn):
			bad(f("starts_on"), "outside_plan", "phase %d falls outside the plan (%s to %s)", i+1, in.StartsOn, in.EndsOn)
		case i > 0 && in.Phases[i-1].EndsOn != "" && ph.StartsOn <= in.Phases[i-1].EndsOn:
			bad(f("starts_on"), "overlap", "phase %d overlaps phase %d (phases are in date order)", i+1, i)
		}
	}
	seen := map[string]bool{}
	for i := range in.Reviews {
		r := &in.Reviews[i]
		f := fmt.Sprintf("reviews[%d].on", i)
		if !date(f, &r.On, "each review needs a date") {
			continue
		}
		switch {
		case okPlan && r.On > in.EndsOn:
			bad(f, "after_end", "the review on %s is after the plan ends (%s)", r.On, in.EndsOn)
		case okPlan && r.On < in.StartsOn:
			bad(f, "before_start", "the review on %s is before the plan starts", r.On)
		case seen[r.On]:
			bad(f, "duplicate", "two reviews on %s", r.On)
		}
		seen[r.On] = true
	}
	if len(ps) > 0 {
		return &InputError{Problems: ps}
	}
	return nil
}

// Store keeps re-integration plans.
type Store struct {
	db      *store.DB
	people  *people.Store
	reports *engagement.Reports
	now     func() time.Time
}

// New returns the plans service; reports gives the pupils' weeks that
// progress is judged on.
func New(db *store.DB, ps *people.Store, reports *engagement.Reports) *Store {
	return &Store{db: db, people: ps, reports: reports, now: time.Now}
}

// Create writes a new plan for a pupil.
func (p *Store) Create(ctx context.Context, a people.Actor, pupilID string, in Input) (Plan, error) {
	if err := p.people.Authorize(ctx, a, people.ActPlanEdit, people.Target{PupilID: pupilID}); err != nil {
		return Plan{}, err
	}
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	id := store.NewID("plan-")
	now := p.now().UnixMilli()
	err := p.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO plans (id, pupil_id, status, starts_on, ends_on, summary, version, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`, id, pupilID, in.Status, in.StartsOn, in.EndsOn, in.Summary, a.ID, now, now); err != nil {
			return err
		}
		return p.writeParts(ctx, q, a, id, 1, in, now)
	})
	if err != nil {
		return Plan{}, err
	}
	return p.load(ctx, p.db.Q(), id)
}

// Update replaces a plan's dates, status, phases and reviews. in.Version
// must be the plan's current version; an ended plan cannot be reopened.
func (p *Store) Update(ctx context.Context, a people.Actor, id string, in Input) (Plan, error) {
	cur, err := p.load(ctx, p.db.Q(), id)
	if err != nil {
		return Plan{}, err
	}
	if err := p.people.Authorize(ctx, a, people.ActPlanEdit, people.Target{PupilID: cur.PupilID}); err != nil {
		return Plan{}, err
	}
	if err := in.validate(); err != nil {
		return Plan{}, err
	}
	if cur.Status == Ended && in.Status != Ended {
		return Plan{}, &InputError{Problems: []*people.FieldError{{Field: "status", Code: "ended",
			Message: "an ended plan stays ended; write a new plan"}}}
	}
	now := p.now().UnixMilli()
	err = p.db.Tx(ctx, func(q store.Q) error {
		res, err := q.Exec(ctx, `UPDATE plans SET status = ?, starts_on = ?, ends_on = ?, summary = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`, in.Status, in.StartsOn, in.EndsOn, in.Summary, now, id, in.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &people.ConflictError{Field: "version", Code: "stale_version",
				Message: "the plan was changed by someone else since you read it; reload it"}
		}
		if _, err := q.Exec(ctx, `DELETE FROM plan_reviews WHERE plan_id = ?`, id); err != nil {
			return err
		}
		// Phases keep their ids where they keep their place, so material
		// attached to a phase stays attached.
		if _, err := q.Exec(ctx, `DELETE FROM plan_phases WHERE plan_id = ? AND ordinal >= ?`, id, len(in.Phases)); err != nil {
			return err
		}
		return p.writeParts(ctx, q, a, id, in.Version+1, in, now)
	})
	if err != nil {
		return Plan{}, err
	}
	return p.load(ctx, p.db.Q(), id)
}

// writeParts writes a plan's phases and reviews, and its history entry.
func (p *Store) writeParts(ctx context.Context, q store.Q, a people.Actor, id string, version int, in Input, now int64) error {
	for i, ph := range in.Phases {
		var existing string
		err := q.QueryRow(ctx, `SELECT id FROM plan_phases WHERE plan_id = ? AND ordinal = ?`, id, i).Scan(&existing)
		switch {
		case err == nil:
			_, err = q.Exec(ctx, `UPDATE plan_phases SET name = ?, starts_on = ?, ends_on = ?, school_sessions = ?, robot_sessions = ?,
				other_hours = ?, robot_use = ? WHERE id = ?`, ph.Name, ph.StartsOn, ph.EndsOn, ph.SchoolSessions, ph.RobotSessions,
				ph.OtherHours, ph.RobotUse, existing)
		case errors.Is(err, sql.ErrNoRows):
			_, err = q.Exec(ctx, `INSERT INTO plan_phases (id, plan_id, ordinal, name, starts_on, ends_on, school_sessions, robot_sessions,
				other_hours, robot_use) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.NewID("ph-"), id, i, ph.Name, ph.StartsOn, ph.EndsOn,
				ph.SchoolSessions, ph.RobotSessions, ph.OtherHours, ph.RobotUse)
		}
		if err != nil {
			return err
		}
	}
	for _, r := range in.Reviews {
		if _, err := q.Exec(ctx, `INSERT INTO plan_reviews (plan_id, on_date, held) VALUES (?, ?, ?)`, id, r.On, r.Held); err != nil {
			return err
		}
	}
	saved, err := p.load(ctx, q, id)
	if err != nil {
		return err
	}
	saved.Notes = nil
	snap, _ := json.Marshal(saved)
	_, err = q.Exec(ctx, `INSERT INTO plan_history (plan_id, version, at, actor_kind, actor_id, snapshot) VALUES (?, ?, ?, ?, ?, ?)`,
		id, version, now, a.Kind, a.ID, string(snap))
	return err
}

func (p *Store) load(ctx context.Context, q store.Q, id string) (Plan, error) {
	var pl Plan
	var created, updated int64
	err := q.QueryRow(ctx, `SELECT id, pupil_id, status, starts_on, ends_on, summary, version, created_by, created_at, updated_at
		FROM plans WHERE id = ?`, id).Scan(&pl.ID, &pl.PupilID, &pl.Status, &pl.StartsOn, &pl.EndsOn, &pl.Summary, &pl.Version,
		&pl.CreatedBy, &created, &updated)
	if err != nil {
		return Plan{}, people.NotFoundIfNoRows(err)
	}
	pl.CreatedAt, pl.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	pl.Phases, pl.Reviews, pl.Notes = []Phase{}, []Review{}, []Note{}
	rows, err := q.Query(ctx, `SELECT id, name, starts_on, ends_on, school_sessions, robot_sessions, other_hours, robot_use
		FROM plan_phases WHERE plan_id = ? ORDER BY ordinal`, id)
	if err != nil {
		return Plan{}, err
	}
	for rows.Next() {
		var ph Phase
		if err := rows.Scan(&ph.ID, &ph.Name, &ph.StartsOn, &ph.EndsOn, &ph.SchoolSessions, &ph.RobotSessions, &ph.OtherHours, &ph.RobotUse); err != nil {
			rows.Close()
			return Plan{}, err
		}
		pl.Phases = append(pl.Phases, ph)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT on_date, held FROM plan_reviews WHERE plan_id = ? ORDER BY on_date`, id)
	if err != nil {
		return Plan{}, err
	}
	for rows.Next() {
		var r Review
		if err := rows.Scan(&r.On, &r.Held); err != nil {
			rows.Close()
			return Plan{}, err
		}
		pl.Reviews = append(pl.Reviews, r)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT at, voice, author_kind, author_id, text FROM plan_notes WHERE plan_id = ? ORDER BY at, id`, id)
	if err != nil {
		return Plan{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&at, &n.Voice, &n.AuthorKind, &n.AuthorID, &n.Text); err != nil {
			return Plan{}, err
		}
		n.At = time.UnixMilli(at).UTC()
		pl.Notes = append(pl.Notes, n)
	}
	return pl, rows.Err()
}

// Get returns a plan with its notes, for anyone who may view the pupil's plan.
func (p *Store) Get(ctx context.Context, a people.Actor, id string) (Plan, error) {
	pl, err := p.load(ctx, p.db.Q(), id)
	if err != nil {
		return Plan{}, err
	}
	if err := p.people.Authorize(ctx, a, people.ActPlanView, people.Target{PupilID: pl.PupilID}); err != nil {
		return Plan{}, err
	}
	return pl, nil
}

// ForPupil returns a pupil's plans, newest first.
func (p *Store) ForPupil(ctx context.Context, a people.Actor, pupilID string) ([]Plan, error) {
	if err := p.people.Authorize(ctx, a, people.ActPlanView, people.Target{PupilID: pupilID}); err != nil {
		return nil, err
	}
	rows, err := p.db.Q().Query(ctx, `SELECT id FROM plans WHERE pupil_id = ? ORDER BY starts_on DESC, created_at DESC`, pupilID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Plan{}
	for _, id := range ids {
		pl, err := p.load(ctx, p.db.Q(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, pl)
	}
	return out, nil
}

// Version is one saved version of a plan.
type Version struct {
	Version   int             `json:"version"`
	At        time.Time       `json:"at"`
	ActorKind string          `json:"actor_kind"`
	ActorID   string          `json:"actor_id"`
	Plan      json.RawMessage `json:"plan"`
}

// History returns every saved version of a plan, oldest first.
func (p *Store) History(ctx context.Context, a people.Actor, id string) ([]Version, error) {
	if _, err := p.Get(ctx, a, id); err != nil {
		return nil, err
	}
	rows, err := p.db.Q().Query(ctx, `SELECT version, at, actor_kind, actor_id, snapshot FROM plan_history WHERE plan_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var at int64
		var snap string
		if err := rows.Scan(&v.Version, &at, &v.ActorKind, &v.ActorID, &snap); err != nil {
			return nil, err
		}
		v.At, v.Plan = time.UnixMilli(at).UTC(), json.RawMessage(snap)
		out = append(out, v)
	}
	return out, rows.Err()
}

// voiceOf is whose view a note gives.
func voiceOf(a people.Actor) string {
	switch a.Role {
	case people.RolePupil:
		return "pupil"
	case people.RoleParent:
		return "parent"
	case people.RoleTeacher:
		return "school"
	}
	return "ewo" // the EWO, or the LA's admin
}

// AddNote adds a note in the actor's own voice (1 to 2000 characters).
func (p *Store) AddNote(ctx context.Context, a people.Actor, id, text string) (Note, error) {
	pl, err := p.load(ctx, p.db.Q(), id)
	if err != nil {
		return Note{}, err
	}
	if err := p.people.Authorize(ctx, a, people.ActPlanNote, people.Target{PupilID: pl.PupilID}); err != nil {
		return Note{}, err
	}
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 2000 {
		return Note{}, &people.FieldError{Field: "text", Code: "bad_text", Message: "a note has 1 to 2000 characters"}
	}
	n := Note{At: p.now().UTC().Truncate(time.Millisecond), Voice: voiceOf(a), AuthorKind: a.Kind, AuthorID: a.ID, Text: text}
	_, err = p.db.Q().Exec(ctx, `INSERT INTO plan_notes (id, plan_id, at, voice, author_kind, author_id, text) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		// The id sorts by the real clock, so notes of one instant keep their order.
		fmt.Sprintf("note-%016x-%s", time.Now().UnixNano(), store.NewID("")), id, n.At.UnixMilli(), n.Voice, n.AuthorKind, n.AuthorID, n.Text)
	return n, err
}

// WeekProgress is one school week of a plan: the phase's targets beside
// what the register and the engagement evidence show. A week cut short (a
// term's start or end, a holiday, days not yet marked) is judged against
// targets pro-rated to the sessions it had (see docs/MEASURES.md).
type WeekProgress struct {
	Monday       string  `json:"monday"`
	Phase        string  `json:"phase"`
	PhaseID      string  `json:"phase_id"`
	TargetSchool int     `json:"target_school_sessions"`
	TargetRobot  int     `json:"target_robot_sessions"`
	TargetOther  float64 `json:"target_other_hours"`
	Possible     int     `json:"possible_sessions"`
	// Available: the week's sessions whose outcome is known (marked, or
	// engaged remotely), out of FullWeek, the sessions of a whole week.
	Available int `json:"available_sessions"`
	FullWeek  int `json:"full_week_sessions"`
	// The targets pro-rated to the sessions available: in school, and in
	// school and through the robot together.
	DueSchool   int `json:"due_school_sessions"`
	DueTogether int `json:"due_together_sessions"`
	// InSchool counts only sessions on site (/ \ L), not approved
	// activities away from school.
	InSchool     int `json:"in_school_sessions"`
	ThroughRobot int `json:"robot_sessions"` // engaged remotely, not in school
	LearningMin  int `json:"learning_minutes"`
	// Judged: a complete week with sessions available; Met says whether the
	// pro-rated targets were reached.
	Judged bool `json:"judged"`
	Met    bool `json:"met"`
}

// proRate is a weekly target scaled to the sessions a week had, rounded
// up (a part week asks for its share of the target, and never more than
// the sessions it had when the target is at most a whole week's).
func proRate(target, available, full int) int {
	if full <= 0 || available >= full {
		return target
	}
	return (target*available + full - 1) / full
}

// Progress is a plan's weeks and flags.
type Progress struct {
	Plan  Plan                 `json:"plan"`
	Weeks []WeekProgress       `json:"weeks"`
	Flags engagement.PlanFlags `json:"flags"`
}

// phaseOn is the phase containing a day.
func phaseOn(pl Plan, day string) (Phase, bool) {
	for _, ph := range pl.Phases {
		if day >= ph.StartsOn && day <= ph.EndsOn {
			return ph, true
		}
	}
	return Phase{}, false
}

// progress computes a plan's weeks up to today from a pupil history.
func progress(pl Plan, weeks []engagement.Week, today string) Progress {
	pr := Progress{Plan: pl, Weeks: []WeekProgress{}, Flags: engagement.PlanFlags{PlanID: pl.ID, Status: pl.Status}}
	for _, w := range weeks {
		mon, _ := time.Parse(time.DateOnly, w.Monday)
		fri := mon.AddDate(0, 0, 4).Format(time.DateOnly)
		if fri < pl.StartsOn || w.Monday > pl.EndsOn || w.Monday > today {
			continue
		}
		var ph Phase
		var ok bool
		for d := 0; d < 5 && !ok; d++ {
			ph, ok = phaseOn(pl, mon.AddDate(0, 0, d).Format(time.DateOnly))
		}
		if !ok {
			continue
		}
		wp := WeekProgress{Monday: w.Monday, Phase: ph.Name, PhaseID: ph.ID, TargetSchool: ph.SchoolSessions,
			TargetRobot: ph.RobotSessions, TargetOther: ph.OtherHours, Possible: w.PossibleSessions,
			Available: w.KnownSessions, FullWeek: w.FullWeekSessions, InSchool: w.OnSiteSessions,
			ThroughRobot: w.RemoteNotOnSite, LearningMin: w.LearningMinutes}
		wp.DueSchool = proRate(wp.TargetSchool, wp.Available, wp.FullWeek)
		wp.DueTogether = proRate(wp.TargetSchool+wp.TargetRobot, wp.Available, wp.FullWeek)
		wp.Judged = w.Complete && wp.Available > 0
		wp.Met = wp.InSchool >= wp.DueSchool && wp.InSchool+wp.ThroughRobot >= wp.DueTogether
		pr.Weeks = append(pr.Weeks, wp)
	}
	var judged []WeekProgress
	for _, w := range pr.Weeks {
		if w.Judged {
			judged = append(judged, w)
		}
	}
	if n := len(judged); n >= 2 && !judged[n-1].Met && !judged[n-2].Met {
		pr.Flags.MissedTwoWeeks = true
	}
	soon := mustDay(today).AddDate(0, 0, 7).Format(time.DateOnly)
	for _, r := range pl.Reviews {
		if r.Held {
			continue
		}
		if r.On < today {
			pr.Flags.ReviewOverdue = true
		} else if r.On <= soon {
			pr.Flags.ReviewDue = true
		}
	}
	pr.Flags.PastEnd = pl.Status == Active && pl.EndsOn < today
	if pl.Status != Active { // a draft or ended plan raises no flags
		pr.Flags = engagement.PlanFlags{PlanID: pl.ID, Status: pl.Status}
	}
	return pr
}

func mustDay(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// Progress returns a plan's weeks against its targets and its flags.
func (p *Store) Progress(ctx context.Context, a people.Actor, id string) (Progress, error) {
	pl, err := p.Get(ctx, a, id)
	if err != nil {
		return Progress{}, err
	}
	pupil, err := p.people.LookupPupil(ctx, pl.PupilID)
	if err != nil {
		return Progress{}, err
	}
	return p.progressOf(ctx, pl, pupil)
}

func (p *Store) progressOf(ctx context.Context, pl Plan, pupil people.Pupil) (Progress, error) {
	today := p.now()
	through := today
	if end := mustDay(pl.EndsOn).Add(12 * time.Hour); end.Before(through) {
		through = end
	}
	start := mustDay(pl.StartsOn)
	weeks := int(through.Sub(start).Hours()/24/7) + 2
	if weeks < 1 || through.Before(start) {
		return progress(pl, nil, today.Format(time.DateOnly)), nil
	}
	hs, err := p.reports.Histories(ctx, []people.Pupil{pupil}, engagement.Range{Through: through, Weeks: min(weeks, 60), Now: today}, false)
	if err != nil {
		return Progress{}, err
	}
	return progress(pl, hs[0].Weeks, today.Format(time.DateOnly)), nil
}

// ActiveFlags returns the flags of each pupil's active plan (if any):
// what the caseload shows of it (engagement.PlanFlagger).
func (p *Store) ActiveFlags(ctx context.Context, pupils []people.Pupil) (map[string]engagement.PlanFlags, error) {
	out := map[string]engagement.PlanFlags{}
	if len(pupils) == 0 {
		return out, nil
	}
	byID := map[string]people.Pupil{}
	schools := map[string]bool{}
	var args []any
	for _, pu := range pupils {
		byID[pu.ID] = pu
		if !schools[pu.SchoolID] {
			schools[pu.SchoolID] = true
			args = append(args, pu.SchoolID)
		}
	}
	// Only the active plans of these pupils' schools, not every LA's.
	rows, err := p.db.Q().Query(ctx, `SELECT pl.id, pl.pupil_id FROM plans pl JOIN pupils pu ON pu.id = pl.pupil_id
		WHERE pl.status = 'active' AND pu.school_id IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY pl.starts_on`, args...)
	if err != nil {
		return nil, err
	}
	type ref struct{ plan, pupil string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.plan, &r.pupil); err != nil {
			rows.Close()
			return nil, err
		}
		if _, ok := byID[r.pupil]; ok {
			refs = append(refs, r)
		}
	}
	rows.Close()
	sort.Slice(refs, func(i, j int) bool { return refs[i].pupil < refs[j].pupil })
	for _, r := range refs {
		pl, err := p.load(ctx, p.db.Q(), r.plan)
		if err != nil {
			return nil, err
		}
		pr, err := p.progressOf(ctx, pl, byID[r.pupil])
		if err != nil {
			return nil, err
		}
		out[r.pupil] = pr.Flags
	}
	return out, nil
}
