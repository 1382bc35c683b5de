package engagement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Mark is one register mark.
type Mark struct {
	PupilID string `json:"pupil_id"`
	Day     string `json:"day"`     // YYYY-MM-DD
	Session string `json:"session"` // AM or PM
	Code    string `json:"code"`
	Source  string `json:"source"` // mis or register
}

// Registers stores attendance marks.
type Registers struct {
	db     *store.DB
	people *people.Store
	now    func() time.Time
}

// NewRegisters returns the register store.
func NewRegisters(db *store.DB, ps *people.Store) *Registers {
	return &Registers{db: db, people: ps, now: time.Now}
}

type markRow struct {
	row                      int
	number, day, session, cd string
}

// parseMarksCSV reads a MIS register export: pupil_number (or UPN), date,
// session, code. It checks each row's fields and duplicates in the file.
func parseMarksCSV(r io.Reader) ([]markRow, []people.RowError) {
	f, errs := openCSV(r, map[string]string{"upn": "pupil_number", "pupil number": "pupil_number", "admission number": "pupil_number",
		"day": "date", "am/pm": "session", "mark": "code"}, 200000, "pupil_number", "date", "session", "code")
	if errs != nil {
		return nil, errs
	}
	var rows []markRow
	seen := map[string]int{}
	for row, ok := f.next(&errs); ok; row, ok = f.next(&errs) {
		n := row.N
		m := markRow{row: n, number: row.get("pupil_number"), session: strings.ToUpper(row.get("session")), cd: row.get("code")}
		d, err := ParseDay(row.get("date"))
		switch {
		case m.number == "":
			errs = append(errs, row.error("pupil_number", "required", "pupil_number is required"))
			continue
		case err != nil:
			errs = append(errs, row.error("date", "bad_date", "date must be like 2026-11-23 or 23/11/2026"))
			continue
		case m.session != "AM" && m.session != "PM":
			errs = append(errs, row.error("session", "bad_session", "session must be AM or PM"))
			continue
		}
		if _, ok := LookupCode(m.cd); !ok {
			errs = append(errs, row.error("code", "bad_code", fmt.Sprintf("%q is not a DfE attendance code", truncate(m.cd, 8))))
			continue
		}
		m.day = d
		key := m.number + "|" + m.day + "|" + m.session
		if first, dup := seen[key]; dup {
			errs = append(errs, row.error("code", "duplicate", fmt.Sprintf("a second mark for this pupil and session (first on row %d)", first)))
			continue
		}
		seen[key] = n
		rows = append(rows, m)
	}
	return rows, errs
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseDay reads 2026-11-23 or 23/11/2026 (as UK MIS exports write it).
func ParseDay(s string) (string, error) {
	for _, layout := range []string{time.DateOnly, "02/01/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", errors.New("bad date")
}

// Import stores a MIS register export for a school: every row checked
// (unknown pupil, bad date, session or code, duplicates), then all marks
// written, or none. The MIS is the register: its marks replace earlier
// ones for the same sessions.
func (rg *Registers) Import(ctx context.Context, a people.Actor, schoolID string, r io.Reader) (int, error) {
	if err := rg.people.Authorize(ctx, a, people.ActRegisterEdit, people.Target{SchoolID: schoolID}); err != nil {
		return 0, err
	}
	rows, errs := parseMarksCSV(r)
	ids := map[string]string{}
	q, err := rg.db.Q().Query(ctx, `SELECT pupil_number, id FROM pupils WHERE school_id = ?`, schoolID)
	if err != nil {
		return 0, err
	}
	for q.Next() {
		var num, id string
		if err := q.Scan(&num, &id); err != nil {
			q.Close()
			return 0, err
		}
		ids[num] = id
	}
	q.Close()
	for _, m := range rows {
		if _, ok := ids[m.number]; !ok {
			errs = append(errs, people.RowError{Row: m.row, Field: "pupil_number", Code: "unknown_pupil",
				Message: "no pupil " + m.number + " in this school"})
		}
	}
	if len(errs) > 0 || len(rows) == 0 {
		if len(errs) == 0 {
			errs = []people.RowError{{Row: 2, Field: "row", Code: "empty", Message: "the file has no marks"}}
		}
		return 0, &people.ImportError{Report: people.ImportReport{Rows: len(rows) + len(errs), Errors: errs, ClassroomsCreated: []string{}}}
	}
	err = rg.db.Tx(ctx, func(q store.Q) error {
		for _, m := range rows {
			if err := upsertMark(ctx, q, Mark{PupilID: ids[m.number], Day: m.day, Session: m.session, Code: m.cd, Source: "mis"},
				a.ID, rg.now()); err != nil {
				return err
			}
		}
		return nil
	})
	return len(rows), err
}

func upsertMark(ctx context.Context, q store.Q, m Mark, by string, at time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO marks (pupil_id, day, session, code, source, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pupil_id, day, session) DO UPDATE SET code = excluded.code, source = excluded.source,
		entered_by = excluded.entered_by, entered_at = excluded.entered_at`, m.PupilID, m.Day, m.Session, m.Code, m.Source, by, at.UnixMilli())
	return err
}

// Set enters one mark on the register page.
func (rg *Registers) Set(ctx context.Context, a people.Actor, m Mark) error {
	if err := rg.people.Authorize(ctx, a, people.ActRegisterEdit, people.Target{PupilID: m.PupilID}); err != nil {
		return err
	}
	day, err := ParseDay(m.Day)
	if err != nil {
		return &people.FieldError{Field: "day", Code: "bad_date", Message: "day must be like 2026-11-23"}
	}
	if m.Session != "AM" && m.Session != "PM" {
		return &people.FieldError{Field: "session", Code: "bad_session", Message: "session must be AM or PM"}
	}
	if _, ok := LookupCode(m.Code); !ok {
		return &people.FieldError{Field: "code", Code: "bad_code", Message: "not a DfE attendance code"}
	}
	m.Day, m.Source = day, "register"
	return upsertMark(ctx, rg.db.Q(), m, a.ID, rg.now())
}

// Marks returns a pupil's marks from one day to another (inclusive).
func (rg *Registers) Marks(ctx context.Context, a people.Actor, pupilID, from, to string) ([]Mark, error) {
	if err := rg.people.Authorize(ctx, a, people.ActPupilView, people.Target{PupilID: pupilID}); err != nil {
		return nil, err
	}
	rows, err := rg.db.Q().Query(ctx, `SELECT pupil_id, day, session, code, source FROM marks
		WHERE pupil_id = ? AND day >= ? AND day <= ? ORDER BY day, session`, pupilID, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Mark{}
	for rows.Next() {
		var m Mark
		if err := rows.Scan(&m.PupilID, &m.Day, &m.Session, &m.Code, &m.Source); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
