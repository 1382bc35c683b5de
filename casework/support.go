package casework

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Listen and understand: the barriers to a pupil's attendance as each
// person names them, the support agreed (each with an owner, a date and a
// status), the contacts with the family, the pupil's own words before a
// review of their plan, and what each review found and decided. Staff who
// may see the pupil (their school's teachers, the caseload's EWO, the LA's
// admin) see and keep these; the pupil writes only their own words.

// BarrierKinds are the standard list of barriers.
var BarrierKinds = []string{"anxiety", "illness", "send", "bullying", "family", "transport", "other"}

// Voices are who may name a barrier.
var Voices = []string{"pupil", "parent", "school", "ewo"}

// SupportStatuses are where an agreed action stands.
var SupportStatuses = []string{"agreed", "in_progress", "done", "dropped"}

// ContactKinds are the kinds of contact with the family.
var ContactKinds = []string{"meeting", "call", "home_visit", "other"}

// Participants are who may take part in a contact or a review.
var Participants = []string{"pupil", "parent", "key_adult", "school", "ewo", "other"}

// Barrier is one barrier to attendance as someone named it.
type Barrier struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	NamedBy    string     `json:"named_by"`
	Words      string     `json:"words"`
	At         time.Time  `json:"at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Support is one action agreed to help the pupil back.
type Support struct {
	ID     string    `json:"id"`
	Action string    `json:"action"`
	Owner  string    `json:"owner"`
	DueOn  string    `json:"due_on"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Contact is a meeting, call or home visit with the family.
type Contact struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	HeldOn       string    `json:"held_on"`
	Participants []string  `json:"participants"`
	Notes        string    `json:"notes"`
	At           time.Time `json:"at"`
}

// Voice is the pupil's "what I want to say" before a review.
type Voice struct {
	ID       string    `json:"id"`
	PlanID   string    `json:"plan_id"`
	ReviewOn string    `json:"review_on"`
	Words    string    `json:"words"`
	At       time.Time `json:"at"`
}

// ReviewRecord is what a plan review found and decided, with the barriers
// and support as they stood then.
type ReviewRecord struct {
	ID           string    `json:"id"`
	PlanID       string    `json:"plan_id"`
	ReviewOn     string    `json:"review_on"`
	Participants []string  `json:"participants"`
	PupilWords   string    `json:"pupil_words"`
	Barriers     []Barrier `json:"barriers"`
	Support      []Support `json:"support"`
	Decided      string    `json:"decided"`
	At           time.Time `json:"at"`
}

// Case is a pupil's barriers, support, contacts, their words before
// reviews and the reviews' records.
type Case struct {
	PupilID  string         `json:"pupil_id"`
	Barriers []Barrier      `json:"barriers"`
	Support  []Support      `json:"support"`
	Contacts []Contact      `json:"contacts"`
	Voices   []Voice        `json:"voices"`
	Reviews  []ReviewRecord `json:"reviews"`
}

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return &people.FieldError{Field: field, Code: "bad_" + field, Message: field + " must be one of " + strings.Join(allowed, ", ")}
}

func checkDay(field, v string) error {
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return &people.FieldError{Field: field, Code: "bad_date", Message: field + " must be a date like 2026-11-23"}
	}
	return nil
}

