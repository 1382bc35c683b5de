package engagement

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseTermsCSV(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      string // terms and their holidays, or the first error's row and code
	}{
		{"three terms with half terms, INSET days and a bank holiday",
			"\ufeffKind,Name,Start,End\nterm,Autumn,2026-09-03,2026-12-18\nhalf term,Half term,2026-10-26,2026-10-30\n" +
				"INSET,INSET day,2026-09-03,2026-09-03\nterm,Spring,2027-01-05,2027-03-26\nholiday,Half term,2027-02-15,2027-02-19\n" +
				"term,Summer,2027-04-12,2027-07-21\nbank holiday,May Day,2027-05-03,2027-05-03\n",
			"Autumn 2026-09-03..2026-12-18 [Half term 2026-10-26..2026-10-30, INSET day 2026-09-03..2026-09-03]; " +
				"Spring 2027-01-05..2027-03-26 [Half term 2027-02-15..2027-02-19]; Summer 2027-04-12..2027-07-21 [May Day 2027-05-03..2027-05-03]"},
		{"from/to headers and a blank line", "kind,name,from,to\nterm,A,2026-09-03,2026-10-23\n\n", "A 2026-09-03..2026-10-23 []"},
		{"missing column", "kind,name,starts_on\nterm,A,2026-09-03\n", "row 1 missing_column"},
		{"unknown kind", "kind,name,starts_on,ends_on\nweekend,A,2026-09-05,2026-09-06\n", "row 2 bad_kind"},
		{"bad date", "kind,name,starts_on,ends_on\nterm,A,3 Sept,2026-10-23\n", "row 2 bad_date"},
		{"ends before it starts", "kind,name,starts_on,ends_on\nterm,A,2026-10-23,2026-09-03\n", "row 2 ends_before_start"},
		{"no name", "kind,name,starts_on,ends_on\nterm,,2026-09-03,2026-10-23\n", "row 2 bad_name"},
		{"a holiday outside every term", "kind,name,starts_on,ends_on\nterm,A,2026-09-03,2026-10-23\nholiday,Summer,2026-07-22,2026-09-02\n", "row 3 outside_term"},
		{"overlapping terms, named by the later one in time", "kind,name,starts_on,ends_on\nterm,B,2026-10-01,2026-12-18\nterm,A,2026-09-03,2026-10-23\n", "row 2 overlap"},
		{"overlapping holidays, named by the later one in time, by its line", "kind,name,starts_on,ends_on\nterm,A,2026-09-03,2026-12-18\nINSET,I,2026-10-30,2026-10-30\n" +
			"term,B,2027-01-04,2027-03-26\nhalf term,H,2026-10-26,2026-10-30\n", "row 3 overlap"},
		{"empty file", "", "row 1 bad_csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			terms, errs := ParseTermsCSV(strings.NewReader(tc.csv))
			got := describeTerms(terms)
			if len(errs) > 0 {
				got = "row " + strconv.Itoa(errs[0].Row) + " " + errs[0].Code
			}
			if got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func describeTerms(terms []Term) string {
	var out []string
	for _, t := range terms {
		var hs []string
		for _, h := range t.Holidays {
			hs = append(hs, h.Name+" "+h.StartsOn+".."+h.EndsOn)
		}
		out = append(out, t.Name+" "+t.StartsOn+".."+t.EndsOn+" ["+strings.Join(hs, ", ")+"]")
	}
	return strings.Join(out, "; ")
}

// A calendar file is typed by school staff or exported from a MIS: any
// bytes are read without a panic, and an accepted calendar keeps every
// promise the reports rely on.
func FuzzParseTermsCSV(f *testing.F) {
	f.Add("kind,name,starts_on,ends_on\nterm,Autumn,2026-09-03,2026-12-18\nhalf term,Half term,2026-10-26,2026-10-30\n")
	f.Add("kind,name,from,to\nINSET,X,2026-09-03,2026-09-03\n\"term")
	f.Fuzz(func(t *testing.T, data string) {
		terms, errs := ParseTermsCSV(strings.NewReader(data))
		for _, e := range errs {
			if e.Row < 1 || e.Code == "" || e.Message == "" {
				t.Fatalf("bad row error %+v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		for i, tm := range terms {
			if tm.Name == "" || tm.EndsOn < tm.StartsOn || len(tm.StartsOn) != 10 {
				t.Fatalf("accepted term %+v", tm)
			}
			if i > 0 && !(terms[i-1].EndsOn < tm.StartsOn || tm.EndsOn < terms[i-1].StartsOn) {
				t.Fatalf("accepted overlapping terms %+v", terms)
			}
			for _, h := range tm.Holidays {
				if h.Name == "" || h.EndsOn < h.StartsOn || h.StartsOn < tm.StartsOn || h.EndsOn > tm.EndsOn {
					t.Fatalf("accepted holiday %+v in %+v", h, tm)
				}
			}
		}
	})
}
