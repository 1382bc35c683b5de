package engagement

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// The CSV exports write exactly the columns the EWO's pages show, in the
// same order, so what is printed, exported and seen on screen agree.

// csvCell guards a cell against formula injection in spreadsheet programs
// (a name beginning with = + - @ is written with a leading apostrophe).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
func hrs(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func flags(m Measures) string {
	var f []string
	switch {
	case m.SevereAttendance:
		f = append(f, "severe absence (attendance)")
	case m.PersistentAttendance:
		f = append(f, "persistent absence (attendance)")
	}
	switch {
	case m.SevereEducation:
		f = append(f, "severe (education)")
	case m.PersistentEducation:
		f = append(f, "persistent (education)")
	}
	return strings.Join(f, "; ")
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

// CaseloadColumns are the caseload table's columns.
var CaseloadColumns = []string{"pupil_number", "name", "school", "classroom", "attendance_pct", "remote_pct", "education_pct",
	"learning_hours", "social_hours", "active_minutes", "flags", "plan", "last_week_education_pct", "education_trend"}

// WriteCSV writes the caseload table.
func (c Caseload) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CaseloadColumns)
	for _, r := range c.Rows {
		var trend []string
		for _, v := range r.Education {
			if v == nil {
				trend = append(trend, "-")
				continue
			}
			trend = append(trend, pct(*v))
		}
		m := r.TermToDate
		_ = cw.Write([]string{csvCell(r.PupilNumber), csvCell(r.DisplayName), csvCell(r.SchoolName), csvCell(r.ClassroomName),
			pct(m.AttendancePct), pct(m.RemotePct), pct(m.EducationPct), hrs(m.LearningHours), hrs(m.SocialHours),
			strconv.Itoa(m.ActiveMinutes), flags(m), planText(r.Plan), pct(r.LastWeek.EducationPct), strings.Join(trend, " ")})
	}
	cw.Flush()
	return cw.Error()
}

// weekdayNames label the register grid's columns.
var weekdayNames = []string{"Mon", "Tue", "Wed", "Thu", "Fri"}

// GridColumns are the pupil page's week-by-week table: the week's
// measures, then each session's register mark beside its engagement.
func GridColumns() []string {
	cols := []string{"week", "possible", "attendance_pct", "education_pct", "learning_hours", "social_hours", "active_minutes"}
	for _, d := range weekdayNames {
		cols = append(cols, d+" AM", d+" PM")
	}
	return cols
}

// Cell is how the grid shows one session: the mark (or "-" unmarked), then
// "robot" and the share of lessons connected if the pupil joined, and the
// school's suggested code if any.
func (r SessionResult) Cell() string {
	s := r.Code
	if s == "" {
		s = "-"
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

// WriteCSV writes the pupil page's week-by-week grid.
func (h PupilHistory) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(GridColumns())
	for _, wk := range h.Weeks {
		row := []string{wk.Monday, strconv.Itoa(wk.PossibleSessions), pct(wk.AttendancePct), pct(wk.EducationPct),
			hrs(wk.LearningHours), hrs(wk.SocialHours), strconv.Itoa(wk.ActiveMinutes)}
		cells := map[string]string{}
		for _, s := range wk.Sessions {
			cells[s.Day+" "+s.Session] = s.Cell()
		}
		mon, _ := time.Parse(time.DateOnly, wk.Monday)
		for i := range weekdayNames {
			day := mon.AddDate(0, 0, i).Format(time.DateOnly)
			row = append(row, cells[day+" AM"], cells[day+" PM"])
		}
		_ = cw.Write(row)
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
