package people

// What the staff console reads beside the records themselves: a teacher's
// classrooms (for the Today view), the devices a join link has signed in
// (for the join link list), and an audit entry for a view made of records
// read elsewhere.

import (
	"context"
	"strings"
	"time"

	"seatlink/internal/store"
)

// TeacherClassrooms are the classrooms a teacher teaches (none for other
// roles), by name.
func (s *Store) TeacherClassrooms(ctx context.Context, a Actor) ([]Classroom, error) {
	out := []Classroom{}
	if a.Kind != "staff" || a.Role != RoleTeacher {
		return out, nil
	}
	rows, err := s.q().Query(ctx, `SELECT c.id, c.school_id, c.name FROM classrooms c
		JOIN teacher_classrooms tc ON tc.classroom_id = c.id WHERE tc.staff_id = ? ORDER BY c.name`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c Classroom
		if err := rows.Scan(&c.ID, &c.SchoolID, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LookupClassroom returns one classroom without a permission check (the
// caller has authorised what it does with it).
func (s *Store) LookupClassroom(ctx context.Context, id string) (Classroom, error) {
	var c Classroom
	err := s.q().QueryRow(ctx, `SELECT id, school_id, name FROM classrooms WHERE id = ?`, id).Scan(&c.ID, &c.SchoolID, &c.Name)
	return c, NotFoundIfNoRows(err)
}

// LinkDevice is a pupil's device signed in with a join link (a remembered
// browser): when it signed in, and until when it stays signed in.
type LinkDevice struct {
	SignedInAt time.Time `json:"signed_in_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// JoinLinkUse is a join link with the devices it signed in that are still
// signed in, and when it last signed one in (nil: never).
type JoinLinkUse struct {
	JoinLinkInfo
	CreatedAt  time.Time    `json:"created_at"`
	Active     bool         `json:"active"` // neither revoked nor expired
	Devices    []LinkDevice `json:"devices"`
	LastUsedAt *time.Time   `json:"last_used_at,omitempty"`
}

// ListJoinLinkUse lists a pupil's join links, newest first, each with the
// devices signed in with it (ListJoinLinks' check).
func (s *Store) ListJoinLinkUse(ctx context.Context, a Actor, pupilID string) ([]JoinLinkUse, error) {
	links, err := s.ListJoinLinks(ctx, a, pupilID)
	if err != nil {
		return nil, err
	}
	out := make([]JoinLinkUse, 0, len(links))
	if len(links) == 0 {
		return out, nil
	}
	byID := map[string]int{}
	now := s.cfg.Now()
	for _, l := range links {
		byID[l.ID] = len(out)
		out = append(out, JoinLinkUse{JoinLinkInfo: l, Active: !l.Revoked && l.ExpiresAt.After(now), Devices: []LinkDevice{}})
	}
	rows, err := s.q().Query(ctx, `SELECT id, created_at FROM join_links WHERE pupil_id = ?`, pupilID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].CreatedAt = time.UnixMilli(at).UTC()
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Every sign-in with a link is a session with the link as its origin;
	// a session that has expired is no longer a device, but was a use.
	rows, err = s.q().Query(ctx, `SELECT origin, created_at, expires_at FROM sessions
		WHERE kind = 'pupil' AND subject_id = ? AND origin <> '' ORDER BY created_at DESC`, pupilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var origin string
		var at, exp int64
		if err := rows.Scan(&origin, &at, &exp); err != nil {
			return nil, err
		}
		i, ok := byID[origin]
		if !ok {
			continue
		}
		used := time.UnixMilli(at).UTC()
		if out[i].LastUsedAt == nil || used.After(*out[i].LastUsedAt) {
			out[i].LastUsedAt = &used
		}
		if exp > now.UnixMilli() {
			out[i].Devices = append(out[i].Devices, LinkDevice{SignedInAt: used, ExpiresAt: time.UnixMilli(exp).UTC()})
		}
	}
	return out, rows.Err()
}

// JoinLinkOf says which join link a pupil's credential came from: the
// link itself for a join link token (byLink), else the link that signed
// in the session with that token ("" if none or not found).
func (s *Store) JoinLinkOf(ctx context.Context, token string, byLink bool) string {
	if token == "" || len(token) > 128 {
		return ""
	}
	var id string
	q := `SELECT origin FROM sessions WHERE token_hash = ? AND kind = 'pupil'`
	if byLink {
		q = `SELECT id FROM join_links WHERE token_hash = ?`
	}
	if s.q().QueryRow(ctx, q, hashSecret(token)).Scan(&id) != nil {
		return ""
	}
	return id
}

// AuditView records that a member of staff was shown a pupil's records
// that another room read for them (detail says where: "today").
func (s *Store) AuditView(ctx context.Context, a Actor, pupilID, detail string) error {
	if a.Kind != "staff" || strings.TrimSpace(pupilID) == "" {
		return nil
	}
	return s.audit(ctx, s.q(), a, a.LAID, ActPupilView, "pupil", pupilID, pupilID, detail)
}

// AuditPupil writes an audit entry about a pupil's record for another
// room (casework), in its transaction q, in the pupil's LA.
func (s *Store) AuditPupil(ctx context.Context, q store.Q, a Actor, act Action, kind, id, pupilID, detail string) error {
	var laID string
	if err := q.QueryRow(ctx, `SELECT s.la_id FROM pupils p JOIN schools s ON s.id = p.school_id WHERE p.id = ?`, pupilID).
		Scan(&laID); err != nil {
		return NotFoundIfNoRows(err)
	}
	return s.audit(ctx, q, a, laID, act, kind, id, pupilID, detail)
}
