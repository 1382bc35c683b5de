// Package casework holds the people around the pupil: the pupil's key
// adult (the family's one point of contact at school), the thread of
// messages between the family and school, and the pupil's own check-ins
// ("how did today feel?"). docs/CASEWORK.md lists each record, its purpose
// and who may see it.
package casework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"seatlink/internal/store"
	"seatlink/people"
)

// Store keeps casework records, checking every call against the
// permissions table and auditing each change and each view by staff.
type Store struct {
	db     *store.DB
	people *people.Store
	notify Notifier
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Store. notify tells people of new messages (nil: no one
// is told beyond the pages).
func New(db *store.DB, ps *people.Store, notify Notifier, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{db: db, people: ps, notify: notify, log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// KeyAdult is a pupil's key adult, as the family and the pupil see them:
// a name, a role and how to reach them; no photograph.
type KeyAdult struct {
	PupilID string      `json:"pupil_id"`
	StaffID string      `json:"staff_id"`
	Name    string      `json:"name"`
	Role    people.Role `json:"role"`
	Contact string      `json:"contact"`
	SetAt   time.Time   `json:"set_at"`
	SetBy   string      `json:"set_by,omitempty"`
	School  string      `json:"school,omitempty"`
}

// ErrNoKeyAdult is a pupil with no key adult yet.
var ErrNoKeyAdult = fmt.Errorf("%w: no key adult yet", people.ErrNotFound)

const maxContact = 300

// SetKeyAdult names staffID the pupil's key adult, with how to reach them
// (a phone number, an e-mail address, "ask at the school office"). The
// member of staff must work in the pupil's LA and, unless they are an
// EWO or an admin, at the pupil's school.
func (s *Store) SetKeyAdult(ctx context.Context, a people.Actor, pupilID, staffID, contact string) (KeyAdult, error) {
	if err := s.people.Authorize(ctx, a, people.ActKeyAdultSet, people.Target{PupilID: pupilID}); err != nil {
		return KeyAdult{}, err
	}
	contact, err := checkText("contact", contact, 0, maxContact)
	if err != nil {
		return KeyAdult{}, err
	}
	var ok bool
	err = s.db.Q().QueryRow(ctx, `SELECT 1 FROM staff st, pupils p JOIN schools sc ON sc.id = p.school_id
		WHERE st.id = ? AND p.id = ? AND NOT st.disabled AND st.la_id = sc.la_id
		AND (st.role IN ('ewo', 'admin') OR st.school_id = p.school_id)`, staffID, pupilID).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) {
		return KeyAdult{}, &people.FieldError{Field: "staff_id", Code: "not_staff_here",
			Message: "the key adult must be a member of staff at the pupil's school, or their LA's EWO or admin"}
	}
	if err != nil {
		return KeyAdult{}, err
	}
	now := s.now().UnixMilli()
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM key_adults WHERE pupil_id = ?`, pupilID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO key_adults (pupil_id, staff_id, contact, set_by, set_at) VALUES (?, ?, ?, ?, ?)`,
			pupilID, staffID, contact, a.ID, now); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActKeyAdultSet, "staff", staffID, pupilID, "")
	})
	if err != nil {
		return KeyAdult{}, err
	}
	return s.keyAdult(ctx, pupilID)
}

// KeyAdultOf is the pupil's key adult, for anyone who may see them
// (ErrNoKeyAdult when there is none yet).
func (s *Store) KeyAdultOf(ctx context.Context, a people.Actor, pupilID string) (KeyAdult, error) {
	if err := s.people.Authorize(ctx, a, people.ActKeyAdultView, people.Target{PupilID: pupilID}); err != nil {
		return KeyAdult{}, err
	}
	k, err := s.keyAdult(ctx, pupilID)
	if err != nil {
		return KeyAdult{}, err
	}
	if a.Kind != "staff" {
		k.SetBy = "" // families see who to turn to, not the school's workings
	}
	return k, nil
}

