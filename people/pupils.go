package people

import (
	"context"
	"strings"

	"seatlink/internal/store"
)

// PupilInput creates a pupil.
type PupilInput struct {
	SchoolID    string `json:"school_id"`
	ClassroomID string `json:"classroom_id"`
	PupilNumber string `json:"pupil_number"`
	DisplayName string `json:"display_name"`
	YearGroup   *int   `json:"year_group"`
}

// Validate checks a pupil's fields (not their school or classroom).
func (in *PupilInput) Validate() error {
	in.PupilNumber = strings.TrimSpace(in.PupilNumber)
	if !pupilNumberRe.MatchString(in.PupilNumber) {
		return invalid("pupil_number", "bad_pupil_number", "pupil_number must be 1 to 32 letters, digits, '-', '_' or '/'")
	}
	var err error
	if in.DisplayName, err = checkName("display_name", in.DisplayName); err != nil {
		return err
	}
	if in.YearGroup == nil {
		return invalid("year_group", "required", "year_group is required (0 for Reception, -1 for Nursery)")
	}
	if *in.YearGroup < -1 || *in.YearGroup > 14 {
		return invalid("year_group", "bad_year_group", "year_group must be -1 (Nursery) to 14")
	}
	if in.SchoolID == "" {
		return invalid("school_id", "required", "school_id is required")
	}
	return nil
}

// CreatePupil adds a pupil to a school (and, optionally, a classroom).
func (s *Store) CreatePupil(ctx context.Context, a Actor, in PupilInput) (Pupil, error) {
	if err := in.Validate(); err != nil {
		return Pupil{}, err
	}
	if err := s.Authorize(ctx, a, ActPupilCreate, Target{SchoolID: in.SchoolID}); err != nil {
		return Pupil{}, err
	}
	var p Pupil
	err := s.db.Tx(ctx, func(q store.Q) error {
		var err error
		p, err = s.insertPupil(ctx, q, a, in)
		return err
	})
	return p, err
}

