package people

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"seatlink/internal/linelimit"
	"seatlink/internal/store"
)

// MaxImportRows bounds one CSV import.
const MaxImportRows = 5000

// RowError is what is wrong with one row of an import (row 1 is the
// header, so the first pupil is row 2, as a spreadsheet shows it).
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportReport says what an import did, or why it did nothing.
type ImportReport struct {
	Rows              int        `json:"rows"`
	PupilsCreated     int        `json:"pupils_created"`
	ClassroomsCreated []string   `json:"classrooms_created"`
	Errors            []RowError `json:"errors"`
}

// ImportError is returned when any row is wrong; nothing was imported.
type ImportError struct{ Report ImportReport }

func (e *ImportError) Error() string {
	return fmt.Sprintf("%d of %d rows have errors; nothing was imported", len(e.Report.Errors), e.Report.Rows)
}
func (e *ImportError) Unwrap() error { return ErrInvalid }

// importRow is one parsed, valid row.
type importRow struct {
	row       int
	in        PupilInput
	classroom string
}

// Header names accepted for each column, as school MIS exports name them.
var importColumns = map[string][]string{
	"pupil_number": {"pupil_number", "upn", "admission number", "admission_number", "adno", "pupil number"},
	"display_name": {"display_name", "preferred name", "preferred forename", "forename", "name", "display name"},
	"year_group":   {"year_group", "year", "year group", "ncyear", "nc year"},
	"classroom":    {"classroom", "class", "reg group", "registration group", "form"},
}

// ParseYearGroup reads "5", "Y5", "Year 5", "R"/"Reception" (0) or
// "N"/"Nursery" (-1).
func ParseYearGroup(v string) (int, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "r", "rec", "reception":
		return 0, true
	case "n", "n1", "n2", "nursery":
		return -1, true
	}
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(v, "year"), "y"))
	n, err := strconv.Atoi(v)
	if err != nil || n < -1 || n > 14 {
		return 0, false
	}
	return n, true
}

// MaxImportErrors bounds the errors reported for one import.
const MaxImportErrors = 100

// parsePupilCSV reads and validates an import without touching the
// database: the header, every row's fields, and duplicates in the file.
// A read error that is not bad CSV (the upload was cut, or too large) is
// returned as ioErr.
func parsePupilCSV(r io.Reader, schoolID string) (rows []importRow, errs []RowError, ioErr error) {
	cr := csv.NewReader(linelimit.New(r, 0))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, linelimit.ErrTooLong) {
		return nil, []RowError{{Row: 1, Field: "header", Code: "line_too_long", Message: "the header is longer than 8 KiB"}}, nil
	}
	if err != nil {
		if isIOError(err) {
			return nil, nil, err
		}
		return nil, []RowError{{Row: 1, Field: "header", Code: "bad_csv", Message: "the file has no readable header row"}}, nil
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for name, aliases := range importColumns {
			for _, a := range aliases {
				if h == a {
					if _, dup := col[name]; dup {
						return nil, []RowError{{Row: 1, Field: name, Code: "duplicate_column", Message: "two columns give " + name}}, nil
					}
					col[name] = i
				}
			}
		}
	}
	for _, need := range []string{"pupil_number", "display_name", "year_group"} {
		if _, ok := col[need]; !ok {
			errs = append(errs, RowError{Row: 1, Field: need, Code: "missing_column", Message: "the header has no " + need + " column"})
		}
	}
	if errs != nil {
		return nil, errs, nil
	}
	seen := map[string]int{}
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, linelimit.ErrTooLong) {
			errs = append(errs, RowError{Row: n, Field: "row", Code: "line_too_long", Message: "this row is longer than 8 KiB"})
			break
		}
		if err != nil {
			if isIOError(err) {
				return nil, nil, err
			}
			errs = append(errs, RowError{Row: n, Field: "row", Code: "bad_csv", Message: "this row cannot be read as CSV"})
			break // the reader cannot resynchronise after a quoting error
		}
		if len(errs) >= MaxImportErrors {
			errs = append(errs, RowError{Row: n, Field: "row", Code: "too_many_errors",
				Message: fmt.Sprintf("stopped after %d errors", MaxImportErrors)})
			break
		}
		if len(rows)+len(errs) >= MaxImportRows {
			errs = append(errs, RowError{Row: n, Field: "row", Code: "too_many_rows", Message: fmt.Sprintf("at most %d pupils per import", MaxImportRows)})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		year, ok := ParseYearGroup(get("year_group"))
		if !ok {
			errs = append(errs, RowError{Row: n, Field: "year_group", Code: "bad_year_group",
				Message: fmt.Sprintf("%q is not a year group (use 0-14, R or N)", truncate(get("year_group"), 20))})
			continue
		}
		in := PupilInput{SchoolID: schoolID, PupilNumber: get("pupil_number"), DisplayName: get("display_name"), YearGroup: &year}
		if err := in.Validate(); err != nil {
			var fe *FieldError
			errors.As(err, &fe)
			errs = append(errs, RowError{Row: n, Field: fe.Field, Code: fe.Code, Message: fe.Message})
			continue
		}
		class := get("classroom")
		if class != "" {
			if _, err := checkName("classroom", class); err != nil {
				var fe *FieldError
				errors.As(err, &fe)
				errs = append(errs, RowError{Row: n, Field: "classroom", Code: fe.Code, Message: fe.Message})
				continue
			}
		}
		if first, dup := seen[in.PupilNumber]; dup {
			errs = append(errs, RowError{Row: n, Field: "pupil_number", Code: "duplicate",
				Message: fmt.Sprintf("pupil number %s is also on row %d", in.PupilNumber, first)})
			continue
		}
		seen[in.PupilNumber] = n
		rows = append(rows, importRow{row: n, in: in, classroom: class})
	}
	return rows, errs, nil
}