// checkParticipants checks a list of participants, at least one, each
// once, and returns it in the standard order.
func checkParticipants(list []string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range list {
		if err := oneOf("participants", p, Participants); err != nil {
			return nil, err
		}
		seen[p] = true
	}
	if len(seen) == 0 {
		return nil, &people.FieldError{Field: "participants", Code: "required", Message: "say who took part"}
	}
	var out []string
	for _, p := range Participants {
		if seen[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// AddBarrier records a barrier as someone named it.
func (s *Store) AddBarrier(ctx context.Context, a people.Actor, pupilID, kind, namedBy, words string) (Barrier, error) {
	if err := s.people.Authorize(ctx, a, people.ActCaseEdit, people.Target{PupilID: pupilID}); err != nil {
		return Barrier{}, err
	}
	if err := oneOf("kind", kind, BarrierKinds); err != nil {
		return Barrier{}, err
	}
	if err := oneOf("named_by", namedBy, Voices); err != nil {
		return Barrier{}, err
	}
	words, err := checkText("words", words, 0, 2000)
	if err != nil {
		return Barrier{}, err
	}
	b := Barrier{ID: store.NewID("bar-"), Kind: kind, NamedBy: namedBy, Words: words, At: s.now().UTC().Truncate(time.Millisecond)}
	return b, s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO barriers (id, pupil_id, kind, named_by, words, recorded_by, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			b.ID, pupilID, kind, namedBy, words, a.ID, b.At.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActCaseEdit, "barrier", b.ID, pupilID, "add")
	})
}

// ResolveBarrier marks a barrier as no longer standing.
func (s *Store) ResolveBarrier(ctx context.Context, a people.Actor, id string) error {
	return s.changeRow(ctx, a, "barriers", id, "resolve", func(q store.Q) error {
		_, err := q.Exec(ctx, `UPDATE barriers SET resolved_at = ? WHERE id = ? AND resolved_at = 0`, s.now().UnixMilli(), id)
		return err
	})
}

// AddSupport records an agreed action with its owner and date.
func (s *Store) AddSupport(ctx context.Context, a people.Actor, pupilID, action, owner, dueOn string) (Support, error) {
	if err := s.people.Authorize(ctx, a, people.ActCaseEdit, people.Target{PupilID: pupilID}); err != nil {
		return Support{}, err
	}
	action, err := checkText("action", action, 1, 1000)
	if err != nil {
		return Support{}, err
	}
	if owner, err = checkText("owner", owner, 1, 200); err != nil {
		return Support{}, err
	}
	if err := checkDay("due_on", dueOn); err != nil {
		return Support{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	sp := Support{ID: store.NewID("sup-"), Action: action, Owner: owner, DueOn: dueOn, Status: "agreed", At: now}
	return sp, s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO support_actions (id, pupil_id, action, owner, due_on, status, recorded_by, at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sp.ID, pupilID, action, owner, dueOn, sp.Status, a.ID, now.UnixMilli(), now.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActCaseEdit, "support", sp.ID, pupilID, "add")
	})
}

// SetSupportStatus moves an agreed action on.
func (s *Store) SetSupportStatus(ctx context.Context, a people.Actor, id, status string) error {
	if err := oneOf("status", status, SupportStatuses); err != nil {
		return err
	}
	return s.changeRow(ctx, a, "support_actions", id, status, func(q store.Q) error {
		_, err := q.Exec(ctx, `UPDATE support_actions SET status = ?, updated_at = ? WHERE id = ?`, status, s.now().UnixMilli(), id)
		return err
	})
}

// changeRow finds the pupil a row of table belongs to, checks the actor
// may change their case, and changes it with an audit entry.
func (s *Store) changeRow(ctx context.Context, a people.Actor, table, id, detail string, change func(store.Q) error) error {
	var pupilID string
	err := s.db.Q().QueryRow(ctx, `SELECT pupil_id FROM `+table+` WHERE id = ?`, id).Scan(&pupilID)
	if errors.Is(err, sql.ErrNoRows) {
		return people.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := s.people.Authorize(ctx, a, people.ActCaseEdit, people.Target{PupilID: pupilID}); err != nil {
		return err
	}
	kind := map[string]string{"barriers": "barrier", "support_actions": "support"}[table]
	return s.db.Tx(ctx, func(q store.Q) error {
		if err := change(q); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActCaseEdit, kind, id, pupilID, detail)
	})
}

// AddContact records a meeting, call or home visit and who took part.
func (s *Store) AddContact(ctx context.Context, a people.Actor, pupilID, kind, heldOn string, participants []string, notes string) (Contact, error) {
	if err := s.people.Authorize(ctx, a, people.ActCaseEdit, people.Target{PupilID: pupilID}); err != nil {
		return Contact{}, err
	}
	if err := oneOf("kind", kind, ContactKinds); err != nil {
		return Contact{}, err
	}
	if err := checkDay("held_on", heldOn); err != nil {
		return Contact{}, err
	}
	if heldOn > s.now().Format(time.DateOnly) {
		return Contact{}, &people.FieldError{Field: "held_on", Code: "future_date", Message: "a contact is recorded once it has happened"}
	}
	parts, err := checkParticipants(participants)
	if err != nil {
		return Contact{}, err
	}
	if notes, err = checkText("notes", notes, 0, 4000); err != nil {
		return Contact{}, err
	}
	c := Contact{ID: store.NewID("con-"), Kind: kind, HeldOn: heldOn, Participants: parts, Notes: notes, At: s.now().UTC().Truncate(time.Millisecond)}
	return c, s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO contacts (id, pupil_id, kind, held_on, participants, notes, recorded_by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, pupilID, kind, heldOn, strings.Join(parts, ","), notes, a.ID, c.At.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActCaseEdit, "contact", c.ID, pupilID, "add")
	})
}

