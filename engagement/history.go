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

// PupilHistory is one pupil's weeks (oldest first), term to date and year
// to date, each window ending at the last session that has ended.
type PupilHistory struct {
	Pupil      people.Pupil `json:"pupil"`
	Through    string       `json:"through"` // the window's last day
	Weeks      []Week       `json:"weeks"`
	Columns    []string     `json:"columns,omitempty"` // the grid's headers (with per-session detail)
	Term       string       `json:"term"`
	TermStart  string       `json:"term_start"`
	TermToDate Measures     `json:"term_to_date"`
	YearStart  string       `json:"year_start"`
	YearToDate Measures     `json:"year_to_date"`
	// LastWeek is the last complete school week with possible sessions
	// (nil if none in the window).
	LastWeek *Week `json:"last_week"`
	// UnmarkedOverdue counts the possible sessions this academic year
	// still without a mark more than two school days later: a data gap
	// the school should close, not an absence.
	UnmarkedOverdue int   `json:"unmarked_overdue"`
	Usage           Usage `json:"usage"`
}

// Usage is how much the pupil used the robot, as LA teams read it beside
// the DfE figures: connected time in the report's weeks and in the same
// length of time before them, and the days since it was last used.
type Usage struct {
	From          string `json:"from"` // the report's first day
	Minutes       int    `json:"robot_minutes"`
	PrevFrom      string `json:"previous_from"`
	PrevMinutes   int    `json:"previous_robot_minutes"`
	ChangeMinutes int    `json:"change_minutes"`
	LastUsed      string `json:"last_used,omitempty"` // the day of the last evidence of media
	// DaysSinceUsed: calendar days from LastUsed to the report's last day;
	// nil if the robot was never used.
	DaysSinceUsed *int `json:"days_since_used"`
}

// Range says which weeks a report covers: the Weeks school weeks ending
// with the one containing Through (a day, its date taken in the school's
// time zone; zero for today). Only sessions that have ended by Now are
// counted (later ones have not happened yet and are left out, not counted
// as absences); a Through after today is refused.
type Range struct {
	Through time.Time
	Weeks   int
	Now     time.Time // the clock; zero for the reports' clock
}

// ErrFuture is returned for a report window that ends after today.
var ErrFuture = &people.FieldError{Field: "through", Code: "future_date",
	Message: "a report cannot end after today: sessions still to come are not counted"}

func (rg Range) normal(now func() time.Time) Range {
	if rg.Weeks <= 0 {
		rg.Weeks = 6
	}
	if rg.Weeks > 60 {
		rg.Weeks = 60
	}
	if rg.Now.IsZero() {
		rg.Now = now()
	}
	if rg.Through.IsZero() {
		rg.Through = rg.Now
	}
	return rg
}

// window is one school's view of a Range: the days in its zone.
type window struct {
	through     time.Time // the last day, at noon
	until       time.Time // sessions must have ended by then
	firstMonday time.Time
	lastMonday  time.Time
	termName    string
	termStart   string
	yearStart   string
	prevFrom    time.Time // the usage's previous period, at noon
	start       time.Time // the earliest day anything needs, at noon
}

func (c *calendar) window(rg Range) (window, error) {
	var w window
	today := c.noon(rg.Now)
	w.through = c.noon(rg.Through)
	if w.through.After(today) {
		return w, ErrFuture
	}
	w.until = rg.Now
	if end := c.midnight(w.through.AddDate(0, 0, 1)); end.Before(w.until) {
		w.until = end
	}
	w.lastMonday = c.monday(w.through)
	w.firstMonday = w.lastMonday.AddDate(0, 0, -7*(rg.Weeks-1))
	w.prevFrom = w.firstMonday.AddDate(0, 0, -7*rg.Weeks)
	w.termName, w.termStart = c.termStart(w.through)
	w.yearStart = c.yearStart(w.through)
	w.start = w.prevFrom
	for _, d := range []string{w.termStart, w.yearStart} {
		if t, err := time.ParseInLocation(time.DateOnly, d, c.loc); err == nil && c.noon(t).Before(w.start) {
			w.start = c.noon(t)
		}
	}
	return w, nil
}

