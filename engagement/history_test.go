package engagement

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// A school year worked by hand, in Europe/London (GMT in winter, so the
// clock times below are the school's). The week has lessons on Monday and
// Tuesday only (4 sessions: Mon AM 165 min of lessons and a 15 min break,
// Mon PM 120 min after lunch, Tue AM 180 min, Tue PM 120 min).
//
//	Terms (2026/27):
//	  Summer 2026 (13 Apr – 17 Jul 2026): last academic year, never counted
//	  Autumn  3 Sep – 18 Dec, half term 26–30 Oct:
//	          Mondays 7 Sep … 14 Dec = 15, less 26 Oct = 14;
//	          Tuesdays 8 Sep … 15 Dec = 15, less 27 Oct = 14:
//	          28 days × 2 = 56 sessions
//	  Spring  4 Jan – 26 Mar, INSET day Mon 4 Jan, half term 15–19 Feb
//
//	The clock: Tuesday 12 January 2027, 10:00. Sessions that have ended:
//	Tue 5 Jan AM, PM; Mon 11 Jan AM, PM (Tue 12 AM ends at 12:00: not yet).
//	Term to date (spring): 4 sessions. Year to date: 56 + 4 = 60.
//
//	Pupil A (exactly 10 %): autumn all marked, 6 of them I (ill), the rest
//	  /; spring all 4 /. Year: 60 marked, 54 present, 6 absent:
//	  6 × 10 = 60 ≥ 60, persistent absence (attendance 90.0 %); 6 × 2 < 60,
//	  not severe. Term to date 4 of 4 = 100 %.
//	Pupil B (the register lags; 1 of 2 is severe): autumn nothing marked;
//	  Tue 5 AM /, PM I; Mon 11 unmarked. Year: possible 60, marked 2,
//	  unmarked 58, absent 1: 1 × 2 ≥ 2, severe (and persistent).
//	  On Mon 11 AM the robot was connected 09:00–12:00 (evidence every
//	  10 minutes, each saying so): 165 of 165 min of lessons, engaged
//	  remotely, unmarked, so the school's policy suggests C2. Known
//	  sessions 2 marked + 1 engaged = 3, education 1 + 1 = 2, 66.7 %:
//	  1 × 10 ≥ 3, "education engagement 90 % or less"; 1 × 2 < 3, not 50 %.
//	  On Mon 14 Dec PM media started at 13:00 with evidence to 13:40, then
//	  the stop and everything after were lost; the next evidence is 11 Jan
//	  09:00. The interval ends at 13:40 (40 min), not on 11 January.
//	  Learning this year 40 + 165 = 205 min = 3:25; social 15 min (the
//	  break on Mon 11). Overdue marks: the last three school days counted
//	  are 15 Dec, 5 Jan, 11 Jan; unmarked before 15 Dec: 56 − 2 = 54.
//	  Usage, weeks of 4 and 11 Jan: 180 min (3:00); the two weeks before
//	  (21 Dec – 3 Jan): 0; change +3:00; last used 11 Jan, 1 day before.
//	Pupil C (K counts, but not in school): autumn 50 /, 4 K, 2 N; spring 4
//	  /. Year: 60 marked, 58 present (54 in school, 4 approved activity),
//	  2 absent: 2 × 10 < 60, no flag.
//	Caseload (year to date): marked 60 + 2 + 60 = 122, absent 6 + 1 + 2 =
//	  9: absence rate 7.4 %; pupils counted 3, persistent 2 (A, B) =
//	  66.7 %, severe 1 (B) = 33.3 %.
//	Weeks (2, to 12 Jan): w/c 4 Jan (Tue 5 only, complete) and w/c 11 Jan
//	  (Mon 11 only so far, not complete). A: 100 / 100; B: attendance
//	  50 then no figure (nothing marked), education 50 then 100.
//	  A's last complete week is w/c 4 Jan, not the unfinished one.
func TestCaseloadAndHistoryFromTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTestLA(t, db, false)
		ps, sys, la, school := w.ps, w.sys, w.la, w.school
		c1, _ := ps.CreateClassroom(ctx, sys, school.ID, "8A")
		c2, _ := ps.CreateClassroom(ctx, sys, school.ID, "8B")
		year := 8
		newPupil := func(n, class string) people.Pupil {
			p, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: class, PupilNumber: n, DisplayName: n, YearGroup: &year})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		a, b, c := newPupil("A1", c1.ID), newPupil("B1", c1.ID), newPupil("C1", c2.ID)
		tt := NewTimetables(db, ps)
		if _, err := tt.Import(ctx, sys, school.ID, strings.NewReader("weekday,start,end,kind,session\n"+
			"Mon,09:00,10:00,lesson,AM\nMon,10:00,10:15,break,AM\nMon,10:15,12:00,lesson,AM\n"+
			"Mon,12:00,13:00,lunch,PM\nMon,13:00,15:00,lesson,PM\n"+
			"Tue,09:00,12:00,lesson,AM\nTue,13:00,15:00,lesson,PM\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := tt.ImportTerms(ctx, sys, school.ID, strings.NewReader("kind,name,starts_on,ends_on\n"+
			"term,Summer 2026,2026-04-13,2026-07-17\nterm,Autumn,2026-09-03,2026-12-18\nhalf term,Half term,2026-10-26,2026-10-30\n"+
			"term,Spring,2027-01-04,2027-03-26\nINSET,INSET day,2027-01-04,2027-01-04\nholiday,Half term,2027-02-15,2027-02-19\n")); err != nil {
			t.Fatal(err)
		}
		// The register: every autumn Monday and Tuesday outside half term.
		var reg strings.Builder
		reg.WriteString("UPN,Date,Session,Mark\n")
		mark := func(p, day, half, code string) { fmt.Fprintf(&reg, "%s,%s,%s,%s\n", p, day, half, code) }
		n := 0
		for d := time.Date(2026, 9, 3, 12, 0, 0, 0, time.UTC); d.Before(time.Date(2026, 12, 19, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
			day := d.Format(time.DateOnly)
			if (d.Weekday() != time.Monday && d.Weekday() != time.Tuesday) || (day >= "2026-10-26" && day <= "2026-10-30") {
				continue
			}
			for _, half := range []string{"AM", "PM"} {
				present := map[string]string{"AM": "/", "PM": `\`}[half]
				codeA, codeC := present, present
				if n < 6 {
					codeA = "I"
				}
				switch {
				case n >= 50 && n < 54:
					codeC = "K"
				case n >= 54:
					codeC = "N"
				}
				mark("A1", day, half, codeA)
				mark("C1", day, half, codeC)
				n++
			}
		}
		if n != 56 {
			t.Fatalf("%d autumn sessions, the comment says 56", n)
		}
		for _, p := range []string{"A1", "C1"} {
			mark(p, "2027-01-05", "AM", "/")
			mark(p, "2027-01-05", "PM", `\`)
			mark(p, "2027-01-11", "AM", "/")
			mark(p, "2027-01-11", "PM", `\`)
		}
		mark("B1", "2027-01-05", "AM", "/")
		mark("B1", "2027-01-05", "PM", "I")
		if _, err := NewRegisters(db, ps).Import(ctx, sys, school.ID, strings.NewReader(reg.String())); err != nil {
			t.Fatal(err)
		}
		gmt := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
		rec := NewRecorder(db, 256, nil)
		evidence := func(from, to time.Time, stop bool) {
			for at := from; !at.After(to); at = at.Add(10 * time.Minute) {
				kind := MediaAlive
				if at.Equal(from) {
					kind = MediaStarted
				}
				rec.Record(Event{At: at, PupilID: b.ID, LinkID: "dev-x", Kind: kind, Value: 600})
			}
			if stop {
				rec.Record(Event{At: to, PupilID: b.ID, LinkID: "dev-x", Kind: MediaStopped})
			}
		}
		evidence(gmt(2026, 12, 14, 13, 0), gmt(2026, 12, 14, 13, 40), false) // the stop was lost
		evidence(gmt(2027, 1, 11, 9, 0), gmt(2027, 1, 11, 12, 0), true)
		rec.Close()
		r := NewReports(db, ps)
		now := gmt(2027, 1, 12, 10, 0)
		r.now = func() time.Time { return now }
		if err := r.SetSuggestCode(ctx, sys, school.ID, "C2"); err != nil {
			t.Fatal(err)
		}
		cl, err := r.Caseload(ctx, sys, Range{Weeks: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(cl.Rows) != 3 || strings.Join(cl.Weeks, " ") != "2027-01-04 2027-01-11" || cl.Through != "2027-01-12" || cl.From != "2027-01-04" {
			t.Fatalf("caseload %+v", cl)
		}
		rows := map[string]CaseloadRow{}
		for _, row := range cl.Rows {
			rows[row.PupilNumber] = row
		}
		eq := func(name string, got, want any) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		ra, rb, rc := rows["A1"], rows["B1"], rows["C1"]
		ya, yb, yc := ra.YearToDate, rb.YearToDate, rc.YearToDate
		eq("year start", ra.YearStart, "2026-09-03")
		eq("term start", ra.TermStart, "2027-01-04")
		eq("A marked", ya.MarkedSessions, 60)
		eq("A absent", ya.AbsentSessions, 6)
		eq("A attendance", pctText(ya.AttendancePct), "90.0")
		eq("A persistent at exactly 10 %", ya.PersistentAttendance, true)
		eq("A severe", ya.SevereAttendance, false)
		eq("A term to date", PctOf(ra.TermToDate.AttendancePct, ra.TermToDate.MarkedSessions), "100.0 % of 4 sessions")
		eq("A trend", fmtTrend(ra.Attendance), "100 100")
		eq("A last complete week", ra.LastWeek.Monday, "2027-01-04")
		eq("A usage", ra.Usage.DaysSinceUsed == nil && ra.Usage.Minutes == 0, true)

		eq("B possible", yb.PossibleSessions, 60)
		eq("B marked", yb.MarkedSessions, 2)
		eq("B unmarked", yb.UnmarkedSessions, 58)
		eq("B severe at 1 of 2", yb.SevereAttendance, true)
		eq("B persistent", yb.PersistentAttendance, true)
		eq("B known", yb.KnownSessions, 3)
		eq("B education", pctText(yb.EducationPct), "66.7")
		eq("B education ≤ 90", yb.EducationAtMost90, true)
		eq("B education ≤ 50", yb.EducationAtMost50, false)
		eq("B learning", HM(yb.LearningMinutes), "3:25")
		eq("B social", HM(yb.SocialMinutes), "0:15")
		eq("B overdue", rb.UnmarkedOverdue, 54)
		eq("B attendance trend", fmtTrend(rb.Attendance), "50 -")
		eq("B education trend", fmtTrend(rb.Education), "50 100")
		eq("B robot minutes", rb.Usage.Minutes, 180)
		eq("B previous", rb.Usage.PrevMinutes, 0)
		eq("B previous from", rb.Usage.PrevFrom, "2026-12-21")
		eq("B last used", rb.Usage.LastUsed, "2027-01-11")
		eq("B days since", *rb.Usage.DaysSinceUsed, 1)

		eq("C present", yc.PresentSessions, 58)
		eq("C in school", yc.OnSiteSessions, 54)
		eq("C approved", yc.ApprovedSessions, 4)
		eq("C flags", FlagText(yc), "")

		cells := strings.Join(rb.Cells, "|")
		eq("B's row", cells, "B1|B1|School|8A|50.0 % of 2 sessions|66.7 % of 3 sessions|50.0 % of 2 sessions|66.7 % of 3 sessions|"+
			"1 / 0|58|2:45|0:15|0|severe absence; education engagement 90 % or less; 54 sessions not marked after two school days||"+
			"w/c 2027-01-04: 50.0 % of 2 sessions|3:00|+3:00|1|50.0 100.0|")
		eq("A's row", strings.Join(ra.Cells, "|"), "A1|A1|School|8A|90.0 % of 60 sessions|90.0 % of 60 sessions|100.0 % of 4 sessions|"+
			"100.0 % of 4 sessions|54 / 0|0|0:00|0:00|0|persistent absence; education engagement 90 % or less||"+
			"w/c 2027-01-04: 100.0 % of 2 sessions|0:00|0:00|never|100.0 100.0|")
		eq("columns", cl.Columns[4]+" / "+cl.Columns[16]+" / "+cl.Columns[17], "Attendance, year to 2027-01-12 / "+
			"Robot time h:mm, 2027-01-04 to 2027-01-12 / Change against 2026-12-21 to 2027-01-03")

		groups := map[string]Group{}
		for _, g := range cl.Groups {
			groups[g.Level+" "+g.ID] = g
		}
		all := groups["caseload "]
		eq("caseload absence rate", PctOf(all.Measures.AbsencePct, all.Measures.MarkedSessions), "7.4 % of 122 sessions")
		eq("caseload pupils counted", all.PupilsCounted, 3)
		eq("caseload persistent", all.PersistentPupils, 2)
		eq("caseload persistent %", pctText(all.PersistentPct), "66.7")
		eq("caseload severe", all.SeverePupils, 1)
		eq("caseload severe %", pctText(all.SeverePct), "33.3")
		eq("a group raises no pupil flag", all.Measures.PersistentAttendance, false)
		eq("classroom 8A pupils", groups["classroom "+c1.ID].Pupils, 2)
		eq("classroom 8B severe", groups["classroom "+c2.ID].SeverePupils, 0)

		h, err := r.PupilHistory(ctx, sys, b.ID, Range{Weeks: 2})
		if err != nil {
			t.Fatal(err)
		}
		eq("term", h.Term+" "+h.TermStart, "Spring 2027-01-04")
		mon := h.Weeks[1].Sessions
		eq("sessions in the week of the 11th", len(mon), 2)
		eq("Mon 11 AM", mon[0].Day+" "+mon[0].Session+" "+mon[0].Suggested+" "+mon[0].Cell(), "2027-01-11 AM C2 not marked robot 100% engaged (suggest C2)")
		eq("Mon 11 PM", mon[1].Cell(), "not marked")
		eq("week complete", h.Weeks[1].Complete, false)
		var count int
		if err := db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM marks WHERE pupil_id = ? AND day = '2027-01-11'`, b.ID).Scan(&count); err != nil || count != 0 {
			t.Errorf("a suggestion was written as a mark: %v %d", err, count)
		}

		// A week asked for mid-week counts what has ended: on Tuesday at
		// 10:00, Monday's two sessions, both present for A.
		wk, err := r.PupilWeek(ctx, sys, a.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		eq("mid-week possible", wk.PossibleSessions, 2)
		eq("mid-week attendance", pctText(wk.AttendancePct), "100.0")
		eq("mid-week flags", wk.PersistentAttendance || wk.SevereAttendance, false)
		// Nothing after today.
		if _, err := r.PupilWeek(ctx, sys, a.ID, now.AddDate(0, 0, 2)); !errors.Is(err, ErrFuture) {
			t.Errorf("a week after today: %v", err)
		}
		if _, err := r.Caseload(ctx, sys, Range{Through: now.AddDate(0, 0, 1)}); !errors.Is(err, ErrFuture) {
			t.Errorf("a caseload through tomorrow: %v", err)
		}
		// Last term's history: through 18 Dec is allowed and ends there.
		if h, err := r.PupilHistory(ctx, sys, a.ID, Range{Through: gmt(2026, 12, 18, 12, 0), Weeks: 1}); err != nil ||
			h.TermStart != "2026-09-03" || h.TermToDate.MarkedSessions != 56 {
			t.Errorf("autumn to 18 Dec: %v %s %d", err, h.TermStart, h.TermToDate.MarkedSessions)
		}

		// An EWO sees only their caseload.
		ewo, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleEWO, SchoolID: school.ID, Email: "ewo@example.org", Name: "E", Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := ps.AssignCaseload(ctx, sys, ewo.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		ea := people.Actor{Kind: "staff", ID: ewo.ID, Role: people.RoleEWO, LAID: la.ID, SchoolID: school.ID}
		cl, err = r.Caseload(ctx, ea, Range{Weeks: 2})
		if err != nil || len(cl.Rows) != 1 || cl.Rows[0].PupilID != c.ID {
			t.Fatalf("EWO caseload: %v %+v", err, cl.Rows)
		}
		if _, err := r.PupilHistory(ctx, ea, a.ID, Range{}); !errors.Is(err, people.ErrNotFound) && !errors.Is(err, people.ErrForbidden) {
			t.Fatalf("EWO reading a pupil off their caseload: %v", err)
		}
	})
}

func pctText(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

func fmtTrend(v []*float64) string {
	var s []string
	for _, f := range v {
		if f == nil {
			s = append(s, "-")
			continue
		}
		s = append(s, strconv.FormatFloat(*f, 'f', -1, 64))
	}
	return strings.Join(s, " ")
}

func TestSetTermsRefusesBadTermsAndKeepsTheOld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTestLA(t, db, false)
		sys, school := w.sys, w.school
		tt := NewTimetables(db, w.ps)
		term := func(name, from, to string, hs ...Holiday) Term {
			return Term{Name: name, StartsOn: from, EndsOn: to, Holidays: append([]Holiday{}, hs...)}
		}
		hol := func(name, from, to string) Holiday { return Holiday{Name: name, StartsOn: from, EndsOn: to} }
		good := []Term{term("Autumn", "2026-09-03", "2026-12-18", hol("Half term", "2026-10-26", "2026-10-30"), hol("INSET", "2026-11-27", "2026-11-27"))}
		if err := tt.SetTerms(ctx, sys, school.ID, good); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			terms []Term
			code  string
		}{
			{"no name", []Term{term("", "2026-09-03", "2026-10-23")}, "bad_name"},
			{"bad date", []Term{term("X", "3rd Sept", "2026-10-23")}, "bad_date"},
			{"ends before start", []Term{term("X", "2026-10-23", "2026-09-03")}, "ends_before_start"},
			{"overlap", []Term{term("X", "2026-09-03", "2026-10-23"), term("Y", "2026-10-20", "2026-12-18")}, "overlap"},
			{"holiday outside its term", []Term{term("X", "2026-09-03", "2026-10-23", hol("Half term", "2026-10-19", "2026-10-30"))}, "outside_term"},
			{"holiday ends before it starts", []Term{term("X", "2026-09-03", "2026-10-23", hol("H", "2026-10-02", "2026-10-01"))}, "ends_before_start"},
			{"holidays overlap", []Term{term("X", "2026-09-03", "2026-10-23", hol("H", "2026-10-01", "2026-10-09"), hol("I", "2026-10-09", "2026-10-09"))}, "overlap"},
			{"holiday without a name", []Term{term("X", "2026-09-03", "2026-10-23", hol(" ", "2026-10-01", "2026-10-01"))}, "bad_name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tt.SetTerms(ctx, sys, school.ID, tc.terms)
				var ie *people.ImportError
				if !errors.As(err, &ie) || len(ie.Report.Errors) == 0 || ie.Report.Errors[0].Code != tc.code {
					t.Fatalf("got %v, want %s", err, tc.code)
				}
				got, err := tt.Terms(ctx, sys, school.ID)
				if err != nil || len(got) != 1 || got[0].Name != "Autumn" || len(got[0].Holidays) != 2 || got[0].Holidays[1] != good[0].Holidays[1] {
					t.Fatalf("terms changed: %v %+v", err, got)
				}
			})
		}
	})
}

