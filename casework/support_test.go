package casework

import (
	"context"
	"errors"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// Barriers, support, contacts, the pupil's words and a review's record:
// kept by staff who may see the pupil, checked on the way in, audited,
// and a review keeps the barriers and support as they stood.
func TestBarriersSupportContactsAndReviews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		w.cw.SetClock(func() time.Time { now = now.Add(time.Minute); return now })
		p := w.pupil.ID

		// Bad input gets a field error and changes nothing.
		for _, c := range []struct{ kind, by string }{{"lazy", "school"}, {"anxiety", "teacher"}, {"", "pupil"}} {
			if _, err := w.cw.AddBarrier(ctx, w.ewo, p, c.kind, c.by, ""); !errors.Is(err, people.ErrInvalid) {
				t.Errorf("barrier %+v: %v", c, err)
			}
		}
		if _, err := w.cw.AddSupport(ctx, w.ewo, p, "Quiet room at lunch", "Mrs Evans", "next week"); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("a due date in words: %v", err)
		}
		if _, err := w.cw.AddContact(ctx, w.ewo, p, "call", "2026-12-20", []string{"parent"}, ""); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("a contact in the future: %v", err)
		}
		if _, err := w.cw.AddContact(ctx, w.ewo, p, "call", "2026-12-01", nil, ""); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("a contact with no one in it: %v", err)
		}
		if _, err := w.cw.AddContact(ctx, w.ewo, p, "call", "2026-12-01", []string{"parent", "neighbour"}, ""); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("a contact with an unknown participant: %v", err)
		}
		// Who may: staff who may see the pupil; not a parent, not another
		// school's teacher, not the pupil.
		for _, who := range []people.Actor{w.parent, w.farTeacher, w.pupil} {
			if _, err := w.cw.AddBarrier(ctx, who, p, "anxiety", "pupil", ""); !refused(err) {
				t.Errorf("%s %s recorded a barrier: %v", who.Kind, who.Name, err)
			}
			if _, err := w.cw.CaseOf(ctx, who, p); !refused(err) {
				t.Errorf("%s %s read the case: %v", who.Kind, who.Name, err)
			}
		}

		anxiety, err := w.cw.AddBarrier(ctx, w.ewo, p, "anxiety", "pupil", "The noise in the hall at lunch")
		if err != nil {
			t.Fatal(err)
		}
		bus, err := w.cw.AddBarrier(ctx, w.otherTeacher, p, "transport", "parent", "No bus before 9")
		if err != nil {
			t.Fatal(err)
		}
		quiet, err := w.cw.AddSupport(ctx, w.ewo, p, "A quiet room at lunch", "Mrs Evans, key adult", "2026-12-14")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.cw.AddContact(ctx, w.ewo, p, "home_visit", "2026-12-03", []string{"parent", "pupil", "ewo", "pupil"}, "Talked at home"); err != nil {
			t.Fatal(err)
		}
		if err := w.cw.SetSupportStatus(ctx, w.ewo, quiet.ID, "sideways"); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("an unknown status: %v", err)
		}
		if err := w.cw.SetSupportStatus(ctx, w.parent, quiet.ID, "done"); !refused(err) {
			t.Errorf("a parent moved the support on: %v", err)
		}
		if err := w.cw.SetSupportStatus(ctx, w.ewo, quiet.ID, "in_progress"); err != nil {
			t.Fatal(err)
		}
		if err := w.cw.ResolveBarrier(ctx, w.ewo, bus.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.cw.ResolveBarrier(ctx, w.ewo, "bar-nope"); !errors.Is(err, people.ErrNotFound) {
			t.Errorf("resolving no barrier: %v", err)
		}

		// The pupil says what they want to say before the review; only they
		// may, for themselves.
		if _, err := w.cw.SayBeforeReview(ctx, w.otherPupil, p, "plan-1", "2026-12-10", "hi"); !refused(err) {
			t.Errorf("another pupil spoke for the pupil: %v", err)
		}
		if _, err := w.cw.SayBeforeReview(ctx, w.pupil, p, "plan-1", "2026-12-10", "  "); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("empty words: %v", err)
		}
		if _, err := w.cw.SayBeforeReview(ctx, w.pupil, p, "plan-1", "2026-12-10", "I want mornings in school first"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.cw.SayBeforeReview(ctx, w.pupil, p, "plan-1", "2026-12-10", "Mornings first, and lunch in the quiet room"); err != nil {
			t.Fatal(err)
		}
		rec, err := w.cw.RecordReview(ctx, w.ewo, p, "plan-1", "2026-12-10", []string{"pupil", "parent", "key_adult", "ewo"},
			"Two mornings a week in school from Monday")
		if err != nil {
			t.Fatal(err)
		}
		if rec.PupilWords != "Mornings first, and lunch in the quiet room" || len(rec.Barriers) != 1 || rec.Barriers[0].ID != anxiety.ID ||
			len(rec.Support) != 1 || rec.Support[0].Status != "in_progress" {
			t.Errorf("review record %+v", rec)
		}
		// Later changes do not rewrite what the review found.
		if err := w.cw.SetSupportStatus(ctx, w.ewo, quiet.ID, "done"); err != nil {
			t.Fatal(err)
		}
		c, err := w.cw.CaseOf(ctx, w.otherTeacher, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Barriers) != 2 || c.Barriers[1].ResolvedAt == nil || len(c.Support) != 1 || c.Support[0].Status != "done" ||
			len(c.Contacts) != 1 || len(c.Contacts[0].Participants) != 3 || len(c.Voices) != 2 || len(c.Reviews) != 1 ||
			c.Reviews[0].Support[0].Status != "in_progress" {
			t.Errorf("case %+v", c)
		}
		if n := auditCount(t, db, people.ActCaseEdit, p); n != 8 { // 2 barriers, support, contact, 2 status changes, resolve, review
			t.Errorf("%d case changes audited, want 8", n)
		}
		if n := auditCount(t, db, people.ActCaseView, p); n != 1 {
			t.Errorf("%d case views audited, want 1", n)
		}
		if err := w.ps.ErasePupil(ctx, w.admin, p); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"barriers", "support_actions", "contacts", "pupil_voice", "review_records"} {
			var n int
			if err := db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE pupil_id = ?`, p).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s keeps %d rows of an erased pupil (%v)", table, n, err)
			}
		}
	})
}
