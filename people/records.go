package people

import (
	"context"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"seatlink/internal/store"
)

// LA is a local authority.
type LA struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// School belongs to an LA.
type School struct {
	ID   string `json:"id"`
	LAID string `json:"la_id"`
	Name string `json:"name"`
}

// Classroom belongs to a school.
type Classroom struct {
	ID       string `json:"id"`
	SchoolID string `json:"school_id"`
	Name     string `json:"name"`
}

// Staff is an LA admin, a teacher or an EWO.
type Staff struct {
	ID       string `json:"id"`
	LAID     string `json:"la_id"`
	SchoolID string `json:"school_id,omitempty"`
	Role     Role   `json:"role"`
	Email    string `json:"email"`
	Name     string `json:"name"`
}

// Pupil is a child the gateway serves.
type Pupil struct {
	ID          string `json:"id"`
	SchoolID    string `json:"school_id"`
	ClassroomID string `json:"classroom_id,omitempty"`
	PupilNumber string `json:"pupil_number"`
	DisplayName string `json:"display_name"`
	YearGroup   int    `json:"year_group"`
}

// Parent is linked to one or more pupils.
type Parent struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	PupilIDs []string `json:"pupil_ids"`
}

var (
	emailRe       = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$`)
	pupilNumberRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9/_-]{0,31}$`)
)

func checkName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return v, invalid(field, "required", "%s is required", field)
	}
	if utf8.RuneCountInString(v) > 200 {
		return v, invalid(field, "too_long", "%s is longer than 200 characters", field)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return v, invalid(field, "bad_characters", "%s has control characters", field)
		}
	}
	return v, nil
}

func checkEmail(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if !emailRe.MatchString(v) {
		return v, invalid("email", "bad_email", "email is not a valid address")
	}
	return v, nil
}

func checkPassword(v string) error {
	if n := utf8.RuneCountInString(v); n < 12 || len(v) > 256 {
		return invalid("password", "weak_password", "password must have 12 to 256 characters")
	}
	return nil
}

// audit writes one audit entry in the same transaction as the change.
func (s *Store) audit(ctx context.Context, q store.Q, a Actor, laID string, act Action, kind, id, pupilID, detail string) error {
	_, err := q.Exec(ctx, `INSERT INTO audit_log (id, at, actor_kind, actor_id, la_id, action, target_kind, target_id,
		pupil_id, remote, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		newID("au"), s.now(), a.Kind, a.ID, laID, string(act), kind, id, pupilID, a.Remote, detail)
	return err
}

// CreateLA creates a local authority. Only the operator (System) does.
func (s *Store) CreateLA(ctx context.Context, a Actor, name string) (LA, error) {
	if a.Kind != "system" {
		return LA{}, ErrForbidden
	}
	name, err := checkName("name", name)
	if err != nil {
		return LA{}, err
	}
	la := LA{ID: newID("la"), Name: name}
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO local_authorities (id, name, created_at) VALUES (?, ?, ?)`, la.ID, la.Name, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, q, a, la.ID, "la.create", "la", la.ID, "", "")
	})
	return la, err
}

