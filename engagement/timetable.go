package engagement

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"seatlink/internal/store"
	"seatlink/people"
)

// Period kinds.
const (
	KindLesson       = "lesson"
	KindBreak        = "break"
	KindLunch        = "lunch"
	KindClub         = "club"
	KindRegistration = "registration"
)

// Period is one slot of a school's week.
type Period struct {
	ClassroomID string       `json:"classroom_id,omitempty"` // empty: school-wide
	Weekday     time.Weekday `json:"weekday"`
	Starts      string       `json:"starts"` // HH:MM, school time
	Ends        string       `json:"ends"`
	Kind        string       `json:"kind"`
	Session     string       `json:"session"` // AM or PM
	Name        string       `json:"name,omitempty"`
}

// Slot is a period on a given day, in absolute time.
type Slot struct {
	Interval
	Kind    string `json:"kind"`
	Session string `json:"session"`
	Name    string `json:"name,omitempty"`
}

var weekdays = map[string]time.Weekday{
	"mon": time.Monday, "monday": time.Monday, "tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday, "thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday, "sat": time.Saturday, "saturday": time.Saturday,
	"sun": time.Sunday, "sunday": time.Sunday,
}

func parseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// parseTimetableCSV reads a timetable: columns weekday, start, end, kind,
// session, and optionally name and classroom (a classroom's own rows
// replace the school-wide ones for that classroom). Every row is checked;
// overlapping periods on the same day are refused.
func parseTimetableCSV(r io.Reader) ([]Period, []people.RowError) {
	f, errs := openCSV(r, nil, 2000, "weekday", "start", "end", "kind", "session")
	if errs != nil {
		return nil, errs
	}
	var out []Period
	rows := map[int]int{} // index in out → CSV row
	for row, ok := f.next(&errs); ok; row, ok = f.next(&errs) {
		bad := func(field, code, msg string) { errs = append(errs, row.error(field, code, msg)) }
		get := row.get
		wd, ok := weekdays[strings.ToLower(get("weekday"))]
		if !ok {
			bad("weekday", "bad_weekday", "weekday must be Mon to Sun")
			continue
		}
		start, ok1 := parseClock(get("start"))
		end, ok2 := parseClock(get("end"))
		if !ok1 || !ok2 || end <= start {
			bad("start", "bad_times", "start and end are times like 09:05, and the end comes after the start")
			continue
		}
		kind := strings.ToLower(get("kind"))
		switch kind {
		case KindLesson, KindBreak, KindLunch, KindClub, KindRegistration:
		default:
			bad("kind", "bad_kind", "kind must be lesson, break, lunch, club or registration")
			continue
		}
		session := strings.ToUpper(get("session"))
		if session != "AM" && session != "PM" {
			bad("session", "bad_session", "session must be AM or PM")
			continue
		}
		if len(get("name")) > 100 || len(get("classroom")) > 100 {
			bad("name", "too_long", "name and classroom have at most 100 characters")
			continue
		}
		rows[len(out)] = row.N
		out = append(out, Period{ClassroomID: get("classroom"), Weekday: wd, Starts: fmt.Sprintf("%02d:%02d", start/60, start%60),
			Ends: fmt.Sprintf("%02d:%02d", end/60, end%60), Kind: kind, Session: session, Name: get("name")})
	}
	// Overlaps within one timetable (school-wide or one classroom) and day.
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		pa, pb := out[idx[a]], out[idx[b]]
		if pa.ClassroomID != pb.ClassroomID {
			return pa.ClassroomID < pb.ClassroomID
		}
		if pa.Weekday != pb.Weekday {
			return pa.Weekday < pb.Weekday
		}
		return pa.Starts < pb.Starts
	})
	for k := 1; k < len(idx); k++ {
		prev, cur := out[idx[k-1]], out[idx[k]]
		if prev.ClassroomID == cur.ClassroomID && prev.Weekday == cur.Weekday && cur.Starts < prev.Ends {
			errs = append(errs, people.RowError{Row: rows[idx[k]], Field: "start", Code: "overlap",
				Message: fmt.Sprintf("overlaps the period on row %d", rows[idx[k-1]])})
		}
	}
	sort.Slice(errs, func(a, b int) bool { return errs[a].Row < errs[b].Row })
	return out, errs
}

