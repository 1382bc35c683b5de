package engagement

import (
	"context"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// calendar is one school's time zone, terms and weekly periods, loaded
// once so that a year of days for many pupils costs no more queries.
type calendar struct {
	loc    *time.Location
	terms  []Term                               // sorted, with their holidays; none: every weekday counts
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
		t := Term{Holidays: []Holiday{}}
		if err := rows.Scan(&t.Name, &t.StartsOn, &t.EndsOn); err != nil {
			rows.Close()
			return nil, err
		}
		c.terms = append(c.terms, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT name, starts_on, ends_on FROM term_holidays WHERE school_id = ? ORDER BY starts_on`, schoolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h Holiday
		if err := rows.Scan(&h.Name, &h.StartsOn, &h.EndsOn); err != nil {
			return nil, err
		}
		for i := range c.terms {
			if h.StartsOn >= c.terms[i].StartsOn && h.StartsOn <= c.terms[i].EndsOn {
				c.terms[i].Holidays = append(c.terms[i].Holidays, h)
				break
			}
		}
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

// inTerm says whether a date (YYYY-MM-DD) is a school day: inside a term
// and not one of its holidays. With no terms recorded every date is.
func (c *calendar) inTerm(day string) bool {
	if len(c.terms) == 0 {
		return true
	}
	for _, t := range c.terms {
		if day >= t.StartsOn && day <= t.EndsOn {
			for _, h := range t.Holidays {
				if day >= h.StartsOn && day <= h.EndsOn {
					return false
				}
			}
			return true
		}
	}
	return false
}

// yearStart is the first day of the academic year containing the date:
// the first term begun on or after 1 August of that year, or 1 September
// with no such term (the DfE's year-to-date figures run from the first
// day of the academic year).
func (c *calendar) yearStart(t time.Time) string {
	n := c.noon(t)
	y := n.Year()
	if n.Month() < time.August {
		y--
	}
	from := time.Date(y, time.August, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	day := n.Format(time.DateOnly)
	for _, tm := range c.terms {
		if tm.StartsOn >= from && tm.StartsOn <= day {
			return tm.StartsOn
		}
	}
	return time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
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

// sessions are a pupil's AM and PM sessions on the school days from first
// to last (inclusive), each with its slots and mark. With a non-zero
// until, only the sessions that had ended by then: a session not yet over
// is neither present nor absent.
func (c *calendar) sessions(classroomID string, first, last time.Time, marks map[string]string, until time.Time) []Session {
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
			if s.Code == "" && len(s.Slots) == 0 {
				continue
			}
			if !until.IsZero() && c.sessionEnd(d, s).After(until) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

// fullWeek counts the sessions with lessons in a whole Monday-to-Friday
// week of a classroom's timetable.
func (c *calendar) fullWeek(classroomID string) int {
	n := 0
	for wd := time.Monday; wd <= time.Friday; wd++ {
		ps := c.own[classroomID][wd]
		if len(ps) == 0 {
			ps = c.school[wd]
		}
		for _, half := range []string{"AM", "PM"} {
			for _, p := range ps {
				if p.Session == half && p.Kind == KindLesson {
					n++
					break
				}
			}
		}
	}
	return n
}

// sessionEnd is when a session is over: the end of its last slot; for a
// marked session the timetable does not cover, 13:00 for the morning and
// 18:00 for the afternoon.
func (c *calendar) sessionEnd(day time.Time, s Session) time.Time {
	var end time.Time
	for _, sl := range s.Slots {
		if sl.To.After(end) {
			end = sl.To
		}
	}
	if !end.IsZero() {
		return end
	}
	y, m, d := c.noon(day).Date()
	h := 13
	if s.Session == "PM" {
		h = 18
	}
	return time.Date(y, m, d, h, 0, 0, 0, c.loc)
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
