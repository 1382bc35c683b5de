package engagement

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// Two pupils over two weeks with terms, worked out by hand. The school's
// week (UTC) is the fixture's: Monday and Tuesday have lessons.
//
//	Terms: Autumn 1 (3 Sep – 23 Oct), Autumn 2 (17 Nov – 18 Dec): Monday
//	16 November is outside both, so its sessions do not count.
//
//	Pupil A  Tue 17  AM /   PM unmarked, connected 13:00–15:00 (2 h of 2 h
//	                 of lessons: engaged remotely; the school suggests B)
//	         Mon 23  AM I (engaged 45 %: no)   PM C2 (engaged)
//	         Tue 24  AM /   PM D (not possible)
//	  week of 16th: possible 2, present 1, education 2: 50 % / 100 %
//	  week of 23rd: possible 3, present 1, education 2: 33.3 % / 66.7 %
//	  term to date (from 17th): possible 5, present 2, remote 2,
//	  education 4: 40 % / 40 % / 80 %; learning 2.75 + 2 = 4.75 h.
//	Pupil B  Tue 17  AM I  PM I;  Mon 23 AM / PM \;  Tue 24 AM / PM /
//	  term to date: possible 6, present 4, education 4: 66.7 % / 66.7 %
//	Caseload: possible 11, present 6, remote 2, education 8:
//	  attendance 54.5 %, remote 18.2 %, education 72.7 %; persistent on
//	  both, severe on neither.
func TestCaseloadAndHistoryFromTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTestLA(t, db, true)
		ps, sys, la, school := w.ps, w.sys, w.la, w.school
		c1, _ := ps.CreateClassroom(ctx, sys, school.ID, "8A")
		c2, _ := ps.CreateClassroom(ctx, sys, school.ID, "8B")
		year := 8
		a, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: c1.ID, PupilNumber: "A1", DisplayName: "A", YearGroup: &year})
		b, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: c2.ID, PupilNumber: "B1", DisplayName: "B", YearGroup: &year})
		tt := NewTimetables(db, ps)
		if _, err := tt.Import(ctx, sys, school.ID, strings.NewReader("weekday,start,end,kind,session\n"+
			"Mon,09:00,10:00,lesson,AM\nMon,10:00,10:15,break,AM\nMon,10:15,12:00,lesson,AM\n"+
			"Mon,12:00,13:00,lunch,PM\nMon,13:00,15:00,lesson,PM\n"+
			"Tue,09:00,12:00,lesson,AM\nTue,13:00,15:00,lesson,PM\n")); err != nil {
			t.Fatal(err)
		}
		if err := tt.SetTerms(ctx, sys, school.ID, []Term{{"Autumn 2", "2026-11-17", "2026-12-18"}, {"Autumn 1", "2026-09-03", "2026-10-23"}}); err != nil {
			t.Fatal(err)
		}
		rg := NewRegisters(db, ps)
		if _, err := rg.Import(ctx, sys, school.ID, strings.NewReader("UPN,Date,Session,Mark\n"+
			"A1,2026-11-16,AM,/\nA1,2026-11-16,PM,\\\nA1,2026-11-17,AM,/\n"+
			"A1,2026-11-23,AM,I\nA1,2026-11-23,PM,C2\nA1,2026-11-24,AM,/\nA1,2026-11-24,PM,D\n"+
			"B1,2026-11-17,AM,I\nB1,2026-11-17,PM,I\nB1,2026-11-23,AM,/\nB1,2026-11-23,PM,\\\nB1,2026-11-24,AM,/\nB1,2026-11-24,PM,/\n")); err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(db, 64, nil)
		for _, e := range []Event{
			{At: time.Date(2026, 11, 17, 13, 0, 0, 0, time.UTC), Kind: MediaStarted}, {At: time.Date(2026, 11, 17, 15, 0, 0, 0, time.UTC), Kind: MediaStopped},
			{At: tm(1, 9, 0, 0), Kind: MediaStarted}, {At: tm(1, 10, 30, 0), Kind: MediaStopped},
			{At: tm(1, 12, 30, 0), Kind: MediaStarted}, {At: tm(1, 14, 30, 0), Kind: MediaStopped},
			{At: tm(1, 9, 10, 20), Kind: VoiceStart}, {At: tm(1, 9, 11, 40), Kind: VoiceStop},
			{At: tm(1, 9, 11, 50), Kind: VoiceStart}, {At: tm(1, 9, 12, 10), Kind: VoiceStop},
			{At: tm(1, 13, 30, 5), Kind: HandRaised},
		} {
			e.PupilID, e.LinkID = a.ID, "dev-x"
			rec.Record(e)
		}
		rec.Close()
		r := NewReports(db, ps)
		if err := r.SetSuggestCode(ctx, sys, school.ID, "B"); err != nil {
			t.Fatal(err)
		}
		through := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		cl, err := r.Caseload(ctx, sys, Range{Through: through, Weeks: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(cl.Rows) != 2 || strings.Join(cl.Weeks, " ") != "2026-11-16 2026-11-23" {
			t.Fatalf("caseload %+v", cl)
		}
		ra, rb := cl.Rows[0], cl.Rows[1]
		if ra.PupilID != a.ID {
			ra, rb = rb, ra
		}
		eq := func(name string, got, want any) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		eq("A attendance trend", fmtTrend(ra.Attendance), "50 33.3")
		eq("A education trend", fmtTrend(ra.Education), "100 66.7")
		ta := ra.TermToDate
		eq("A possible", ta.PossibleSessions, 5)
		eq("A present", ta.PresentSessions, 2)
		eq("A remote", ta.EngagedRemoteSessions, 2)
		eq("A education %", ta.EducationPct, 80.0)
		eq("A learning h", ta.LearningHours, 4.75)
		eq("A last week education %", ra.LastWeek.EducationPct, 66.7)
		eq("B possible", rb.TermToDate.PossibleSessions, 6)
		eq("B attendance %", rb.TermToDate.AttendancePct, 66.7)
		eq("B education %", rb.TermToDate.EducationPct, 66.7)
		groups := map[string]Group{}
		for _, g := range cl.Groups {
			groups[g.Level+" "+g.ID] = g
		}
		all := groups["caseload "].Measures
		eq("caseload possible", all.PossibleSessions, 11)
		eq("caseload attendance %", all.AttendancePct, 54.5)
		eq("caseload remote %", all.RemotePct, 18.2)
		eq("caseload education %", all.EducationPct, 72.7)
		eq("caseload persistent (att)", all.PersistentAttendance, true)
		eq("caseload severe (att)", all.SevereAttendance, false)
		eq("caseload persistent (edu)", all.PersistentEducation, true)
		eq("school = caseload", groups["school "+school.ID].Measures.EducationSessions, 8)
		eq("classroom 8A", groups["classroom "+c1.ID].Measures.EducationSessions, 4)
		eq("classroom 8B pupils", groups["classroom "+c2.ID].Pupils, 1)

		h, err := r.PupilHistory(ctx, sys, a.ID, Range{Through: through, Weeks: 2})
		if err != nil {
			t.Fatal(err)
		}
		eq("term", h.Term+" "+h.TermStart, "Autumn 2 2026-11-17")
		first := h.Weeks[0].Sessions
		eq("sessions in the week of the 16th", len(first), 2)
		eq("Tue 17 PM", first[1].Day+" "+first[1].Session+" "+first[1].Suggested, "2026-11-17 PM B")
		eq("Tue 17 PM mark untouched", first[1].Code, "")
		for _, s := range h.Weeks[1].Sessions {
			if s.Suggested != "" {
				t.Errorf("a marked session got a suggestion: %+v", s)
			}
		}
		var code string
		if err := db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM marks WHERE pupil_id = ? AND day = '2026-11-17' AND session = 'PM'`, a.ID).Scan(&code); err != nil || code != "0" {
			t.Errorf("a suggestion was written as a mark: %v %q", err, code)
		}

		// An EWO sees only their caseload.
		ewo, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleEWO, SchoolID: school.ID, Email: "ewo@example.org", Name: "E", Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := ps.AssignCaseload(ctx, sys, ewo.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		ea := people.Actor{Kind: "staff", ID: ewo.ID, Role: people.RoleEWO, LAID: la.ID, SchoolID: school.ID}
		cl, err = r.Caseload(ctx, ea, Range{Through: through, Weeks: 2})
		if err != nil || len(cl.Rows) != 1 || cl.Rows[0].PupilID != b.ID {
			t.Fatalf("EWO caseload: %v %+v", err, cl.Rows)
		}
		if _, err := r.PupilHistory(ctx, ea, a.ID, Range{Through: through}); !errors.Is(err, people.ErrNotFound) && !errors.Is(err, people.ErrForbidden) {
			t.Fatalf("EWO reading a pupil off their caseload: %v", err)
		}
	})
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
	db := storetest.SQLite(t)
	ctx := context.Background()
	ps := people.New(db, people.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	la, _ := ps.CreateLA(ctx, people.System, "LA")
	sys := people.System
	sys.LAID = la.ID
	school, _ := ps.CreateSchool(ctx, sys, la.ID, "School")
	tt := NewTimetables(db, ps)
	good := []Term{{"Autumn 1", "2026-09-03", "2026-10-23"}}
	if err := tt.SetTerms(ctx, sys, school.ID, good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		terms []Term
		code  string
	}{
		{"no name", []Term{{"", "2026-09-03", "2026-10-23"}}, "bad_name"},
		{"bad date", []Term{{"X", "3rd Sept", "2026-10-23"}}, "bad_date"},
		{"ends before start", []Term{{"X", "2026-10-23", "2026-09-03"}}, "ends_before_start"},
		{"overlap", []Term{{"X", "2026-09-03", "2026-10-23"}, {"Y", "2026-10-20", "2026-12-18"}}, "overlap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tt.SetTerms(ctx, sys, school.ID, tc.terms)
			var ie *people.ImportError
			if !errors.As(err, &ie) || len(ie.Report.Errors) == 0 || ie.Report.Errors[0].Code != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			got, err := tt.Terms(ctx, sys, school.ID)
			if err != nil || len(got) != 1 || got[0] != good[0] {
				t.Fatalf("terms changed: %v %+v", err, got)
			}
		})
	}
	r := NewReports(db, ps)
	for _, code := range []string{"ZZ", "X"} {
		var fe *people.FieldError
		if err := r.SetSuggestCode(ctx, sys, school.ID, code); !errors.As(err, &fe) || fe.Code != "bad_code" {
			t.Errorf("suggest %q: %v", code, err)
		}
	}
}