// Timetables stores schools' weekly periods.
type Timetables struct {
	db     *store.DB
	people *people.Store
}

// NewTimetables returns the timetable store.
func NewTimetables(db *store.DB, ps *people.Store) *Timetables {
	return &Timetables{db: db, people: ps}
}

// Import replaces a school's timetable (school-wide and per classroom) from
// CSV: all rows or none; classrooms are named as on the school's record.
func (tt *Timetables) Import(ctx context.Context, a people.Actor, schoolID string, r io.Reader) (int, error) {
	if err := tt.people.Authorize(ctx, a, people.ActTimetableEdit, people.Target{SchoolID: schoolID}); err != nil {
		return 0, err
	}
	periods, errs := parseTimetableCSV(r)
	classes := map[string]string{}
	rows, err := tt.db.Q().Query(ctx, `SELECT id, name FROM classrooms WHERE school_id = ?`, schoolID)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return 0, err
		}
		classes[strings.ToLower(name)] = id
	}
	rows.Close()
	for i, p := range periods {
		if p.ClassroomID == "" {
			continue
		}
		id, ok := classes[strings.ToLower(p.ClassroomID)]
		if !ok {
			errs = append(errs, people.RowError{Row: i + 2, Field: "classroom", Code: "unknown_classroom",
				Message: "no classroom " + p.ClassroomID + " in this school"})
			continue
		}
		periods[i].ClassroomID = id
	}
	if len(errs) > 0 {
		return 0, &people.ImportError{Report: people.ImportReport{Rows: len(periods), Errors: errs, ClassroomsCreated: []string{}}}
	}
	if len(periods) == 0 {
		return 0, &people.ImportError{Report: people.ImportReport{Errors: []people.RowError{{Row: 2, Field: "row", Code: "empty",
			Message: "the file has no periods"}}, ClassroomsCreated: []string{}}}
	}
	err = tt.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM periods WHERE school_id = ?`, schoolID); err != nil {
			return err
		}
		for _, p := range periods {
			if _, err := q.Exec(ctx, `INSERT INTO periods (id, school_id, classroom_id, weekday, starts, ends, kind, session, name)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, store.NewID("per-"), schoolID, p.ClassroomID, isoWeekday(p.Weekday),
				p.Starts, p.Ends, p.Kind, p.Session, p.Name); err != nil {
				return err
			}
		}
		return nil
	})
	return len(periods), err
}

// isoWeekday stores Sunday as 7 (the column holds 1 to 7).
func isoWeekday(w time.Weekday) int {
	if w == time.Sunday {
		return 7
	}
	return int(w)
}

// Day returns the slots of one date for a classroom: the classroom's own
// periods if it has any for that weekday, otherwise the school's.
func (tt *Timetables) Day(ctx context.Context, schoolID, classroomID string, date time.Time) ([]Slot, error) {
	c, err := loadCalendar(ctx, tt.db.Q(), schoolID)
	if err != nil {
		return nil, err
	}
	return c.slots(classroomID, date), nil
}

// Split divides connected time by the kinds of the day's slots: learning
// time is connected time inside lessons; social time inside breaks,
// lunch and clubs. Time outside any slot counts as neither.
func Split(connected []Interval, slots []Slot) (learning, social time.Duration) {
	for _, s := range slots {
		in := Total(Intersect(connected, []Interval{s.Interval}))
		switch s.Kind {
		case KindLesson:
			learning += in
		case KindBreak, KindLunch, KindClub:
			social += in
		}
	}
	return learning, social
}