func (s *Store) keyAdult(ctx context.Context, pupilID string) (KeyAdult, error) {
	var k KeyAdult
	var at int64
	err := s.db.Q().QueryRow(ctx, `SELECT k.pupil_id, k.staff_id, st.name, st.role, k.contact, k.set_at, k.set_by,
		COALESCE(sc.name, '') FROM key_adults k JOIN staff st ON st.id = k.staff_id
		LEFT JOIN schools sc ON sc.id = st.school_id WHERE k.pupil_id = ?`, pupilID).
		Scan(&k.PupilID, &k.StaffID, &k.Name, &k.Role, &k.Contact, &at, &k.SetBy, &k.School)
	if errors.Is(err, sql.ErrNoRows) {
		return KeyAdult{}, ErrNoKeyAdult
	}
	k.SetAt = time.UnixMilli(at).UTC()
	return k, err
}

// checkText trims a person's words and checks their length.
func checkText(field, text string, min, max int) (string, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	n := utf8.RuneCountInString(text)
	if n < min || n > max || strings.ContainsRune(text, 0) || !utf8.ValidString(text) {
		return "", &people.FieldError{Field: field, Code: "bad_text", Message: fmt.Sprintf("%d to %d characters", min, max)}
	}
	return text, nil
}

// Export is everything casework holds about a pupil, for a subject access
// request (people.ActPupilExport): the key adult, the whole thread and
// every check-in.
type Export struct {
	KeyAdult *KeyAdult `json:"key_adult"`
	Messages []Message `json:"messages"`
	CheckIns []CheckIn `json:"check_ins"`
	Case     Case      `json:"case"`
	// ReturnsDone are the check-ins on return the key adult marked done.
	ReturnsDone []ReturnDone `json:"returns_done"`
}

// ExportPupil gathers the pupil's casework records.
func (s *Store) ExportPupil(ctx context.Context, a people.Actor, pupilID string) (Export, error) {
	if err := s.people.Authorize(ctx, a, people.ActPupilExport, people.Target{PupilID: pupilID}); err != nil {
		return Export{}, err
	}
	ex := Export{Messages: []Message{}, CheckIns: []CheckIn{}}
	var err error
	if ex.Case, err = s.caseOf(ctx, pupilID); err != nil {
		return Export{}, err
	}
	if ex.ReturnsDone, err = s.returnsDone(ctx, pupilID); err != nil {
		return Export{}, err
	}
	if k, err := s.keyAdult(ctx, pupilID); err == nil {
		ex.KeyAdult = &k
	} else if !errors.Is(err, ErrNoKeyAdult) {
		return Export{}, err
	}
	rows, err := s.db.Q().Query(ctx, `SELECT id, author_kind, author_id, body, created_at FROM messages WHERE pupil_id = ?
		ORDER BY created_at, id`, pupilID)
	if err != nil {
		return Export{}, err
	}
	for rows.Next() {
		m := Message{PupilID: pupilID}
		var at int64
		if err := rows.Scan(&m.ID, &m.AuthorKind, &m.AuthorID, &m.Body, &at); err != nil {
			rows.Close()
			return Export{}, err
		}
		m.At = time.UnixMilli(at).UTC()
		ex.Messages = append(ex.Messages, m)
	}
	rows.Close()
	rows, err = s.db.Q().Query(ctx, `SELECT id, feeling, words, at FROM checkins WHERE pupil_id = ? ORDER BY at, id`, pupilID)
	if err != nil {
		return Export{}, err
	}
	defer rows.Close()
	for rows.Next() {
		c := CheckIn{PupilID: pupilID}
		var at int64
		if err := rows.Scan(&c.ID, &c.Feeling, &c.Words, &at); err != nil {
			return Export{}, err
		}
		c.At = time.UnixMilli(at).UTC()
		ex.CheckIns = append(ex.CheckIns, c)
	}
	return ex, rows.Err()
}
