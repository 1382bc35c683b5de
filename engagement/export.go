package engagement

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// The EWO's pages and their CSV exports show the same text, written once
// here: the caseload table's and the pupil grid's cells travel in the JSON
// the pages draw (cells), and the CSV writers write the same cells. A
// busy reader cannot misread them: hours as h:mm, each percentage with
// its denominator, "–" where there is no figure, the window's dates in
// the headers.

// csvCell guards a cell of text people typed against formula injection in
// spreadsheet programs (a cell beginning with = + - @ is written with a
// leading apostrophe).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// NoFigure is shown where a figure has no denominator (a holiday week,
// nothing marked): never 0.
const NoFigure = "–"

// PctOf is a percentage with its denominator: "90.0 % of 40 sessions".
func PctOf(p *float64, of int) string {
	if p == nil {
		return NoFigure
	}
	unit := " sessions"
	if of == 1 {
		unit = " session"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + " % of " + strconv.Itoa(of) + unit
}

// HM is minutes as h:mm (105 → "1:45").
func HM(min int) string {
	sign := ""
	if min < 0 {
		sign, min = "-", -min
	}
	return sign + strconv.Itoa(min/60) + ":" + strconv.Itoa(min%60/10) + strconv.Itoa(min%10)
}

// signedHM is a change in minutes as h:mm with its sign ("+0:45").
func signedHM(min int) string {
	if min > 0 {
		return "+" + HM(min)
	}
	return HM(min)
}

// FlagText is how the pages and the CSV name a pupil's flags: the DfE's
// absence flags on the register, then Seatlink's education flags, named
// for what they are.
func FlagText(m Measures) string {
	var f []string
	switch {
	case m.SevereAttendance:
		f = append(f, "severe absence")
	case m.PersistentAttendance:
		f = append(f, "persistent absence")
	}
	switch {
	case m.EducationAtMost50:
		f = append(f, "education engagement 50 % or less")
	case m.EducationAtMost90:
		f = append(f, "education engagement 90 % or less")
	}
	return strings.Join(f, "; ")
}

// dataText names a register gap.
func dataText(overdue int) string {
	switch overdue {
	case 0:
		return ""
	case 1:
		return "1 session not marked after two school days"
	}
	return strconv.Itoa(overdue) + " sessions not marked after two school days"
}

// planText is how the caseload shows a plan's flags (the page's words).
func planText(f *PlanFlags) string {
	if f == nil {
		return ""
	}
	out := []string{"active plan"}
	if f.ReviewOverdue {
		out = append(out, "review overdue")
	} else if f.ReviewDue {
		out = append(out, "review due")
	}
	if f.PastEnd {
		out = append(out, "past its end date")
	}
	if f.MissedTwoWeeks {
		out = append(out, "targets missed two weeks running")
	}
	return strings.Join(out, "; ")
}

// Caseload table columns, by index, for the page to place its links,
// flag chips and trend line.
const (
	ColName      = 1
	ColFlags     = 13
	ColPlan      = 14
	ColTrend     = 19
	ColKeyAdult  = 20
	caseloadCols = 21
)

// columns are the caseload table's headers, naming each window by its
// dates.
func (c Caseload) columns() []string {
	t, from := c.Through, c.From
	prev := ""
	if f, err := time.Parse(time.DateOnly, from); err == nil {
		prev = f.AddDate(0, 0, -7*len(c.Weeks)).Format(time.DateOnly) + " to " + f.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return []string{"Pupil number", "Name", "School", "Class",
		"Attendance, year to " + t, "Education engagement, year to " + t,
		"Attendance, term to " + t, "Education engagement, term to " + t,
		"In school / approved activity, year to " + t, "Not marked, year to " + t,
		"Learning h:mm, term to " + t, "Social h:mm, term to " + t, "Active minutes, term to " + t,
		"Flags, year to " + t, "Plan", "Last complete week",
		"Robot time h:mm, " + from + " to " + t, "Change against " + prev, "Days since robot used",
		"Education engagement by week from " + from, "Key adult"}
}

// NoKeyAdultText is the key adult column's text for a pupil with none.
const NoKeyAdultText = "no key adult"

// tableRow is a caseload row's text, one per column.
func (r CaseloadRow) tableRow() []string {
	y, t := r.YearToDate, r.TermToDate
	flags := FlagText(y)
	if d := dataText(r.UnmarkedOverdue); d != "" {
		flags = strings.TrimPrefix(flags+"; "+d, "; ")
	}
	last := NoFigure
	if r.LastWeek != nil {
		last = "w/c " + r.LastWeek.Monday + ": " + PctOf(r.LastWeek.EducationPct, r.LastWeek.KnownSessions)
	}
	keyAdult := r.KeyAdult
	if r.NoKeyAdult {
		keyAdult = NoKeyAdultText
	}
	since := "never"
	if r.Usage.DaysSinceUsed != nil {
		since = strconv.Itoa(*r.Usage.DaysSinceUsed)
	}
	var trend []string
	for _, v := range r.Education {
		if v == nil {
			trend = append(trend, NoFigure)
			continue
		}
		trend = append(trend, strconv.FormatFloat(*v, 'f', 1, 64))
	}
	return []string{r.PupilNumber, r.DisplayName, r.SchoolName, r.ClassroomName,
		PctOf(y.AttendancePct, y.MarkedSessions), PctOf(y.EducationPct, y.KnownSessions),
		PctOf(t.AttendancePct, t.MarkedSessions), PctOf(t.EducationPct, t.KnownSessions),
		strconv.Itoa(y.OnSiteSessions) + " / " + strconv.Itoa(y.ApprovedSessions), strconv.Itoa(y.UnmarkedSessions),
		HM(t.LearningMinutes), HM(t.SocialMinutes), strconv.Itoa(t.ActiveMinutes),
		flags, planText(r.Plan), last,
		HM(r.Usage.Minutes), signedHM(r.Usage.ChangeMinutes), since, strings.Join(trend, " "), keyAdult}
}

// WriteCSV writes the caseload table.
func (c Caseload) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(c.columns())
	for _, r := range c.Rows {
		cells := r.tableRow()
		// People's and places' names are typed by people; the other
		// cells are figures and words written here (a change such as
		// "-1:10" is no formula to guard).
		for i := range cells[:ColName+3] {
			cells[i] = csvCell(cells[i])
		}
		cells[ColKeyAdult] = csvCell(cells[ColKeyAdult]) // a member of staff's name
		_ = cw.Write(cells)
	}
	cw.Flush()
	return cw.Error()
}

// weekdayNames label the register grid's columns.
var weekdayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri"}

// GridColumns are the pupil page's week-by-week table: the week's
// measures, then each session's register mark beside its engagement.
func GridColumns() []string {
	cols := []string{"Week", "Not marked", "Attendance", "In school", "Approved activity", "Education engagement",
		"Learning h:mm", "Social h:mm", "Active min"}
	for _, d := range weekdayNames {
		cols = append(cols, d+" AM", d+" PM")
	}
	return cols
}

// Cell is how the grid shows one session: the mark ("not marked" if none),
// then "robot" and the share of lessons connected if the pupil joined, and
// the school's suggested code if any.
func (r SessionResult) Cell() string {
	s := r.Code
	if s == "" {
		s = "not marked"
	}
	if r.Learning > 0 && r.ScheduledLearn > 0 {
		s += " robot " + strconv.Itoa(int(100*r.Learning/r.ScheduledLearn)) + "%"
		if r.EngagedRemote {
			s += " engaged"
		}
	}
	if r.Suggested != "" {
		s += " (suggest " + r.Suggested + ")"
	}
	return s
}

// gridRow is a week's row of the grid.
func (wk Week) gridRow() []string {
	row := []string{wk.Monday, strconv.Itoa(wk.UnmarkedSessions), PctOf(wk.AttendancePct, wk.MarkedSessions),
		strconv.Itoa(wk.OnSiteSessions), strconv.Itoa(wk.ApprovedSessions), PctOf(wk.EducationPct, wk.KnownSessions),
		HM(wk.LearningMinutes), HM(wk.SocialMinutes), strconv.Itoa(wk.ActiveMinutes)}
	cells := map[string]string{}
	for _, s := range wk.Sessions {
		cells[s.Day+" "+s.Session] = s.Cell()
	}
	mon, _ := time.Parse(time.DateOnly, wk.Monday)
	for i := range weekdayNames {
		day := mon.AddDate(0, 0, i).Format(time.DateOnly)
		row = append(row, cells[day+" AM"], cells[day+" PM"])
	}
	return row
}

// WriteCSV writes the pupil page's week-by-week grid.
func (h PupilHistory) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(GridColumns())
	for _, wk := range h.Weeks {
		_ = cw.Write(wk.gridRow())
	}
	cw.Flush()
	return cw.Error()
}

// names fills in the schools' and classrooms' names of caseload rows.
func (r *Reports) names(ctx context.Context, rows []CaseloadRow) error {
	schools, classes := map[string]string{}, map[string]string{}
	for _, row := range rows {
		schools[row.SchoolID], classes[row.ClassroomID] = "", ""
	}
	for _, t := range []struct {
		table string
		m     map[string]string
	}{{"schools", schools}, {"classrooms", classes}} {
		for id := range t.m {
			if id == "" {
				continue
			}
			var name string
			if err := r.db.Q().QueryRow(ctx, `SELECT name FROM `+t.table+` WHERE id = ?`, id).Scan(&name); err != nil {
				return err
			}
			t.m[id] = name
		}
	}
	for i := range rows {
		rows[i].SchoolName, rows[i].ClassroomName = schools[rows[i].SchoolID], classes[rows[i].ClassroomID]
	}
	return nil
}