// The DfE: a pupil who is absent and receiving remote education is marked
// absent with the appropriate code, never present and never as an
// approved educational activity. So a school may have only an absence
// code suggested; every present, approved-activity and not-possible code
// is refused, with the reason, and the old policy stays.
func TestSuggestCodeOnlyAnAbsenceCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTestLA(t, db, false)
		r := NewReports(db, w.ps)
		if err := r.SetSuggestCode(ctx, w.sys, w.school.ID, "C2"); err != nil {
			t.Fatal(err)
		}
		for _, c := range Codes {
			err := r.SetSuggestCode(ctx, w.sys, w.school.ID, c.Code)
			var fe *people.FieldError
			switch c.Category {
			case Authorised, Unauthorised:
				if err != nil {
					t.Errorf("%s (%s) refused: %v", c.Code, c.Category, err)
				}
			default:
				if !errors.As(err, &fe) || fe.Code != "not_absence_code" || !strings.Contains(fe.Message, "C2") {
					t.Errorf("%s (%s): %v, want not_absence_code naming C2", c.Code, c.Category, err)
				}
				if got, _ := r.SuggestCode(ctx, w.sys, w.school.ID); got == c.Code {
					t.Errorf("%s was stored", c.Code)
				}
			}
		}
		for _, code := range []string{"ZZ", "b", " /"} {
			var fe *people.FieldError
			if err := r.SetSuggestCode(ctx, w.sys, w.school.ID, code); !errors.As(err, &fe) || fe.Code != "bad_code" {
				t.Errorf("suggest %q: %v", code, err)
			}
		}
	})
}

