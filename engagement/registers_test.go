package engagement

import (
	"context"
	"errors"
	"strings"
	"testing"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

func TestRegisters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTestLA(t, db, false)
		ps, sys, la, school := w.ps, w.sys, w.la, w.school
		other, _ := ps.CreateSchool(ctx, sys, la.ID, "Other")
		year := 7
		p1, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "R1", DisplayName: "A", YearGroup: &year})
		p2, _ := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "R2", DisplayName: "B", YearGroup: &year})
		rg := NewRegisters(db, ps)
		teacher := people.Actor{Kind: "staff", ID: "t1", Role: people.RoleTeacher, LAID: la.ID, SchoolID: school.ID}
		otherTeacher := people.Actor{Kind: "staff", ID: "t2", Role: people.RoleTeacher, LAID: la.ID, SchoolID: other.ID}

		bad := "UPN,Date,Session,Mark\n" +
			"R1,2026-11-23,AM,/\n" +
			"R9,2026-11-23,AM,/\n" + // unknown pupil
			"R2,2026-11-23,AM,ZZ\n" + // bad code
			"R2,31/02/2026,PM,I\n" + // bad date
			"R1,23/11/2026,AM,L\n" + // duplicate of row 2
			"R2,2026-11-23,XX,I\n" // bad session
		_, err := rg.Import(ctx, teacher, school.ID, strings.NewReader(bad))
		var ie *people.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("bad import: %v", err)
		}
		want := map[int]string{3: "unknown_pupil", 4: "bad_code", 5: "bad_date", 6: "duplicate", 7: "bad_session"}
		if len(ie.Report.Errors) != len(want) {
			t.Fatalf("errors %+v", ie.Report.Errors)
		}
		for _, e := range ie.Report.Errors {
			if want[e.Row] != e.Code {
				t.Errorf("row %d: %s, want %s", e.Row, e.Code, want[e.Row])
			}
		}
		if m, _ := rg.Marks(ctx, sys, p1.ID, "2026-01-01", "2026-12-31"); len(m) != 0 {
			t.Fatalf("a refused import stored %d marks", len(m))
		}

		good := "UPN,Date,Session,Mark\nR1,2026-11-23,AM,/\nR1,2026-11-23,PM,\\\nR2,23/11/2026,AM,I\nR2,23/11/2026,PM,C2\n"
		if n, err := rg.Import(ctx, teacher, school.ID, strings.NewReader(good)); err != nil || n != 4 {
			t.Fatalf("good import: %d %v", n, err)
		}
		if _, err := rg.Import(ctx, otherTeacher, school.ID, strings.NewReader(good)); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("another school's teacher imported: %v", err)
		}
		// A correction on the register page replaces the mark; bad entries are refused.
		if err := rg.Set(ctx, teacher, Mark{PupilID: p2.ID, Day: "2026-11-23", Session: "AM", Code: "M"}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []Mark{
			{PupilID: p2.ID, Day: "yesterday", Session: "AM", Code: "M"},
			{PupilID: p2.ID, Day: "2026-11-23", Session: "EVE", Code: "M"},
			{PupilID: p2.ID, Day: "2026-11-23", Session: "AM", Code: "m"},
		} {
			if err := rg.Set(ctx, teacher, m); !errors.Is(err, people.ErrInvalid) {
				t.Errorf("%+v: %v", m, err)
			}
		}
		if err := rg.Set(ctx, otherTeacher, Mark{PupilID: p2.ID, Day: "2026-11-23", Session: "AM", Code: "O"}); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("another school's teacher set a mark: %v", err)
		}
		marks, err := rg.Marks(ctx, teacher, p2.ID, "2026-11-23", "2026-11-23")
		if err != nil || len(marks) != 2 || marks[0].Code != "M" || marks[0].Source != "register" || marks[1].Code != "C2" {
			t.Fatalf("marks %+v %v", marks, err)
		}
	})
}

func FuzzParseMarksCSV(f *testing.F) {
	f.Add("UPN,Date,Session,Mark\nR1,2026-11-23,AM,/\nR1,23/11/2026,PM,C2\n")
	f.Add("upn,date,session,code\n\"R1")
	f.Fuzz(func(t *testing.T, data string) {
		rows, errs := parseMarksCSV(strings.NewReader(data))
		for _, e := range errs {
			if e.Row < 1 || e.Code == "" {
				t.Fatalf("bad row error %+v", e)
			}
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if _, ok := LookupCode(r.cd); !ok || (r.session != "AM" && r.session != "PM") {
				t.Fatalf("accepted %+v", r)
			}
			k := r.number + r.day + r.session
			if seen[k] {
				t.Fatalf("accepted a duplicate mark %+v", r)
			}
			seen[k] = true
		}
	})
}
