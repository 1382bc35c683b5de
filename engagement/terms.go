package engagement

import (
	"context"
	"io"
	"sort"
	"strings"

	"seatlink/internal/store"
	"seatlink/people"
)

// Term is one of a school's terms (autumn, spring, summer), its dates
// inclusive in the school's time zone, with the non-school days inside it.
type Term struct {
	Name     string    `json:"name"`
	StartsOn string    `json:"starts_on"` // YYYY-MM-DD
	EndsOn   string    `json:"ends_on"`
	Holidays []Holiday `json:"holidays"`
}

// Holiday is a run of non-school days inside a term: a half-term week, an
// INSET day, a bank holiday. Such days count for nothing, neither
// attendance nor absence.
type Holiday struct {
	Name     string `json:"name"`
	StartsOn string `json:"starts_on"`
	EndsOn   string `json:"ends_on"`
}

// checkTerms tidies and checks a school's terms: each term and holiday
// needs a name and dates, must not end before it starts, terms must not
// overlap, and each holiday lies inside its term without overlapping
// another. Row numbers count the terms and then their holidays in order,
// as the CSV import lists them.
func checkTerms(terms []Term) []people.RowError {
	var errs []people.RowError
	row := 0
	span := func(kind string, name, from, to *string) {
		row++
		*name = strings.TrimSpace(*name)
		if *name == "" || len(*name) > 80 {
			errs = append(errs, people.RowError{Row: row, Field: "name", Code: "bad_name", Message: "a " + kind + " needs a name of up to 80 characters"})
		}
		var err1, err2 error
		*from, err1 = parseDay(*from)
		*to, err2 = parseDay(*to)
		switch {
		case err1 != nil || err2 != nil:
			errs = append(errs, people.RowError{Row: row, Field: "dates", Code: "bad_date", Message: "dates are like 2026-09-03"})
		case *to < *from:
			errs = append(errs, people.RowError{Row: row, Field: "ends_on", Code: "ends_before_start", Message: "the " + kind + " ends before it starts"})
		}
	}
	for i := range terms {
		t := &terms[i]
		span("term", &t.Name, &t.StartsOn, &t.EndsOn)
		if len(t.Holidays) > 60 {
			errs = append(errs, people.RowError{Row: row, Field: "holidays", Code: "too_many", Message: "a term has at most 60 holidays"})
			return errs
		}
	}
	for i := range terms {
		t := &terms[i]
		for j := range t.Holidays {
			h := &t.Holidays[j]
			span("holiday", &h.Name, &h.StartsOn, &h.EndsOn)
			if h.StartsOn != "" && h.EndsOn != "" && t.StartsOn != "" && (h.StartsOn < t.StartsOn || h.EndsOn > t.EndsOn) {
				errs = append(errs, people.RowError{Row: row, Field: "dates", Code: "outside_term",
					Message: h.Name + " is not inside " + t.Name + " (" + t.StartsOn + " to " + t.EndsOn + ")"})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	sorted := append([]Term(nil), terms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartsOn < sorted[j].StartsOn })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].StartsOn <= sorted[i-1].EndsOn {
			errs = append(errs, people.RowError{Row: i + 1, Field: "starts_on", Code: "overlap",
				Message: sorted[i].Name + " overlaps " + sorted[i-1].Name})
		}
	}
	for _, t := range terms {
		hs := append([]Holiday(nil), t.Holidays...)
		sort.Slice(hs, func(i, j int) bool { return hs[i].StartsOn < hs[j].StartsOn })
		for i := 1; i < len(hs); i++ {
			if hs[i].StartsOn <= hs[i-1].EndsOn {
				errs = append(errs, people.RowError{Row: i + 1, Field: "starts_on", Code: "overlap",
					Message: hs[i].Name + " overlaps " + hs[i-1].Name + " in " + t.Name})
			}
		}
	}
	return errs
}

