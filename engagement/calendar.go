package engagement

import (
	"context"
	"sort"
	"strings"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Term is one of a school's terms (dates inclusive, school time).
type Term struct {
	Name     string `json:"name"`
	StartsOn string `json:"starts_on"` // YYYY-MM-DD
	EndsOn   string `json:"ends_on"`
}

// calendar is one school's time zone, terms and weekly periods, loaded
// once so that a year of days for many pupils costs no more queries.
type calendar struct {
	loc    *time.Location
	terms  []Term                               // sorted; none: every weekday counts
	school map[time.Weekday][]period            // school-wide periods by weekday
	own    map[string]map[time.Weekday][]period // a classroom's own periods
}

// period is a Period with its times parsed once (minutes after midnight).
type period struct {
	Period
	from, to int
}

func loadCalendar(ctx context.Context, q store.Q, schoolID string) (*calendar, error) {
	var tz string
	if err := q.QueryRow(ctx, `SELECT timezone FROM schools WHERE id = ?`, schoolID).Scan(&tz); err != nil {
		return nil, err
	}
	c := &calendar{school: map[time.Weekday][]period{}, own: map[string]map[time.Weekday][]period{}}
	var err error
	if c.loc, err = time.LoadLocation(tz); err != nil {
		c.loc = time.UTC
	}
	rows, err := q.Query(ctx, `SELECT classroom_id, weekday, starts, ends, kind, session, name FROM periods
		WHERE school_id = ? ORDER BY starts`, schoolID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var p period
		var wd int
		if err := rows.Scan(&p.ClassroomID, &wd, &p.Starts, &p.Ends, &p.Kind, &p.Session, &p.Name); err != nil {
			rows.Close()
			return nil, err
		}
		p.Weekday = time.Weekday(wd % 7)
		p.from, _ = parseClock(p.Starts)
		p.to, _ = parseClock(p.Ends)
		if p.ClassroomID == "" {
			c.school[p.Weekday] = append(c.school[p.Weekday], p)
			continue
		}
		if c.own[p.ClassroomID] == nil {
			c.own[p.ClassroomID] = map[time.Weekday][]period{}
		}
		c.own[p.ClassroomID][p.Weekday] = append(c.own[p.ClassroomID][p.Weekday], p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT name, starts_on, ends_on FROM terms WHERE school_id = ? ORDER BY starts_on`, schoolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t Term
		if err := rows.Scan(&t.Name, &t.StartsOn, &t.EndsOn); err != nil {
			return nil, err
		}
		c.terms = append(c.terms, t)
	}
	return c, rows.Err()
}

// noon is the date's midday in the school's zone (safe across DST).
func (c *calendar) noon(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 12, 0, 0, 0, c.loc)
}

// monday is the Monday of the school week containing t, at midday.
func (c *calendar) monday(t time.Time) time.Time {
	n := c.noon(t)
	return n.AddDate(0, 0, -((int(n.Weekday()) + 6) % 7))
}

// midnight is the start of the date of t in the school's zone.
func (c *calendar) midnight(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// inTerm says whether a date (YYYY-MM-DD) is a school day of a term; with
// no terms recorded every date is.
func (c *calendar) inTerm(day string) bool {
	if len(c.terms) == 0 {
		return true
	}
	for _, t := range c.terms {
		if day >= t.StartsOn && day <= t.EndsOn {
			return true
		}
	}
	return false
}

// termStart is the first day of the term containing (or last begun
// before) the date; with no terms, 1 September of the academic year.
func (c *calendar) termStart(t time.Time) (string, string) {
	day := c.noon(t).Format(time.DateOnly)
	var name, start string
	for _, tm := range c.terms {
		if tm.StartsOn <= day {
			name, start = tm.Name, tm.StartsOn
		}
	}
	if start != "" {
		return name, start
	}
	n := c.noon(t)
	y := n.Year()
	if n.Month() < time.September {
		y--
	}
	return "Academic year", time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// slots are a classroom's periods on a date, in absolute time: the
// classroom's own periods if it has any that weekday, else the school's.
func (c *calendar) slots(classroomID string, date time.Time) []Slot {
	n := c.noon(date)
	ps := c.own[classroomID][n.Weekday()]
	if len(ps) == 0 {
		ps = c.school[n.Weekday()]
	}
	y, m, d := n.Date()
	out := make([]Slot, 0, len(ps))
	for _, p := range ps {
		a, b := p.from, p.to
		out = append(out, Slot{Interval: Interval{From: time.Date(y, m, d, a/60, a%60, 0, 0, c.loc),
			To: time.Date(y, m, d, b/60, b%60, 0, 0, c.loc)}, Kind: p.Kind, Session: p.Session, Name: p.Name})
	}
	return out
}

// sessions are a pupil's AM and PM sessions on the term days from first
// to last (inclusive), each with its slots and mark.
func (c *calendar) sessions(classroomID string, first, last time.Time, marks map[string]string) []Session {
	var out []Session
	for d := c.noon(first); !d.After(c.noon(last)); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		if !c.inTerm(day) {
			continue
		}
		slots := c.slots(classroomID, d)
		for _, half := range []string{"AM", "PM"} {
			s := Session{Day: day, Session: half, Code: marks[day+" "+half]}
			for _, sl := range slots {
				if sl.Session == half {
					s.Slots = append(s.Slots, sl)
				}
			}
			if s.Code != "" || len(s.Slots) > 0 {
				out = append(out, s)
			}
		}
	}
	return out
}

// SetTerms replaces a school's terms. Each term needs a name and dates,
// must not end before it starts and must not overlap another.
func (tt *Timetables) SetTerms(ctx context.Context, a people.Actor, schoolID string, terms []Term) error {
	if err := tt.people.Authorize(ctx, a, people.ActTimetableEdit, people.Target{SchoolID: schoolID}); err != nil {
		return err
	}
	var errs []people.RowError
	for i := range terms {
		t := &terms[i]
		t.Name = strings.TrimSpace(t.Name)
		row := i + 1
		if t.Name == "" || len(t.Name) > 80 {
			errs = append(errs, people.RowError{Row: row, Field: "name", Code: "bad_name", Message: "a term needs a name of up to 80 characters"})
		}
		var err1, err2 error
		t.StartsOn, err1 = parseDay(t.StartsOn)
		t.EndsOn, err2 = parseDay(t.EndsOn)
		switch {
		case err1 != nil || err2 != nil:
			errs = append(errs, people.RowError{Row: row, Field: "dates", Code: "bad_date", Message: "dates are like 2026-09-03"})
		case t.EndsOn < t.StartsOn:
			errs = append(errs, people.RowError{Row: row, Field: "ends_on", Code: "ends_before_start", Message: "the term ends before it starts"})
		}
	}
	if len(errs) == 0 {
		sorted := append([]Term(nil), terms...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartsOn < sorted[j].StartsOn })
		for i := 1; i < len(sorted); i++ {
			if sorted[i].StartsOn <= sorted[i-1].EndsOn {
				errs = append(errs, people.RowError{Row: i + 1, Field: "starts_on", Code: "overlap",
					Message: sorted[i].Name + " overlaps " + sorted[i-1].Name})
			}
		}
	}
	if len(errs) > 0 {
		return &people.ImportError{Report: people.ImportReport{Rows: len(terms), Errors: errs, ClassroomsCreated: []string{}}}
	}
	return tt.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM terms WHERE school_id = ?`, schoolID); err != nil {
			return err
		}
		for _, t := range terms {
			if _, err := q.Exec(ctx, `INSERT INTO terms (id, school_id, name, starts_on, ends_on) VALUES (?, ?, ?, ?, ?)`,
				newID("term-"), schoolID, t.Name, t.StartsOn, t.EndsOn); err != nil {
				return err
			}
		}
		return nil
	})
}

// Terms returns a school's terms in date order.
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

// Periods returns a school's whole timetable as the import reads it
// (classrooms by name), for the edit page to change and send back.
func (tt *Timetables) Periods(ctx context.Context, a people.Actor, schoolID string) ([]Period, error) {
	if err := tt.people.Authorize(ctx, a, people.ActClassroomList, people.Target{SchoolID: schoolID}); err != nil {
		return nil, err
	}
	rows, err := tt.db.Q().Query(ctx, `SELECT COALESCE(c.name, ''), p.weekday, p.starts, p.ends, p.kind, p.session, p.name
		FROM periods p LEFT JOIN classrooms c ON c.id = p.classroom_id WHERE p.school_id = ?
		ORDER BY p.classroom_id, p.weekday, p.starts`, schoolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Period{}
	for rows.Next() {
		var p Period
		var wd int
		if err := rows.Scan(&p.ClassroomID, &wd, &p.Starts, &p.Ends, &p.Kind, &p.Session, &p.Name); err != nil {
			return nil, err
		}
		p.Weekday = time.Weekday(wd % 7)
		out = append(out, p)
	}
	return out, rows.Err()
}