// Histories computes pupils' histories with a fixed number of queries per
// school (its calendar, its marks, one ordered pass over its events, the
// last use of the robot), holding one pupil's events at a time.
// Per-session detail is kept only if sessions is set. It checks no
// permission: the caller has (the caseload, a pupil's page, a plan's
// progress, a pupil's lesson material).
func (r *Reports) Histories(ctx context.Context, pupils []people.Pupil, rg Range, sessions bool) ([]PupilHistory, error) {
	rg = rg.normal(r.now)
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
	win, err := cal.window(rg)
	if err != nil {
		return err
	}
	var suggest string
	if err := q.QueryRow(ctx, `SELECT suggest_code FROM schools WHERE id = ?`, school).Scan(&suggest); err != nil {
		return err
	}
	want := map[string]int{}
	for _, i := range idx {
		want[pupils[i].ID] = i
	}
	// A few pupils (a pupil's page, a small caseload) are read by id; many
	// (a school's worth) by school, in one pass.
	who, whoArgs := `m.pupil_id IN (SELECT id FROM pupils WHERE school_id = ?)`, []any{school}
	if len(idx) <= 32 {
		who, whoArgs = `m.pupil_id IN (?`+strings.Repeat(", ?", len(idx)-1)+`)`, nil
		for _, i := range idx {
			whoArgs = append(whoArgs, pupils[i].ID)
		}
	}
	marks, err := r.marksFor(ctx, who, whoArgs, want, win)
	if err != nil {
		return err
	}
	lastUsed, err := r.lastUsed(ctx, strings.ReplaceAll(who, "m.", "e."), whoArgs, want, win.until)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	compute := func(pupil string, events []Event) {
		i := want[pupil]
		h := r.history(cal, win, pupils[i], marks[pupil], events, suggest, keep)
		if t, ok := lastUsed[pupil]; ok {
			day := cal.noon(t)
			h.Usage.LastUsed = day.Format(time.DateOnly)
			n := int(win.through.Sub(day).Round(24*time.Hour) / (24 * time.Hour))
			h.Usage.DaysSinceUsed = &n
		}
		out[i] = h
		done[pupil] = true
	}
	evRows, err := q.Query(ctx, `SELECT e.pupil_id, e.at, e.kind, e.value FROM engagement_events e
		WHERE `+strings.ReplaceAll(who, "m.", "e.")+` AND e.at >= ? AND e.at < ? ORDER BY e.pupil_id, e.at`,
		append(whoArgs, cal.midnight(win.start).UnixMilli(), win.until.UnixMilli())...)
	if err != nil {
		return err
	}
	var cur string
	var events []Event
	// A report abandoned by its caller stops here, not after the year.
	for n := 0; evRows.Next(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			evRows.Close()
			return ctx.Err()
		}
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

// marksFor reads the pupils' marks in the window, by pupil then "day AM".
func (r *Reports) marksFor(ctx context.Context, who string, whoArgs []any, want map[string]int, win window) (map[string]map[string]string, error) {
	marks := map[string]map[string]string{}
	rows, err := r.db.Q().Query(ctx, `SELECT m.pupil_id, m.day, m.session, m.code FROM marks m
		WHERE `+who+` AND m.day >= ? AND m.day <= ?`, append(whoArgs, win.start.Format(time.DateOnly), win.through.Format(time.DateOnly))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pupil, day, half, code string
		if err := rows.Scan(&pupil, &day, &half, &code); err != nil {
			return nil, err
		}
		if _, ok := want[pupil]; !ok {
			continue
		}
		if marks[pupil] == nil {
			marks[pupil] = map[string]string{}
		}
		marks[pupil][day+" "+half] = code
	}
	return marks, rows.Err()
}

// lastUsed reads when media last reached each pupil before until.
func (r *Reports) lastUsed(ctx context.Context, who string, whoArgs []any, want map[string]int, until time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	rows, err := r.db.Q().Query(ctx, `SELECT e.pupil_id, MAX(e.at) FROM engagement_events e
		WHERE `+who+` AND e.kind IN (?, ?, ?) AND e.at < ? GROUP BY e.pupil_id`,
		append(whoArgs, MediaStarted, MediaAlive, MediaStopped, until.UnixMilli())...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pupil string
		var at int64
		if err := rows.Scan(&pupil, &at); err != nil {
			return nil, err
		}
		if _, ok := want[pupil]; ok {
			out[pupil] = time.UnixMilli(at).UTC()
		}
	}
	return out, rows.Err()
}

// history works out one pupil's weeks, term and year to date, last
// complete week, overdue marks and usage from their marks and events.
func (r *Reports) history(cal *calendar, win window, p people.Pupil, marks map[string]string, events []Event,
	suggest string, keep bool) PupilHistory {
	throughDay := win.through.Format(time.DateOnly)
	all := cal.sessions(p.ClassroomID, win.start, win.through, marks, win.until)
	h := PupilHistory{Pupil: p, Through: throughDay, Term: win.termName, TermStart: win.termStart, YearStart: win.yearStart}
	full := cal.fullWeek(p.ClassroomID)
	ev := newEvidence(events)
	for mon := win.firstMonday; !mon.After(win.lastMonday); mon = mon.AddDate(0, 0, 7) {
		from, fri := mon.Format(time.DateOnly), mon.AddDate(0, 0, 4)
		in := sessionsBetween(all, from, fri.Format(time.DateOnly))
		m := ev.measure(in, cal.midnight(mon), cal.midnight(mon.AddDate(0, 0, 5)), r.Share)
		suggestCodes(m.Sessions, suggest)
		// Complete: every session of the week has ended.
		complete := len(in) == len(cal.sessions(p.ClassroomID, mon, fri, marks, time.Time{}))
		if !keep {
			m.Sessions = nil
		}
		wk := Week{PupilID: p.ID, Monday: from, Complete: complete, FullWeekSessions: full, Measures: m}
		if keep {
			wk.Cells = wk.gridRow()
		}
		h.Weeks = append(h.Weeks, wk)
	}
	for i := len(h.Weeks) - 1; i >= 0; i-- {
		if w := h.Weeks[i]; w.Complete && w.PossibleSessions > 0 {
			h.LastWeek = &w
			h.LastWeek.Sessions = nil
			break
		}
	}
	upTo := func(first string) Measures {
		d, _ := time.ParseInLocation(time.DateOnly, first, cal.loc)
		m := ev.measure(sessionsBetween(all, first, throughDay), cal.midnight(d), win.until, r.Share)
		m.Sessions = nil
		return m
	}
	h.TermToDate = upTo(win.termStart)
	h.YearToDate = upTo(win.yearStart)
	h.UnmarkedOverdue = unmarkedOverdue(sessionsBetween(all, win.yearStart, throughDay))
	from := cal.midnight(win.firstMonday)
	h.Usage = Usage{From: win.firstMonday.Format(time.DateOnly), PrevFrom: win.prevFrom.Format(time.DateOnly),
		Minutes:     minutes(Total(clip(ev.conn, from, win.until))),
		PrevMinutes: minutes(Total(clip(ev.conn, cal.midnight(win.prevFrom), from)))}
	h.Usage.ChangeMinutes = h.Usage.Minutes - h.Usage.PrevMinutes
	return h
}

// unmarkedOverdue counts the possible sessions still unmarked on a school
// day more than two school days before the last one counted (a register
// import that lags a day or two is normal; older gaps are not).
func unmarkedOverdue(sessions []Session) int {
	var days []string
	for _, s := range sessions {
		if len(days) == 0 || days[len(days)-1] != s.Day {
			days = append(days, s.Day)
		}
	}
	if len(days) < 3 {
		return 0
	}
	cutoff := days[len(days)-3]
	n := 0
	for _, s := range sessions {
		if s.Day >= cutoff {
			break
		}
		if s.Code == "" && sessionPossible(s) {
			n++
		}
	}
	return n
}

// sessionsBetween are the sessions from one day to another (inclusive);
// sessions are in day order.
func sessionsBetween(all []Session, from, to string) []Session {
	lo := sort.Search(len(all), func(i int) bool { return all[i].Day >= from })
	hi := sort.Search(len(all), func(i int) bool { return all[i].Day > to })
	return all[lo:hi]
}

// suggestCodes offers the school's agreed code for each unmarked possible
// session the pupil engaged in remotely. It is only a suggestion: the
// register is the school's, and a mark is never written from it.
func suggestCodes(rs []SessionResult, code string) {
	if code == "" || checkSuggestCode(code) != nil {
		return
	}
	for i := range rs {
		if rs[i].Code == "" && rs[i].EngagedRemote {
			rs[i].Suggested = code
		}
	}
}

// PlanFlags are what the caseload shows of a pupil's active
// re-integration plan (package plans judges them).
type PlanFlags struct {
	PlanID         string `json:"plan_id"`
	Status         string `json:"status"`
	ReviewDue      bool   `json:"review_due"`     // a review within the next 7 days
	ReviewOverdue  bool   `json:"review_overdue"` // a review date passed, not held
	PastEnd        bool   `json:"past_end"`       // still active after its end date
	MissedTwoWeeks bool   `json:"missed_two_weeks"`
}

// PlanFlagger gives the flags of each pupil's active plan, if they have
// one; the caseload asks it for its plan column (package plans implements
// it, so the measures need not import the plans).
type PlanFlagger interface {
	ActiveFlags(ctx context.Context, pupils []people.Pupil) (map[string]PlanFlags, error)
}

// KeyAdultNamer gives the names of pupils' key adults, for those who have
// one (package casework implements it, for the caseload's key adult
// column and its "no key adult" flag).
type KeyAdultNamer interface {
	KeyAdultNames(ctx context.Context, pupils []people.Pupil) (map[string]string, error)
}

// CaseloadRow is one pupil on a caseload: the weekly trend, term and year
// to date, the last complete week, the register's gaps and robot usage.
type CaseloadRow struct {
	PupilID       string `json:"pupil_id"`
	PupilNumber   string `json:"pupil_number"`
	DisplayName   string `json:"display_name"`
	SchoolID      string `json:"school_id"`
	SchoolName    string `json:"school_name"`
	ClassroomID   string `json:"classroom_id,omitempty"`
	ClassroomName string `json:"classroom_name,omitempty"`
	// % per week, oldest first; null for a week with no figure (a
	// holiday, or nothing marked), which is no week of absence.
	Attendance []*float64 `json:"attendance_trend"`
	Education  []*float64 `json:"education_trend"`
	LastWeek   *Week      `json:"last_week"`
	// Plan is the flags of the pupil's active re-integration plan, if any.
	Plan *PlanFlags `json:"plan,omitempty"`
	// KeyAdult is the name of the pupil's key adult ("" if none).
	KeyAdult string `json:"key_adult,omitempty"`
	// NoKeyAdult flags a pupil with no key adult yet (false when the
	// caseload was made without the key adults).
	NoKeyAdult      bool     `json:"no_key_adult,omitempty"`
	TermStart       string   `json:"term_start"`
	TermToDate      Measures `json:"term_to_date"`
	YearStart       string   `json:"year_start"`
	YearToDate      Measures `json:"year_to_date"`
	UnmarkedOverdue int      `json:"unmarked_overdue"`
	Usage           Usage    `json:"usage"`
	// Cells are the row's text as the table and its CSV show it.
	Cells []string `json:"cells"`
}

// Caseload is what the EWO's caseload page shows.
type Caseload struct {
	Through string        `json:"through"` // the last day counted
	From    string        `json:"from"`    // the first Monday of the weeks
	Weeks   []string      `json:"weeks"`   // Mondays, oldest first
	Columns []string      `json:"columns"` // the table's headers, as the CSV's
	Rows    []CaseloadRow `json:"rows"`
	// Groups are figures over the pupils' year to date (the DfE's
	// cumulative figure).
	Groups []Group `json:"groups"`
}

// Caseload computes the measures of every pupil the actor may list (an
// EWO's caseload, a school's or an LA's pupils), with the classroom,
// school and whole-caseload figures of their year to date.
func (r *Reports) Caseload(ctx context.Context, a people.Actor, rg Range) (Caseload, error) {
	pupils, err := r.people.ListPupils(ctx, a, "")
	if err != nil {
		return Caseload{}, err
	}
	rg = rg.normal(r.now)
	hs, err := r.Histories(ctx, pupils, rg, false)
	if err != nil {
		return Caseload{}, err
	}
	planFlags := map[string]PlanFlags{}
	if r.Plans != nil {
		if planFlags, err = r.Plans.ActiveFlags(ctx, pupils); err != nil {
			return Caseload{}, err
		}
	}
	var keyAdults map[string]string
	if r.KeyAdults != nil {
		if keyAdults, err = r.KeyAdults.KeyAdultNames(ctx, pupils); err != nil {
			return Caseload{}, err
		}
	}
	c := Caseload{Through: rg.Through.Format(time.DateOnly), Weeks: []string{}, Rows: []CaseloadRow{}, Groups: []Group{}}
	classes, schools := map[string][]Measures{}, map[string][]Measures{}
	var all []Measures
	for _, h := range hs {
		row := CaseloadRow{PupilID: h.Pupil.ID, PupilNumber: h.Pupil.PupilNumber, DisplayName: h.Pupil.DisplayName,
			SchoolID: h.Pupil.SchoolID, ClassroomID: h.Pupil.ClassroomID, LastWeek: h.LastWeek,
			TermStart: h.TermStart, TermToDate: h.TermToDate, YearStart: h.YearStart, YearToDate: h.YearToDate,
			UnmarkedOverdue: h.UnmarkedOverdue, Usage: h.Usage}
		if f, ok := planFlags[h.Pupil.ID]; ok {
			row.Plan = &f
		}
		if keyAdults != nil {
			row.KeyAdult = keyAdults[h.Pupil.ID]
			row.NoKeyAdult = row.KeyAdult == ""
		}
		for _, w := range h.Weeks {
			row.Attendance = append(row.Attendance, w.AttendancePct)
			row.Education = append(row.Education, w.EducationPct)
		}
		c.Through, c.From = h.Through, h.Usage.From
		if len(c.Weeks) == 0 {
			for _, w := range h.Weeks {
				c.Weeks = append(c.Weeks, w.Monday)
			}
		}
		c.Rows = append(c.Rows, row)
		if h.Pupil.ClassroomID != "" {
			classes[h.Pupil.ClassroomID] = append(classes[h.Pupil.ClassroomID], h.YearToDate)
		}
		schools[h.Pupil.SchoolID] = append(schools[h.Pupil.SchoolID], h.YearToDate)
		all = append(all, h.YearToDate)
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
			grp := Aggregate(g.m[id])
			grp.Level, grp.ID = g.level, id
			c.Groups = append(c.Groups, grp)
		}
	}
	whole := Aggregate(all)
	whole.Level = "caseload"
	c.Groups = append(c.Groups, whole)
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
	c.Columns = c.columns()
	for i := range c.Rows {
		c.Rows[i].Cells = c.Rows[i].tableRow()
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
	hs, err := r.Histories(ctx, []people.Pupil{p}, rg, true)
	if err != nil {
		return PupilHistory{}, err
	}
	hs[0].Columns = GridColumns()
	return hs[0], nil
}

// SetSuggestCode sets a school's code-suggestion policy ("" for none).
// Only an absence code may be suggested: the DfE says a pupil who is
// absent and receiving remote education is marked absent with the
// appropriate code (C2 on a part-time timetable; I, C, M and so on as the
// case is), never present and never as an approved educational activity.
func (r *Reports) SetSuggestCode(ctx context.Context, a people.Actor, schoolID, code string) error {
	if err := r.people.Authorize(ctx, a, people.ActTimetableEdit, people.Target{SchoolID: schoolID}); err != nil {
		return err
	}
	if err := checkSuggestCode(code); err != nil {
		return err
	}
	_, err := r.db.Q().Exec(ctx, `UPDATE schools SET suggest_code = ? WHERE id = ?`, code, schoolID)
	return err
}

// checkSuggestCode refuses any code but an absence code, saying why.
func checkSuggestCode(code string) error {
	if code == "" {
		return nil
	}
	c, ok := LookupCode(code)
	switch {
	case !ok:
		return &people.FieldError{Field: "suggest_code", Code: "bad_code", Message: "not a DfE attendance code"}
	case c.Category == Present:
		return &people.FieldError{Field: "suggest_code", Code: "not_absence_code", Message: code + " records the pupil as " +
			map[bool]string{true: "present in school", false: "on an approved educational activity"}[c.OnSite()] +
			"; a pupil absent and learning remotely is marked absent (the DfE), so suggest an absence code such as C2 (" +
			partTimeMeaning() + ")"}
	case c.Category == NotPossible:
		return &people.FieldError{Field: "suggest_code", Code: "not_absence_code", Message: code +
			" makes the session not possible; a pupil absent and learning remotely is marked absent, so suggest an absence code such as C2"}
	}
	return nil
}

func partTimeMeaning() string { c, _ := LookupCode(PartTimeCode); return c.Meaning }

// SuggestCode returns a school's code-suggestion policy ("" for none).
func (r *Reports) SuggestCode(ctx context.Context, a people.Actor, schoolID string) (string, error) {
	if err := r.people.Authorize(ctx, a, people.ActClassroomList, people.Target{SchoolID: schoolID}); err != nil {
		return "", err
	}
	var code string
	err := r.db.Q().QueryRow(ctx, `SELECT suggest_code FROM schools WHERE id = ?`, schoolID).Scan(&code)
	return code, err
}