// CreateSchool adds a school to the admin's LA.
func (s *Store) CreateSchool(ctx context.Context, a Actor, laID, name string) (School, error) {
	if laID == "" {
		laID = a.LAID
	}
	if err := s.Authorize(ctx, a, ActSchoolCreate, Target{LAID: laID}); err != nil {
		return School{}, err
	}
	name, err := checkName("name", name)
	if err != nil {
		return School{}, err
	}
	sc := School{ID: newID("sch"), LAID: laID, Name: name}
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO schools (id, la_id, name, created_at) VALUES (?, ?, ?, ?)`,
			sc.ID, sc.LAID, sc.Name, s.now()); err != nil {
			return conflict(err, "name", "a school with this name already exists")
		}
		return s.audit(ctx, q, a, laID, ActSchoolCreate, "school", sc.ID, "", "")
	})
	return sc, err
}

// conflict turns a unique violation into a FieldError wrapping ErrConflict.
func conflict(err error, field, msg string) error {
	if store.IsUnique(err) {
		return &ConflictError{Field: field, Message: msg}
	}
	if store.IsForeignKey(err) {
		return ErrNotFound
	}
	return err
}

// ConflictError is a duplicate of something that must be unique.
type ConflictError struct {
	Field   string
	Message string
	Code    string // the field's problem; "duplicate" if empty
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }
func (e *ConflictError) Unwrap() error { return ErrConflict }

// ListSchools lists the schools the actor may see.
func (s *Store) ListSchools(ctx context.Context, a Actor) ([]School, error) {
	scope, ok := ScopeOf(a.Role, ActSchoolList)
	if !ok {
		return nil, ErrForbidden
	}
	query, arg := `SELECT id, la_id, name FROM schools WHERE la_id = ? ORDER BY name`, a.LAID
	if scope == ScopeSchool {
		query, arg = `SELECT id, la_id, name FROM schools WHERE id = ? ORDER BY name`, a.SchoolID
	}
	rows, err := s.q().Query(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []School{}
	for rows.Next() {
		var sc School
		if err := rows.Scan(&sc.ID, &sc.LAID, &sc.Name); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// CreateClassroom adds a classroom to a school.
func (s *Store) CreateClassroom(ctx context.Context, a Actor, schoolID, name string) (Classroom, error) {
	if schoolID == "" {
		return Classroom{}, invalid("school_id", "required", "school_id is required")
	}
	if err := s.Authorize(ctx, a, ActClassroomCreate, Target{SchoolID: schoolID}); err != nil {
		return Classroom{}, err
	}
	name, err := checkName("name", name)
	if err != nil {
		return Classroom{}, err
	}
	c := Classroom{ID: newID("cls"), SchoolID: schoolID, Name: name}
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO classrooms (id, school_id, name, created_at) VALUES (?, ?, ?, ?)`,
			c.ID, c.SchoolID, c.Name, s.now()); err != nil {
			return conflict(err, "name", "a classroom with this name already exists in the school")
		}
		return s.audit(ctx, q, a, s.laOfSchool(ctx, q, schoolID), ActClassroomCreate, "classroom", c.ID, "", "")
	})
	return c, err
}

func (s *Store) laOfSchool(ctx context.Context, q store.Q, schoolID string) string {
	var la string
	_ = q.QueryRow(ctx, `SELECT la_id FROM schools WHERE id = ?`, schoolID).Scan(&la)
	return la
}