// SetTerms replaces a school's terms and their holidays, all or nothing.
func (tt *Timetables) SetTerms(ctx context.Context, a people.Actor, schoolID string, terms []Term) error {
	if err := tt.people.Authorize(ctx, a, people.ActTimetableEdit, people.Target{SchoolID: schoolID}); err != nil {
		return err
	}
	if len(terms) > 30 {
		return &people.FieldError{Field: "terms", Code: "too_many", Message: "at most 30 terms"}
	}
	if errs := checkTerms(terms); len(errs) > 0 {
		return &people.ImportError{Report: people.ImportReport{Rows: len(terms), Errors: errs, ClassroomsCreated: []string{}}}
	}
	return tt.db.Tx(ctx, func(q store.Q) error {
		for _, table := range []string{"terms", "term_holidays"} {
			if _, err := q.Exec(ctx, `DELETE FROM `+table+` WHERE school_id = ?`, schoolID); err != nil {
				return err
			}
		}
		for _, t := range terms {
			if _, err := q.Exec(ctx, `INSERT INTO terms (id, school_id, name, starts_on, ends_on) VALUES (?, ?, ?, ?, ?)`,
				newID("term-"), schoolID, t.Name, t.StartsOn, t.EndsOn); err != nil {
				return err
			}
			for _, h := range t.Holidays {
				if _, err := q.Exec(ctx, `INSERT INTO term_holidays (id, school_id, name, starts_on, ends_on) VALUES (?, ?, ?, ?, ?)`,
					newID("hol-"), schoolID, h.Name, h.StartsOn, h.EndsOn); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// ImportTerms replaces a school's terms from a CSV file (see
// ParseTermsCSV), all or nothing.
func (tt *Timetables) ImportTerms(ctx context.Context, a people.Actor, schoolID string, r io.Reader) ([]Term, error) {
	if err := tt.people.Authorize(ctx, a, people.ActTimetableEdit, people.Target{SchoolID: schoolID}); err != nil {
		return nil, err
	}
	terms, errs := ParseTermsCSV(r)
	if len(errs) > 0 {
		return nil, &people.ImportError{Report: people.ImportReport{Rows: len(terms), Errors: errs, ClassroomsCreated: []string{}}}
	}
	return terms, tt.SetTerms(ctx, a, schoolID, terms)
}

// holidayKinds are the words a calendar file may use for non-school days.
var holidayKinds = map[string]bool{"holiday": true, "half term": true, "half-term": true, "inset": true,
	"inset day": true, "bank holiday": true, "closure": true}

// ParseTermsCSV reads a school calendar: columns kind, name, starts_on and
// ends_on (start/end or from/to also do), one row per term (kind "term")
// or run of non-school days (kind "holiday", "half term", "INSET" or
// "bank holiday"). A non-school day belongs to the term that contains it.
// Every row is checked; the rows' numbers are the file's lines.
func ParseTermsCSV(r io.Reader) ([]Term, []people.RowError) {
	f, errs := openCSV(r, map[string]string{"start": "starts_on", "from": "starts_on", "starts": "starts_on",
		"end": "ends_on", "to": "ends_on", "ends": "ends_on"}, 500, "kind", "name", "starts_on", "ends_on")
	if errs != nil {
		return nil, errs
	}
	type holRow struct {
		Holiday
		row int
	}
	var terms []Term
	var hols []holRow
	for {
		row, stop, err := f.next(errs)
		if err != nil {
			if stop != nil {
				errs = append(errs, *stop)
			}
			break
		}
		n, get := row.N, row.get
		bad := func(field, code, msg string) { errs = append(errs, row.error(field, code, msg)) }
		name, from, to := get("name"), get("starts_on"), get("ends_on")
		var err1, err2 error
		from, err1 = parseDay(from)
		to, err2 = parseDay(to)
		switch {
		case name == "" || len(name) > 80:
			bad("name", "bad_name", "each row needs a name of up to 80 characters")
			continue
		case err1 != nil || err2 != nil:
			bad("dates", "bad_date", "dates are like 2026-09-03")
			continue
		case to < from:
			bad("ends_on", "ends_before_start", name+" ends before it starts")
			continue
		}
		kind := strings.ToLower(get("kind"))
		switch {
		case kind == "term":
			terms = append(terms, Term{Name: name, StartsOn: from, EndsOn: to, Holidays: []Holiday{}})
		case holidayKinds[kind]:
			hols = append(hols, holRow{Holiday{Name: name, StartsOn: from, EndsOn: to}, n})
		default:
			bad("kind", "bad_kind", "kind is term, holiday, half term, INSET or bank holiday")
		}
	}
	for _, h := range hols {
		placed := false
		for i := range terms {
			if h.StartsOn >= terms[i].StartsOn && h.EndsOn <= terms[i].EndsOn {
				terms[i].Holidays = append(terms[i].Holidays, h.Holiday)
				placed = true
				break
			}
		}
		if !placed {
			errs = append(errs, people.RowError{Row: h.row, Field: "dates", Code: "outside_term",
				Message: h.Name + " is not inside any term of the file"})
		}
	}
	if len(errs) == 0 {
		errs = checkTerms(terms)
	}
	if terms == nil {
		terms = []Term{}
	}
	return terms, errs
}

// Terms returns a school's terms in date order, with their holidays.
func (tt *Timetables) Terms(ctx context.Context, a people.Actor, schoolID string) ([]Term, error) {
	if err := tt.people.Authorize(ctx, a, people.ActClassroomList, people.Target{SchoolID: schoolID}); err != nil {
		return nil, err
	}
	c, err := loadCalendar(ctx, tt.db.Q(), schoolID)
	if err != nil {
		return nil, err
	}
	if c.terms == nil {
		return []Term{}, nil
	}
	return c.terms, nil
}
