package people

import (
	"context"
	"errors"
	"strings"
	"testing"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
)

func TestImportPupils(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		count := func() int {
			p, err := w.s.ListPupils(ctx, w.admin, w.school.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(p)
		}
		before := count()
		bad := "\ufeffUPN,Preferred Forename,NC Year,Reg Group\n" +
			"B100,Ada,5,5 Oak\n" +
			"B101,,5,5 Oak\n" + // no name
			"B102,Ben,Year 12b,5 Oak\n" + // bad year
			"B100,Cy,5,5 Ash\n" + // duplicate in the file
			"A1,Dee,5,5 Oak\n" // already in the school
		rep, err := w.s.ImportPupils(ctx, w.admin, w.school.ID, strings.NewReader(bad))
		var ie *ImportError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want an ImportError", err)
		}
		want := []RowError{
			{Row: 3, Field: "display_name", Code: "required"},
			{Row: 4, Field: "year_group", Code: "bad_year_group"},
			{Row: 5, Field: "pupil_number", Code: "duplicate"},
			{Row: 6, Field: "pupil_number", Code: "duplicate"},
		}
		if len(rep.Errors) != len(want) {
			t.Fatalf("errors = %+v, want %d", rep.Errors, len(want))
		}
		for i, e := range want {
			got := rep.Errors[i]
			if got.Row != e.Row || got.Field != e.Field || got.Code != e.Code || got.Message == "" {
				t.Errorf("error %d = %+v, want %+v", i, got, e)
			}
		}
		if count() != before {
			t.Fatal("a failed import left pupils behind")
		}
		classes, _ := w.s.ListClassrooms(ctx, w.admin, w.school.ID)
		if len(classes) != 1 {
			t.Fatalf("a failed import left classrooms behind: %+v", classes)
		}

		good := "pupil_number,display_name,year_group,classroom\n" +
			"C1,Eve,R,Reception Robins\n" +
			"C2,Finn,Y3,Year 7 Blue\n" + // an existing classroom, by name
			"\n" +
			"C3,Gus,N,\n"
		rep, err = w.s.ImportPupils(ctx, w.admin, w.school.ID, strings.NewReader(good))
		if err != nil {
			t.Fatalf("import: %v %+v", err, rep)
		}
		if rep.PupilsCreated != 3 || len(rep.ClassroomsCreated) != 1 || rep.ClassroomsCreated[0] != "Reception Robins" {
			t.Fatalf("report %+v", rep)
		}
		if count() != before+3 {
			t.Fatalf("%d pupils, want %d", count(), before+3)
		}
		if _, err := w.s.ImportPupils(ctx, w.teacher, w.school.ID, strings.NewReader(good)); !errors.Is(err, ErrForbidden) {
			t.Fatalf("teacher import: %v", err)
		}
		if _, err := w.s.ImportPupils(ctx, w.otherAdmin, w.school.ID, strings.NewReader(good)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other LA's import: %v", err)
		}
		for _, tc := range []struct{ name, csv, code string }{
			{"empty", "", "bad_csv"},
			{"missing column", "upn,name\nX1,Y\n", "missing_column"},
			{"header only", "upn,name,year\n", "empty"},
			{"bad quoting", "upn,name,year\n\"X1,Y,3\n", "bad_csv"},
		} {
			rep, err := w.s.ImportPupils(ctx, w.admin, w.school.ID, strings.NewReader(tc.csv))
			if err == nil || len(rep.Errors) == 0 && tc.code != "bad_csv" && tc.code != "missing_column" {
				t.Errorf("%s: err %v report %+v", tc.name, err, rep)
				continue
			}
			var ie *ImportError
			if errors.As(err, &ie) && ie.Report.Errors[0].Code != tc.code {
				t.Errorf("%s: code %q, want %q", tc.name, ie.Report.Errors[0].Code, tc.code)
			}
		}
	})
}

func TestParseYearGroup(t *testing.T) {
	for in, want := range map[string]int{"5": 5, "Y5": 5, "Year 11": 11, " year 3 ": 3, "R": 0, "Reception": 0, "N": -1, "nursery": -1, "14": 14} {
		if got, ok := ParseYearGroup(in); !ok || got != want {
			t.Errorf("ParseYearGroup(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "15", "-2", "Year", "five", "5a"} {
		if _, ok := ParseYearGroup(in); ok {
			t.Errorf("ParseYearGroup(%q) accepted", in)
		}
	}
}

func FuzzParsePupilCSV(f *testing.F) {
	f.Add("upn,name,year,class\nA1,Ann,5,Oak\nA2,Bo,R,\n")
	f.Add("\ufeffUPN,Preferred Forename,NC Year\n\"X,1\",\"Q\"\"uote\",Y6\n")
	f.Add("upn,name,year\nA1,Ann,5\nA1,Ann,5\n")
	f.Add("a,b\n\"")
	f.Fuzz(func(t *testing.T, data string) {
		rows, errs, err := parsePupilCSV(strings.NewReader(data), "sch")
		if err != nil {
			t.Fatalf("a string reader cannot fail: %v", err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if err := r.in.Validate(); err != nil {
				t.Fatalf("row %d accepted but invalid: %v", r.row, err)
			}
			if seen[r.in.PupilNumber] {
				t.Fatalf("duplicate pupil number %q accepted", r.in.PupilNumber)
			}
			seen[r.in.PupilNumber] = true
		}
		for _, e := range errs {
			if e.Row < 1 || e.Code == "" || e.Message == "" {
				t.Fatalf("row error without row, code or message: %+v", e)
			}
		}
		if len(errs) > MaxImportErrors+1 || len(rows)+len(errs) > MaxImportRows+1 {
			t.Fatalf("%d rows read, more than the limit", len(rows)+len(errs))
		}
	})
}