// A report whose caller has gone stops: it returns the context's error,
// not a year of work later.
func TestReportStopsWhenItsCallerLeaves(t *testing.T) {
	db := storetest.SQLite(t)
	w := newTestLA(t, db, false)
	year := 8
	if _, err := w.ps.CreatePupil(context.Background(), w.sys, people.PupilInput{SchoolID: w.school.ID, PupilNumber: "S1", DisplayName: "S", YearGroup: &year}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewReports(db, w.ps).Caseload(ctx, w.sys, Range{Weeks: 60}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled report: %v", err)
	}
}

// A calendar built in memory: lessons 09:00–12:00 and 13:00–15:00 every
// weekday, UTC, one term with a half-term week.
func testCalendar() *calendar {
	c := &calendar{loc: time.UTC, school: map[time.Weekday][]period{}, own: map[string]map[time.Weekday][]period{},
		terms: []Term{{Name: "Autumn", StartsOn: "2026-09-03", EndsOn: "2026-12-18",
			Holidays: []Holiday{{Name: "Half term", StartsOn: "2026-10-26", EndsOn: "2026-10-30"}}}}}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		c.school[wd] = []period{
			{Period: Period{Weekday: wd, Starts: "09:00", Ends: "12:00", Kind: KindLesson, Session: "AM"}, from: 9 * 60, to: 12 * 60},
			{Period: Period{Weekday: wd, Starts: "13:00", Ends: "15:00", Kind: KindLesson, Session: "PM"}, from: 13 * 60, to: 15 * 60}}
	}
	return c
}

