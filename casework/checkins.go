package casework

import (
	"context"
	"fmt"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// CheckIn is a pupil's answer to "How did today feel?": one of five faces
// (1, very hard, to 5, great) and, if they like, a few words. It is never
// required, never scored, never ranked, and seen only by the pupil and
// their key adult.
type CheckIn struct {
	ID      string    `json:"id"`
	PupilID string    `json:"pupil_id"`
	Feeling int       `json:"feeling"`
	Words   string    `json:"words,omitempty"`
	At      time.Time `json:"at"`
}

// CheckIns are a pupil's check-ins, newest first, with a gentle note for
// the key adult when the last three were low (a face of 1 or 2). The note
// is for the key adult alone: it is no caseload flag and in no export.
type CheckIns struct {
	PupilID  string    `json:"pupil_id"`
	CheckIns []CheckIn `json:"check_ins"`
	// LowRun: the last three check-ins were all low.
	LowRun bool `json:"low_run,omitempty"`
}

const (
	maxWords = 500
	// lowFeeling and below is a low check-in; lowRun in a row raise the
	// note.
	lowFeeling = 2
	lowRun     = 3
	// keepShown is how many check-ins a view lists.
	keepShown = 60
)

// CheckIn records the pupil's own check-in.
func (s *Store) CheckIn(ctx context.Context, a people.Actor, pupilID string, feeling int, words string) (CheckIn, error) {
	if err := s.people.Authorize(ctx, a, people.ActCheckInWrite, people.Target{PupilID: pupilID}); err != nil {
		return CheckIn{}, err
	}
	if feeling < 1 || feeling > 5 {
		return CheckIn{}, &people.FieldError{Field: "feeling", Code: "bad_feeling", Message: "one of the five faces, 1 to 5"}
	}
	var err error
	if words != "" {
		if words, err = checkText("words", words, 0, maxWords); err != nil {
			return CheckIn{}, err
		}
	}
	c := CheckIn{ID: store.NewID("ci-"), PupilID: pupilID, Feeling: feeling, Words: words, At: s.now().UTC().Truncate(time.Millisecond)}
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO checkins (id, pupil_id, feeling, words, at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, pupilID, feeling, words, c.At.UnixMilli()); err != nil {
			return err
		}
		return s.people.AuditPupil(ctx, q, a, people.ActCheckInWrite, "checkin", c.ID, pupilID, "")
	})
	return c, err
}

// CheckInsOf are a pupil's check-ins, for the pupil or their key adult.
func (s *Store) CheckInsOf(ctx context.Context, a people.Actor, pupilID string) (CheckIns, error) {
	if err := s.people.Authorize(ctx, a, people.ActCheckInRead, people.Target{PupilID: pupilID}); err != nil {
		return CheckIns{}, err
	}
	rows, err := s.db.Q().Query(ctx, fmt.Sprintf(`SELECT id, feeling, words, at FROM checkins WHERE pupil_id = ?
		ORDER BY at DESC, id DESC LIMIT %d`, keepShown), pupilID)
	if err != nil {
		return CheckIns{}, err
	}
	out := CheckIns{PupilID: pupilID, CheckIns: []CheckIn{}}
	for rows.Next() {
		c := CheckIn{PupilID: pupilID}
		var at int64
		if err := rows.Scan(&c.ID, &c.Feeling, &c.Words, &at); err != nil {
			rows.Close()
			return CheckIns{}, err
		}
		c.At = time.UnixMilli(at).UTC()
		out.CheckIns = append(out.CheckIns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return CheckIns{}, err
	}
	out.LowRun = lowStreak(out.CheckIns)
	if a.Kind == "staff" {
		if err := s.people.AuditPupil(ctx, s.db.Q(), a, people.ActCheckInRead, "pupil", pupilID, pupilID, ""); err != nil {
			return CheckIns{}, err
		}
	}
	return out, nil
}

// lowStreak says whether the newest lowRun check-ins (newest first) were
// all low.
func lowStreak(newestFirst []CheckIn) bool {
	if len(newestFirst) < lowRun {
		return false
	}
	for _, c := range newestFirst[:lowRun] {
		if c.Feeling > lowFeeling {
			return false
		}
	}
	return true
}
