package engagement

import (
	"context"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"seatlink/people"
)

// PupilHistory is one pupil's weeks (oldest first) and term to date.
type PupilHistory struct {
	Pupil      people.Pupil `json:"pupil"`
	Weeks      []Week       `json:"weeks"`
	Term       string       `json:"term"`
	TermStart  string       `json:"term_start"`
	TermToDate Measures     `json:"term_to_date"`
}

// Range says which weeks a report covers: the Weeks school weeks ending
// with the one containing Through, counting sessions up to and including
// Through (a day in the school's time zone; later sessions have not
// happened yet and are left out, not counted as absences).
type Range struct {
	Through time.Time
	Weeks   int
}

func (rg Range) normal() Range {
	if rg.Weeks <= 0 {
		rg.Weeks = 6
	}
	if rg.Weeks > 60 {
		rg.Weeks = 60
	}
	if rg.Through.IsZero() {
		rg.Through = time.Now().AddDate(0, 0, -1)
	}
	return rg
}

// histories computes pupils' histories with a fixed number of queries per
// school (its calendar, its marks, one ordered pass over its events),
// holding one pupil's events at a time. Per-session detail is kept only
// if sessions is set.
func (r *Reports) histories(ctx context.Context, pupils []people.Pupil, rg Range, sessions bool) ([]PupilHistory, error) {
	rg = rg.normal()
	bySchool := map[string][]int{}
	for i, p := range pupils {
		bySchool[p.SchoolID] = append(bySchool[p.SchoolID], i)
	}
	out := make([]PupilHistory, len(pupils))
	schools := make([]string, 0, len(bySchool))
	for s := range bySchool {
		schools = append(schools, s)
	}
	sort.Strings(schools)
	// Schools in parallel: each fills its own pupils' slots of out. On
	// PostgreSQL the queries overlap too; on SQLite (one connection) one
	// school's computing overlaps the next one's reading.
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	errs := make(chan error, len(schools))
	var wg sync.WaitGroup
	for _, school := range schools {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs <- r.schoolHistories(ctx, school, pupils, bySchool[school], rg, sessions, out)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *Reports) schoolHistories(ctx context.Context, school string, pupils []people.Pupil, idx []int, rg Range,
	keep bool, out []PupilHistory) error {
	q := r.db.Q()
	cal, err := loadCalendar(ctx, q, school)
	if err != nil {
		return err
	}
	var suggest string
	if err := q.QueryRow(ctx, `SELECT suggest_code FROM schools WHERE id = ?`, school).Scan(&suggest); err != nil {
		return err
	}
	through := cal.noon(rg.Through)
	lastMonday := cal.monday(through)
	firstMonday := lastMonday.AddDate(0, 0, -7*(rg.Weeks-1))
	termName, termStart := cal.termStart(through)
	start := firstMonday
	if ts, _ := time.ParseInLocation(time.DateOnly, termStart, cal.loc); ts.Before(start) {
		start = cal.noon(ts)
	}
	want := map[string]int{}
	for _, i := range idx {
		want[pupils[i].ID] = i
	}
	marks := map[string]map[string]string{}
	// A few pupils (a pupil's page, a small caseload) are read by id; many
	// (a school's worth) by school, in one pass.
	who, whoArgs := `m.pupil_id IN (SELECT id FROM pupils WHERE school_id = ?)`, []any{school}
	if len(idx) <= 32 {
		who, whoArgs = `m.pupil_id IN (?`+strings.Repeat(", ?", len(idx)-1)+`)`, nil
		for _, i := range idx {
			whoArgs = append(whoArgs, pupils[i].ID)
		}
	}
	rows, err := q.Query(ctx, `SELECT m.pupil_id, m.day, m.session, m.code FROM marks m
		WHERE `+who+` AND m.day >= ? AND m.day <= ?`, append(whoArgs, start.Format(time.DateOnly), through.Format(time.DateOnly))...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var pupil, day, half, code string
		if err := rows.Scan(&pupil, &day, &half, &code); err != nil {
			rows.Close()
			return err
		}
		if _, ok := want[pupil]; !ok {
			continue
		}
		if marks[pupil] == nil {
			marks[pupil] = map[string]string{}
		}
		marks[pupil][day+" "+half] = code
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	done := map[string]bool{}
	compute := func(pupil string, events []Event) {
		i := want[pupil]
		p := pupils[i]
		all := cal.sessions(p.ClassroomID, start, through, marks[pupil])
		h := PupilHistory{Pupil: p, Term: termName, TermStart: termStart}
		for mon := firstMonday; !mon.After(lastMonday); mon = mon.AddDate(0, 0, 7) {
			from, to := mon.Format(time.DateOnly), mon.AddDate(0, 0, 4).Format(time.DateOnly)
			m := Measure(sessionsBetween(all, from, to), eventsBetween(events, cal.midnight(mon), cal.midnight(mon.AddDate(0, 0, 5))), r.Share)
			suggestCodes(m.Sessions, suggest)
			if !keep {
				m.Sessions = nil
			}
			h.Weeks = append(h.Weeks, Week{PupilID: pupil, Monday: from, Measures: m})
		}
		tsDay, _ := time.ParseInLocation(time.DateOnly, termStart, cal.loc)
		h.TermToDate = Measure(sessionsBetween(all, termStart, through.Format(time.DateOnly)),
			eventsBetween(events, cal.midnight(tsDay), cal.midnight(through.AddDate(0, 0, 1))), r.Share)
		h.TermToDate.Sessions = nil
		out[i] = h
		done[pupil] = true
	}
	evRows, err := q.Query(ctx, `SELECT e.pupil_id, e.at, e.kind, e.value FROM engagement_events e
		WHERE `+strings.ReplaceAll(who, "m.", "e.")+` AND e.at >= ? AND e.at < ? ORDER BY e.pupil_id, e.at`,
		append(whoArgs, cal.midnight(start).UnixMilli(), cal.midnight(through.AddDate(0, 0, 1)).UnixMilli())...)
	if err != nil {
		return err
	}
	var cur string
	var events []Event
	for evRows.Next() {
		var e Event
		var at int64
		if err := evRows.Scan(&e.PupilID, &at, &e.Kind, &e.Value); err != nil {
			evRows.Close()
			return err
		}
		if _, ok := want[e.PupilID]; !ok {
			continue
		}
		if e.PupilID != cur {
			if cur != "" {
				compute(cur, events)
			}
			cur, events = e.PupilID, events[:0]
		}
		e.At = time.UnixMilli(at).UTC()
		events = append(events, e)
	}
	evRows.Close()
	if err := evRows.Err(); err != nil {
		return err
	}
	if cur != "" {
		compute(cur, events)
	}
	for _, i := range idx {
		if !done[pupils[i].ID] {
			compute(pupils[i].ID, nil)
		}
	}
	return nil
}

// sessionsBetween are the sessions from one day to another (inclusive);
// sessions are in day order.
func sessionsBetween(all []Session, from, to string) []Session {
	lo := sort.Search(len(all), func(i int) bool { return all[i].Day >= from })
	hi := sort.Search(len(all), func(i int) bool { return all[i].Day > to })
	return all[lo:hi]
}

// eventsBetween are the events in [from, to); events are in time order.
func eventsBetween(events []Event, from, to time.Time) []Event {
	lo := sort.Search(len(events), func(i int) bool { return !events[i].At.Before(from) })
	hi := sort.Search(len(events), func(i int) bool { return !events[i].At.Before(to) })
	return events[lo:hi]
}

// suggestCodes offers the school's agreed code for each unmarked possible
// session the pupil engaged in remotely. It is only a suggestion: the
// register is the school's, and a mark is never written from it.
func suggestCodes(rs []SessionResult, code string) {
	if code == "" {
		return
	}
	for i := range rs {
		if rs[i].Code == "" && rs[i].EngagedRemote {
			rs[i].Suggested = code
		}
	}
}

// CaseloadRow is one pupil on a caseload: the weekly trend and term to date.
type CaseloadRow struct {
	PupilID       string `json:"pupil_id"`
	PupilNumber   string `json:"pupil_number"`
	DisplayName   string `json:"display_name"`
	SchoolID      string `json:"school_id"`
	SchoolName    string `json:"school_name"`
	ClassroomID   string `json:"classroom_id,omitempty"`
	ClassroomName string `json:"classroom_name,omitempty"`
	// % per week, oldest first; null for a week with no possible
	// sessions (a holiday), which is no week of absence.
	Attendance []*float64 `json:"attendance_trend"`
	Education  []*float64 `json:"education_trend"`
	LastWeek   Measures   `json:"last_week"`
	// Plan is the flags of the pupil's active re-integration plan, if any.
	Plan       *PlanFlags `json:"plan,omitempty"`
	TermToDate Measures   `json:"term_to_date"`
}

// Group is a classroom's, a school's or the whole caseload's measures.
type Group struct {
	Level    string   `json:"level"` // classroom, school, caseload
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name,omitempty"`
	Pupils   int      `json:"pupils"`
	Measures Measures `json:"measures"`
}

// Caseload is what the EWO's caseload page shows.
type Caseload struct {
	Through string        `json:"through"`
	Weeks   []string      `json:"weeks"` // Mondays, oldest first
	Rows    []CaseloadRow `json:"rows"`
	Groups  []Group       `json:"groups"`
}

// Caseload computes the measures of every pupil the actor may list (an
// EWO's caseload, a school's or an LA's pupils), with the classroom,
// school and whole-caseload aggregates of their term to date.
func (r *Reports) Caseload(ctx context.Context, a people.Actor, rg Range) (Caseload, error) {
	pupils, err := r.people.ListPupils(ctx, a, "")
	if err != nil {
		return Caseload{}, err
	}
	rg = rg.normal()
	hs, err := r.histories(ctx, pupils, rg, false)
	if err != nil {
		return Caseload{}, err
	}
	planFlags, err := NewPlans(r.db, r.people).activeFlags(ctx, pupils)
	if err != nil {
		return Caseload{}, err
	}
	c := Caseload{Through: rg.Through.Format(time.DateOnly), Weeks: []string{}, Rows: []CaseloadRow{}, Groups: []Group{}}
	classes, schools := map[string][]Measures{}, map[string][]Measures{}
	var all []Measures
	for _, h := range hs {
		row := CaseloadRow{PupilID: h.Pupil.ID, PupilNumber: h.Pupil.PupilNumber, DisplayName: h.Pupil.DisplayName,
			SchoolID: h.Pupil.SchoolID, ClassroomID: h.Pupil.ClassroomID, TermToDate: h.TermToDate}
		if f, ok := planFlags[h.Pupil.ID]; ok {
			row.Plan = &f
		}
		for _, w := range h.Weeks {
			var att, edu *float64
			if w.PossibleSessions > 0 {
				att, edu = &w.AttendancePct, &w.EducationPct
			}
			row.Attendance = append(row.Attendance, att)
			row.Education = append(row.Education, edu)
		}
		if len(h.Weeks) > 0 {
			row.LastWeek = h.Weeks[len(h.Weeks)-1].Measures
			if len(c.Weeks) == 0 {
				for _, w := range h.Weeks {
					c.Weeks = append(c.Weeks, w.Monday)
				}
			}
		}
		c.Rows = append(c.Rows, row)
		if h.Pupil.ClassroomID != "" {
			classes[h.Pupil.ClassroomID] = append(classes[h.Pupil.ClassroomID], h.TermToDate)
		}
		schools[h.Pupil.SchoolID] = append(schools[h.Pupil.SchoolID], h.TermToDate)
		all = append(all, h.TermToDate)
	}
	for _, g := range []struct {
		level string
		m     map[string][]Measures
	}{{"classroom", classes}, {"school", schools}} {
		ids := make([]string, 0, len(g.m))
		for id := range g.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			c.Groups = append(c.Groups, Group{Level: g.level, ID: id, Pupils: len(g.m[id]), Measures: Aggregate(g.m[id])})
		}
	}
	c.Groups = append(c.Groups, Group{Level: "caseload", Pupils: len(all), Measures: Aggregate(all)})
	if err := r.names(ctx, c.Rows); err != nil {
		return Caseload{}, err
	}
	names := map[string]string{}
	for _, row := range c.Rows {
		names[row.SchoolID], names[row.ClassroomID] = row.SchoolName, row.ClassroomName
	}
	for i, g := range c.Groups {
		c.Groups[i].Name = names[g.ID]
	}
	return c, nil
}

// PupilHistory returns one pupil's weeks with per-session detail (the
// register grid beside the engagement grid) and term to date; audited
// like any view of the pupil's records.
func (r *Reports) PupilHistory(ctx context.Context, a people.Actor, pupilID string, rg Range) (PupilHistory, error) {
	p, err := r.people.GetPupil(ctx, a, pupilID)
	if err != nil {
		return PupilHistory{}, err
	}
	hs, err := r.histories(ctx, []people.Pupil{p}, rg, true)
	if err != nil {
		return PupilHistory{}, err
	}
	return hs[0], nil
}

// SetSuggestCode sets a school's code-suggestion policy ("" for none).
func (r *Reports) SetSuggestCode(ctx context.Context, a people.Actor, schoolID, code string) error {
	if err := r.people.Authorize(ctx, a, people.ActTimetableEdit, people.Target{SchoolID: schoolID}); err != nil {
		return err
	}
	if code != "" {
		c, ok := LookupCode(code)
		if !ok {
			return &people.FieldError{Field: "suggest_code", Code: "bad_code", Message: "not a DfE attendance code"}
		}
		if c.Category == NotPossible {
			return &people.FieldError{Field: "suggest_code", Code: "bad_code", Message: "a suggested code must be a possible session's code"}
		}
	}
	_, err := r.db.Q().Exec(ctx, `UPDATE schools SET suggest_code = ? WHERE id = ?`, code, schoolID)
	return err
}

// SuggestCode returns a school's code-suggestion policy ("" for none).
func (r *Reports) SuggestCode(ctx context.Context, a people.Actor, schoolID string) (string, error) {
	if err := r.people.Authorize(ctx, a, people.ActClassroomList, people.Target{SchoolID: schoolID}); err != nil {
		return "", err
	}
	var code string
	err := r.db.Q().QueryRow(ctx, `SELECT suggest_code FROM schools WHERE id = ?`, schoolID).Scan(&code)
	return code, err
}
