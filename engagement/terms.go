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
		*from, err1 = ParseDay(*from)
		*to, err2 = ParseDay(*to)
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
	// Overlaps, named by the later one's row (terms first, then each
	// term's holidays, in the order given).
	order := make([]int, len(terms))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return terms[order[a]].StartsOn < terms[order[b]].StartsOn })
	for k := 1; k < len(order); k++ {
		prev, cur := terms[order[k-1]], terms[order[k]]
		if cur.StartsOn <= prev.EndsOn {
			errs = append(errs, people.RowError{Row: order[k] + 1, Field: "starts_on", Code: "overlap",
				Message: cur.Name + " overlaps " + prev.Name})
		}
	}
	first := len(terms) + 1 // the first holiday's row
	for _, t := range terms {
		hs := make([]int, len(t.Holidays))
		for i := range hs {
			hs[i] = i
		}
		sort.Slice(hs, func(a, b int) bool { return t.Holidays[hs[a]].StartsOn < t.Holidays[hs[b]].StartsOn })
		for k := 1; k < len(hs); k++ {
			prev, cur := t.Holidays[hs[k-1]], t.Holidays[hs[k]]
			if cur.StartsOn <= prev.EndsOn {
				errs = append(errs, people.RowError{Row: first + hs[k], Field: "starts_on", Code: "overlap",
					Message: cur.Name + " overlaps " + prev.Name + " in " + t.Name})
			}
		}
		first += len(t.Holidays)
	}
	sort.SliceStable(errs, func(a, b int) bool { return errs[a].Row < errs[b].Row })
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
				store.NewID("term-"), schoolID, t.Name, t.StartsOn, t.EndsOn); err != nil {
				return err
			}
			for _, h := range t.Holidays {
				if _, err := q.Exec(ctx, `INSERT INTO term_holidays (id, school_id, name, starts_on, ends_on) VALUES (?, ?, ?, ?, ?)`,
					store.NewID("hol-"), schoolID, h.Name, h.StartsOn, h.EndsOn); err != nil {
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
	var termLines []int
	var hols []holRow
	for row, ok := f.next(&errs); ok; row, ok = f.next(&errs) {
		n, get := row.N, row.get
		bad := func(field, code, msg string) { errs = append(errs, row.error(field, code, msg)) }
		name, from, to := get("name"), get("starts_on"), get("ends_on")
		var err1, err2 error
		from, err1 = ParseDay(from)
		to, err2 = ParseDay(to)
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
			termLines = append(termLines, n)
		case holidayKinds[kind]:
			hols = append(hols, holRow{Holiday{Name: name, StartsOn: from, EndsOn: to}, n})
		default:
			bad("kind", "bad_kind", "kind is term, holiday, half term, INSET or bank holiday")
		}
	}
	holLines := make([][]int, len(terms))
	for _, h := range hols {
		placed := false
		for i := range terms {
			if h.StartsOn >= terms[i].StartsOn && h.EndsOn <= terms[i].EndsOn {
				terms[i].Holidays = append(terms[i].Holidays, h.Holiday)
				holLines[i] = append(holLines[i], h.row)
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
		// checkTerms numbers the terms, then their holidays; say the
		// file's lines instead.
		lines := append([]int(nil), termLines...)
		for _, hl := range holLines {
			lines = append(lines, hl...)
		}
		errs = checkTerms(terms)
		for i := range errs {
			if r := errs[i].Row; r >= 1 && r <= len(lines) {
				errs[i].Row = lines[r-1]
			}
		}
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