// "Last week" is the last complete school week with possible sessions:
// on Tuesday 3 November, the week of 26 October is half term (nothing
// possible) and this week is not over, so it is the week of 19 October.
// Marked sessions the timetable does not cover end at 13:00 (AM) and
// 18:00 (PM), so on a Saturday a Saturday morning mark counts only after
// 13:00.
func TestLastCompleteWeekAndSessionEnds(t *testing.T) {
	c := testCalendar()
	now := time.Date(2026, 11, 3, 16, 0, 0, 0, time.UTC)
	win, err := c.window(Range{Through: now, Weeks: 3, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r := &Reports{Share: DefaultEngagedShare}
	h := r.history(c, win, people.Pupil{ID: "p"}, map[string]string{}, nil, "", false)
	got := []string{}
	for _, w := range h.Weeks {
		got = append(got, w.Monday+":"+strconv.Itoa(w.PossibleSessions)+":"+strconv.FormatBool(w.Complete))
	}
	if strings.Join(got, " ") != "2026-10-19:10:true 2026-10-26:0:true 2026-11-02:4:false" {
		t.Fatalf("weeks %v", got)
	}
	if h.LastWeek == nil || h.LastWeek.Monday != "2026-10-19" {
		t.Fatalf("last complete week %+v", h.LastWeek)
	}
	sat := time.Date(2026, 11, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		half string
		want string
	}{{"AM", "13:00"}, {"PM", "18:00"}} {
		if end := c.sessionEnd(sat, Session{Day: "2026-11-07", Session: tc.half, Code: "/"}); end.Format("15:04") != tc.want {
			t.Errorf("%s session without slots ends %s, want %s", tc.half, end.Format("15:04"), tc.want)
		}
	}
}