// ListClassrooms lists a school's classrooms.
func (s *Store) ListClassrooms(ctx context.Context, a Actor, schoolID string) ([]Classroom, error) {
	if err := s.Authorize(ctx, a, ActClassroomList, Target{SchoolID: schoolID}); err != nil {
		return nil, err
	}
	rows, err := s.q().Query(ctx, `SELECT id, school_id, name FROM classrooms WHERE school_id = ? ORDER BY name`, schoolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Classroom{}
	for rows.Next() {
		var c Classroom
		if err := rows.Scan(&c.ID, &c.SchoolID, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StaffInput creates a staff member.
type StaffInput struct {
	Role     Role   `json:"role"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	SchoolID string `json:"school_id"`
	Password string `json:"password"`
}

// CreateStaff adds an admin (no school), teacher or EWO (in a school of the LA).
func (s *Store) CreateStaff(ctx context.Context, a Actor, in StaffInput) (Staff, error) {
	st := Staff{ID: newID("st"), Role: in.Role, SchoolID: in.SchoolID, LAID: a.LAID}
	switch in.Role {
	case RoleAdmin:
		if in.SchoolID != "" {
			return Staff{}, invalid("school_id", "not_allowed", "an LA admin belongs to no school")
		}
	case RoleTeacher, RoleEWO:
		if in.SchoolID == "" {
			return Staff{}, invalid("school_id", "required", "a %s belongs to a school", in.Role)
		}
	default:
		return Staff{}, invalid("role", "bad_role", "role must be admin, teacher or ewo")
	}
	// The school decides the LA: a school of another LA is out of scope.
	t := Target{LAID: a.LAID}
	if in.SchoolID != "" {
		t = Target{SchoolID: in.SchoolID}
	}
	if err := s.Authorize(ctx, a, ActStaffCreate, t); err != nil {
		return Staff{}, err
	}
	if in.SchoolID != "" {
		st.LAID = s.laOfSchool(ctx, s.q(), in.SchoolID)
	}
	if st.LAID == "" {
		return Staff{}, invalid("la_id", "required", "staff belong to a local authority")
	}
	var err error
	if st.Name, err = checkName("name", in.Name); err != nil {
		return Staff{}, err
	}
	if st.Email, err = checkEmail(in.Email); err != nil {
		return Staff{}, err
	}
	if err := checkPassword(in.Password); err != nil {
		return Staff{}, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return Staff{}, err
	}
	var school any
	if st.SchoolID != "" {
		school = st.SchoolID
	}
	err = s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO staff (id, la_id, school_id, role, email, name, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, st.ID, st.LAID, school, string(st.Role), st.Email, st.Name, hash, s.now()); err != nil {
			return conflict(err, "email", "this email is already in use")
		}
		return s.audit(ctx, q, a, st.LAID, ActStaffCreate, "staff", st.ID, "", string(st.Role))
	})
	return st, err
}

// ListStaff lists the LA's staff.
func (s *Store) ListStaff(ctx context.Context, a Actor) ([]Staff, error) {
	if err := s.Authorize(ctx, a, ActStaffList, Target{LAID: a.LAID}); err != nil {
		return nil, err
	}
	rows, err := s.q().Query(ctx, `SELECT id, la_id, COALESCE(school_id, ''), role, email, name FROM staff
		WHERE la_id = ? ORDER BY role, name`, a.LAID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Staff{}
	for rows.Next() {
		var st Staff
		var role string
		if err := rows.Scan(&st.ID, &st.LAID, &st.SchoolID, &role, &st.Email, &st.Name); err != nil {
			return nil, err
		}
		st.Role = Role(role)
		out = append(out, st)
	}
	return out, rows.Err()
}

// AssignCaseload puts a pupil on an EWO's caseload.
func (s *Store) AssignCaseload(ctx context.Context, a Actor, ewoID, pupilID string) error {
	if err := s.Authorize(ctx, a, ActCaseloadAssign, Target{PupilID: pupilID}); err != nil {
		return err
	}
	if err := s.Authorize(ctx, a, ActCaseloadAssign, Target{StaffID: ewoID}); err != nil {
		return err
	}
	if !s.exists(ctx, `SELECT 1 FROM staff WHERE id = ? AND role = 'ewo'`, ewoID) {
		return invalid("staff_id", "not_ewo", "only an EWO has a caseload")
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO caseload (staff_id, pupil_id) VALUES (?, ?)`, ewoID, pupilID); err != nil {
			return conflict(err, "pupil_id", "the pupil is already on this caseload")
		}
		return s.audit(ctx, q, a, a.LAID, ActCaseloadAssign, "staff", ewoID, pupilID, "")
	})
}

// AssignClassroom gives a teacher one of their school's classrooms.
func (s *Store) AssignClassroom(ctx context.Context, a Actor, teacherID, classroomID string) error {
	if err := s.Authorize(ctx, a, ActTeacherClassroom, Target{StaffID: teacherID}); err != nil {
		return err
	}
	if !s.exists(ctx, `SELECT 1 FROM staff t JOIN classrooms c ON c.school_id = t.school_id
		WHERE t.id = ? AND t.role = 'teacher' AND c.id = ?`, teacherID, classroomID) {
		return invalid("classroom_id", "not_in_school", "the classroom is not in the teacher's school")
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO teacher_classrooms (staff_id, classroom_id) VALUES (?, ?)`, teacherID, classroomID); err != nil {
			return conflict(err, "classroom_id", "the teacher already has this classroom")
		}
		return s.audit(ctx, q, a, a.LAID, ActTeacherClassroom, "staff", teacherID, "", classroomID)
	})
}