func (s *Store) insertPupil(ctx context.Context, q store.Q, a Actor, in PupilInput) (Pupil, error) {
	p := Pupil{ID: newID("pu"), SchoolID: in.SchoolID, ClassroomID: in.ClassroomID, PupilNumber: in.PupilNumber,
		DisplayName: in.DisplayName, YearGroup: *in.YearGroup}
	var classroom any
	if in.ClassroomID != "" {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM classrooms WHERE id = ? AND school_id = ?`, in.ClassroomID, in.SchoolID).Scan(&one); err != nil {
			return Pupil{}, invalid("classroom_id", "not_in_school", "the classroom is not in the pupil's school")
		}
		classroom = in.ClassroomID
	}
	if _, err := q.Exec(ctx, `INSERT INTO pupils (id, school_id, classroom_id, pupil_number, display_name, year_group, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, p.ID, p.SchoolID, classroom, p.PupilNumber, p.DisplayName, p.YearGroup, s.now()); err != nil {
		return Pupil{}, conflict(err, "pupil_number", "this pupil number is already used in the school")
	}
	return p, s.audit(ctx, q, a, s.laOfSchool(ctx, q, p.SchoolID), ActPupilCreate, "pupil", p.ID, p.ID, "")
}

const pupilCols = `p.id, p.school_id, COALESCE(p.classroom_id, ''), p.pupil_number, p.display_name, p.year_group`

func scanPupil(sc interface{ Scan(...any) error }) (Pupil, error) {
	var p Pupil
	err := sc.Scan(&p.ID, &p.SchoolID, &p.ClassroomID, &p.PupilNumber, &p.DisplayName, &p.YearGroup)
	return p, err
}

// ListPupils lists the pupils the actor may see, optionally in one school.
// A staff listing is audited.
func (s *Store) ListPupils(ctx context.Context, a Actor, schoolID string) ([]Pupil, error) {
	scope, ok := ScopeOf(a.Role, ActPupilList)
	if !ok {
		return nil, ErrForbidden
	}
	var query string
	var args []any
	base := `SELECT ` + pupilCols + ` FROM pupils p JOIN schools s ON s.id = p.school_id `
	switch scope {
	case ScopeLA:
		query, args = base+`WHERE s.la_id = ?`, []any{a.LAID}
	case ScopeSchool:
		query, args = base+`WHERE p.school_id = ?`, []any{a.SchoolID}
	case ScopeCaseload:
		query, args = base+`JOIN caseload c ON c.pupil_id = p.id WHERE c.staff_id = ?`, []any{a.ID}
	case ScopeChild:
		query, args = base+`JOIN parent_pupils pp ON pp.pupil_id = p.id WHERE pp.parent_id = ?`, []any{a.ID}
	default:
		return nil, ErrForbidden
	}
	if schoolID != "" {
		query += ` AND p.school_id = ?`
		args = append(args, schoolID)
	}
	rows, err := s.q().Query(ctx, query+` ORDER BY p.school_id, p.pupil_number`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Pupil{}
	for rows.Next() {
		p, err := scanPupil(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if a.Kind == "staff" {
		if err := s.audit(ctx, s.q(), a, a.LAID, ActPupilList, "school", schoolID, "", ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LookupPupil returns one pupil's record without a permission check or an
// audit entry: for other rooms that have already authorised the action
// they do on the pupil (and audited it, if it is a view).
func (s *Store) LookupPupil(ctx context.Context, id string) (Pupil, error) {
	p, err := scanPupil(s.q().QueryRow(ctx, `SELECT `+pupilCols+` FROM pupils p WHERE p.id = ?`, id))
	if err != nil {
		return Pupil{}, NotFoundIfNoRows(err)
	}
	return p, nil
}

// GetPupil returns one pupil; a staff view is audited.
func (s *Store) GetPupil(ctx context.Context, a Actor, id string) (Pupil, error) {
	if err := s.Authorize(ctx, a, ActPupilView, Target{PupilID: id}); err != nil {
		return Pupil{}, err
	}
	p, err := scanPupil(s.q().QueryRow(ctx, `SELECT `+pupilCols+` FROM pupils p WHERE p.id = ?`, id))
	if err != nil {
		return Pupil{}, NotFoundIfNoRows(err)
	}
	if a.Kind == "staff" {
		if err := s.audit(ctx, s.q(), a, a.LAID, ActPupilView, "pupil", id, id, ""); err != nil {
			return Pupil{}, err
		}
	}
	return p, nil
}

// PupilExport is everything Seatlink holds about one pupil.
type PupilExport struct {
	Pupil     Pupil          `json:"pupil"`
	Parents   []Parent       `json:"parents"`
	JoinLinks []JoinLinkInfo `json:"join_links"`
	Audit     []AuditEntry   `json:"audit"`
}

// ExportPupil gathers a pupil's data for a subject access request.
func (s *Store) ExportPupil(ctx context.Context, a Actor, id string) (PupilExport, error) {
	if err := s.Authorize(ctx, a, ActPupilExport, Target{PupilID: id}); err != nil {
		return PupilExport{}, err
	}
	p, err := scanPupil(s.q().QueryRow(ctx, `SELECT `+pupilCols+` FROM pupils p WHERE p.id = ?`, id))
	if err != nil {
		return PupilExport{}, NotFoundIfNoRows(err)
	}
	ex := PupilExport{Pupil: p, Parents: []Parent{}}
	rows, err := s.q().Query(ctx, `SELECT pa.id, pa.email, pa.name FROM parents pa
		JOIN parent_pupils pp ON pp.parent_id = pa.id WHERE pp.pupil_id = ? ORDER BY pa.email`, id)
	if err != nil {
		return PupilExport{}, err
	}
	for rows.Next() {
		var pa Parent
		if err := rows.Scan(&pa.ID, &pa.Email, &pa.Name); err != nil {
			rows.Close()
			return PupilExport{}, err
		}
		pa.PupilIDs = []string{id}
		ex.Parents = append(ex.Parents, pa)
	}
	rows.Close()
	if ex.JoinLinks, err = s.joinLinks(ctx, id); err != nil {
		return PupilExport{}, err
	}
	if ex.Audit, err = s.auditFor(ctx, id); err != nil {
		return PupilExport{}, err
	}
	return ex, s.audit(ctx, s.q(), a, a.LAID, ActPupilExport, "pupil", id, id, "")
}

// ErasePupil deletes a pupil and everything that belongs only to them
// (join links, robot link, caseload and parent links, sessions, and
// through the erase hooks what other rooms hold: engagement evidence;
// marks and plans go with the pupil's row). Audit entries stay, holding
// the bare id and no personal data: they are the record that the erasure
// was done, and by whom.
func (s *Store) ErasePupil(ctx context.Context, a Actor, id string) error {
	if err := s.Authorize(ctx, a, ActPupilErase, Target{PupilID: id}); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE kind = 'pupil' AND subject_id = ?`, id); err != nil {
			return err
		}
		for _, h := range s.eraseHooks {
			if err := h(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := q.Exec(ctx, `DELETE FROM pupils WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return s.audit(ctx, q, a, a.LAID, ActPupilErase, "pupil", id, id, "")
	})
}
