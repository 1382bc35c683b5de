package casework

import (
	"context"
	"strings"

	"seatlink/people"
)

// Candidate is a member of staff who may be named a pupil's key adult:
// enough to choose them (a name, a role, their school), nothing more.
type Candidate struct {
	StaffID string      `json:"staff_id"`
	Name    string      `json:"name"`
	Role    people.Role `json:"role"`
	School  string      `json:"school,omitempty"`
	// Current: the pupil's key adult now.
	Current bool `json:"current,omitempty"`
}

// KeyAdultCandidates lists, for someone who may name the pupil's key
// adult (people.ActKeyAdultSet), the staff SetKeyAdult would accept: not
// disabled, in the pupil's LA, and at the pupil's school unless an EWO
// or an admin. Sorted by name.
func (s *Store) KeyAdultCandidates(ctx context.Context, a people.Actor, pupilID string) ([]Candidate, error) {
	if err := s.people.Authorize(ctx, a, people.ActKeyAdultSet, people.Target{PupilID: pupilID}); err != nil {
		return nil, err
	}
	rows, err := s.db.Q().Query(ctx, `SELECT st.id, st.name, st.role, COALESCE(ss.name, ''),
		EXISTS (SELECT 1 FROM key_adults k WHERE k.pupil_id = p.id AND k.staff_id = st.id)
		FROM pupils p JOIN schools sc ON sc.id = p.school_id
		JOIN staff st ON st.la_id = sc.la_id AND NOT st.disabled AND (st.role IN ('ewo', 'admin') OR st.school_id = p.school_id)
		LEFT JOIN schools ss ON ss.id = st.school_id
		WHERE p.id = ? ORDER BY st.name, st.id`, pupilID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Candidate{}
	for rows.Next() {
		var c Candidate
		if err := rows.Scan(&c.StaffID, &c.Name, &c.Role, &c.School, &c.Current); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// KeyAdultNames are the names of the key adults of those of pupils who
// have one, by pupil id (for the caseload's key adult column). The
// caller has already limited pupils to those the reader may list.
func (s *Store) KeyAdultNames(ctx context.Context, pupils []people.Pupil) (map[string]string, error) {
	out := make(map[string]string, len(pupils))
	const chunk = 500
	for i := 0; i < len(pupils); i += chunk {
		part := pupils[i:min(i+chunk, len(pupils))]
		args := make([]any, len(part))
		for j, p := range part {
			args[j] = p.ID
		}
		rows, err := s.db.Q().Query(ctx, `SELECT k.pupil_id, st.name FROM key_adults k JOIN staff st ON st.id = k.staff_id
			WHERE k.pupil_id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