// isIOError tells a failed read from bad CSV.
func isIOError(err error) bool {
	var pe *csv.ParseError
	return !errors.As(err, &pe) && !errors.Is(err, io.EOF)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ImportPupils imports pupils (and the classrooms they name) into a school
// from a MIS export. Every row is checked first; if any is wrong nothing is
// imported and the ImportError's report lists every wrong row.
func (s *Store) ImportPupils(ctx context.Context, a Actor, schoolID string, r io.Reader) (ImportReport, error) {
	if err := s.Authorize(ctx, a, ActPupilImport, Target{SchoolID: schoolID}); err != nil {
		return ImportReport{}, err
	}
	rows, errs, err := parsePupilCSV(r, schoolID)
	if err != nil {
		return ImportReport{}, fmt.Errorf("people: reading the import: %w", err)
	}
	rep := ImportReport{Rows: len(rows) + len(errs), ClassroomsCreated: []string{}, Errors: errs}
	if rep.Errors == nil {
		rep.Errors = []RowError{}
	}
	// Pupil numbers already in the school.
	existing := map[string]bool{}
	rs, err := s.q().Query(ctx, `SELECT pupil_number FROM pupils WHERE school_id = ?`, schoolID)
	if err != nil {
		return ImportReport{}, err
	}
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			rs.Close()
			return ImportReport{}, err
		}
		existing[n] = true
	}
	rs.Close()
	for _, row := range rows {
		if existing[row.in.PupilNumber] {
			rep.Errors = append(rep.Errors, RowError{Row: row.row, Field: "pupil_number", Code: "duplicate",
				Message: "pupil number " + row.in.PupilNumber + " is already in the school"})
		}
	}
	if len(rep.Errors) > 0 {
		return rep, &ImportError{Report: rep}
	}
	if len(rows) == 0 {
		rep.Errors = append(rep.Errors, RowError{Row: 2, Field: "row", Code: "empty", Message: "the file has no pupils"})
		return rep, &ImportError{Report: rep}
	}
	err = s.db.Tx(ctx, func(q store.Q) error {
		classes := map[string]string{}
		cr, err := q.Query(ctx, `SELECT id, name FROM classrooms WHERE school_id = ?`, schoolID)
		if err != nil {
			return err
		}
		for cr.Next() {
			var id, name string
			if err := cr.Scan(&id, &name); err != nil {
				cr.Close()
				return err
			}
			classes[strings.ToLower(name)] = id
		}
		cr.Close()
		for _, row := range rows {
			if row.classroom != "" {
				id, ok := classes[strings.ToLower(row.classroom)]
				if !ok {
					id = newID("cls")
					if _, err := q.Exec(ctx, `INSERT INTO classrooms (id, school_id, name, created_at) VALUES (?, ?, ?, ?)`,
						id, schoolID, row.classroom, s.now()); err != nil {
						return err
					}
					classes[strings.ToLower(row.classroom)] = id
					rep.ClassroomsCreated = append(rep.ClassroomsCreated, row.classroom)
				}
				row.in.ClassroomID = id
			}
			if _, err := s.insertPupil(ctx, q, a, row.in); err != nil {
				return fmt.Errorf("row %d: %w", row.row, err)
			}
			rep.PupilsCreated++
		}
		return s.audit(ctx, q, a, s.laOfSchool(ctx, q, schoolID), ActPupilImport, "school", schoolID, "",
			strconv.Itoa(rep.PupilsCreated))
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}