// SayBeforeReview keeps the pupil's own words for the review of planID on
// reviewOn. The caller has checked that the plan is the pupil's and has
// that review ahead.
func (s *Store) SayBeforeReview(ctx context.Context, a people.Actor, pupilID, planID, reviewOn, words string) (Voice, error) {
	if err := s.people.Authorize(ctx, a, people.ActPupilVoice, people.Target{PupilID: pupilID}); err != nil {
		return Voice{}, err
	}
	if err := checkDay("review_on", reviewOn); err != nil {
		return Voice{}, err
	}
	words, err := checkText("words", words, 1, 2000)
	if err != nil {
		return Voice{}, err
	}
	v := Voice{ID: store.NewID("voice-"), PlanID: planID, ReviewOn: reviewOn, Words: words, At: s.now().UTC().Truncate(time.Millisecond)}
	return v, s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO pupil_voice (id, pupil_id, plan_id, review_on, words, at) VALUES (?, ?, ?, ?, ?, ?)`,
			v.ID, pupilID, planID, reviewOn, words, v.At.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActPupilVoice, "voice", v.ID, pupilID, "")
	})
}

// VoicesFor are the pupil's own words for their plans' reviews, newest
// first (for the pupil: what they have said).
func (s *Store) VoicesFor(ctx context.Context, a people.Actor, pupilID string) ([]Voice, error) {
	if err := s.people.Authorize(ctx, a, people.ActPupilVoice, people.Target{PupilID: pupilID}); err != nil {
		return nil, err
	}
	return s.voices(ctx, pupilID)
}

func (s *Store) voices(ctx context.Context, pupilID string) ([]Voice, error) {
	rows, err := s.db.Q().Query(ctx, `SELECT id, plan_id, review_on, words, at FROM pupil_voice WHERE pupil_id = ? ORDER BY at DESC, id DESC`, pupilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Voice{}
	for rows.Next() {
		var v Voice
		var at int64
		if err := rows.Scan(&v.ID, &v.PlanID, &v.ReviewOn, &v.Words, &at); err != nil {
			return nil, err
		}
		v.At = time.UnixMilli(at).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// RecordReview keeps what the review of planID on reviewOn found: who
// took part, the pupil's words for it (their latest), the barriers still
// standing and the support as they stand now, and what was decided. The
// caller has checked that the plan is the pupil's and has that review.
func (s *Store) RecordReview(ctx context.Context, a people.Actor, pupilID, planID, reviewOn string, participants []string, decided string) (ReviewRecord, error) {
	if err := s.people.Authorize(ctx, a, people.ActCaseEdit, people.Target{PupilID: pupilID}); err != nil {
		return ReviewRecord{}, err
	}
	if err := checkDay("review_on", reviewOn); err != nil {
		return ReviewRecord{}, err
	}
	parts, err := checkParticipants(participants)
	if err != nil {
		return ReviewRecord{}, err
	}
	if decided, err = checkText("decided", decided, 1, 4000); err != nil {
		return ReviewRecord{}, err
	}
	c, err := s.caseOf(ctx, pupilID)
	if err != nil {
		return ReviewRecord{}, err
	}
	r := ReviewRecord{ID: store.NewID("rev-"), PlanID: planID, ReviewOn: reviewOn, Participants: parts, Decided: decided,
		Barriers: []Barrier{}, Support: c.Support, At: s.now().UTC().Truncate(time.Millisecond)}
	for _, b := range c.Barriers {
		if b.ResolvedAt == nil {
			r.Barriers = append(r.Barriers, b)
		}
	}
	for _, v := range c.Voices { // newest first
		if v.PlanID == planID && v.ReviewOn == reviewOn {
			r.PupilWords = v.Words
			break
		}
	}
	snap, err := json.Marshal(struct {
		Barriers []Barrier `json:"barriers"`
		Support  []Support `json:"support"`
	}{r.Barriers, r.Support})
	if err != nil {
		return ReviewRecord{}, err
	}
	return r, s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO review_records (id, pupil_id, plan_id, review_on, participants, pupil_words, snapshot, decided,
			recorded_by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, pupilID, planID, reviewOn, strings.Join(parts, ","), r.PupilWords,
			string(snap), decided, a.ID, r.At.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActCaseEdit, "review", r.ID, pupilID, "record")
	})
}

// CaseOf is the pupil's case for staff who may see it (audited).
func (s *Store) CaseOf(ctx context.Context, a people.Actor, pupilID string) (Case, error) {
	if err := s.people.Authorize(ctx, a, people.ActCaseView, people.Target{PupilID: pupilID}); err != nil {
		return Case{}, err
	}
	c, err := s.caseOf(ctx, pupilID)
	if err != nil {
		return Case{}, err
	}
	return c, s.people.AuditPupil(ctx, s.db.Q(), a, people.ActCaseView, "pupil", pupilID, pupilID, "")
}

func (s *Store) caseOf(ctx context.Context, pupilID string) (Case, error) {
	c := Case{PupilID: pupilID, Barriers: []Barrier{}, Support: []Support{}, Contacts: []Contact{}, Reviews: []ReviewRecord{}}
	q := s.db.Q()
	rows, err := q.Query(ctx, `SELECT id, kind, named_by, words, at, resolved_at FROM barriers WHERE pupil_id = ? ORDER BY at, id`, pupilID)
	if err != nil {
		return Case{}, err
	}
	for rows.Next() {
		var b Barrier
		var at, res int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.NamedBy, &b.Words, &at, &res); err != nil {
			rows.Close()
			return Case{}, err
		}
		b.At = time.UnixMilli(at).UTC()
		if res > 0 {
			r := time.UnixMilli(res).UTC()
			b.ResolvedAt = &r
		}
		c.Barriers = append(c.Barriers, b)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT id, action, owner, due_on, status, at FROM support_actions WHERE pupil_id = ? ORDER BY due_on, id`, pupilID)
	if err != nil {
		return Case{}, err
	}
	for rows.Next() {
		var sp Support
		var at int64
		if err := rows.Scan(&sp.ID, &sp.Action, &sp.Owner, &sp.DueOn, &sp.Status, &at); err != nil {
			rows.Close()
			return Case{}, err
		}
		sp.At = time.UnixMilli(at).UTC()
		c.Support = append(c.Support, sp)
	}
	rows.Close()
	rows, err = q.Query(ctx, `SELECT id, kind, held_on, participants, notes, at FROM contacts WHERE pupil_id = ? ORDER BY held_on DESC, id`, pupilID)
	if err != nil {
		return Case{}, err
	}
	for rows.Next() {
		var ct Contact
		var parts string
		var at int64
		if err := rows.Scan(&ct.ID, &ct.Kind, &ct.HeldOn, &parts, &ct.Notes, &at); err != nil {
			rows.Close()
			return Case{}, err
		}
		ct.Participants, ct.At = strings.Split(parts, ","), time.UnixMilli(at).UTC()
		c.Contacts = append(c.Contacts, ct)
	}
	rows.Close()
	if c.Voices, err = s.voices(ctx, pupilID); err != nil {
		return Case{}, err
	}
	rows, err = q.Query(ctx, `SELECT id, plan_id, review_on, participants, pupil_words, snapshot, decided, at FROM review_records
		WHERE pupil_id = ? ORDER BY review_on DESC, at DESC`, pupilID)
	if err != nil {
		return Case{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var r ReviewRecord
		var parts, snap string
		var at int64
		if err := rows.Scan(&r.ID, &r.PlanID, &r.ReviewOn, &parts, &r.PupilWords, &snap, &r.Decided, &at); err != nil {
			return Case{}, err
		}
		r.Participants, r.At = strings.Split(parts, ","), time.UnixMilli(at).UTC()
		var sn struct {
			Barriers []Barrier `json:"barriers"`
			Support  []Support `json:"support"`
		}
		if err := json.Unmarshal([]byte(snap), &sn); err != nil {
			return Case{}, fmt.Errorf("review %s: %w", r.ID, err)
		}
		r.Barriers, r.Support = sn.Barriers, sn.Support
		c.Reviews = append(c.Reviews, r)
	}
	return c, rows.Err()
}
