package signaling

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"seatlink/engagement"
	"seatlink/people"
)

func TestReportsOverHTTP(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	year := 9
	if status, body := admin.do("POST", "/api/v1/pupils", people.PupilInput{SchoolID: w.ids["school"], PupilNumber: "F1",
		DisplayName: "=HYPERLINK(\"http://x.test\")", YearGroup: &year}, nil); status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	status, body := admin.do("GET", "/api/v1/caseload?through=2026-11-20&weeks=3", nil, nil)
	var cl engagement.Caseload
	if err := json.Unmarshal(body, &cl); status != 200 || err != nil || len(cl.Rows) != 3 || len(cl.Weeks) != 3 || cl.Through != "2026-11-20" {
		t.Fatalf("caseload: %d %s", status, body)
	}
	status, body = admin.do("GET", "/api/v1/caseload?through=2026-11-20&weeks=3&format=csv", nil, nil)
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != 200 || err != nil || len(recs) != 4 || strings.Join(recs[0], "|") != strings.Join(cl.Columns, "|") ||
		!strings.Contains(recs[0][4], "2026-11-20") {
		t.Fatalf("caseload csv: %d %v %s", status, err, body)
	}
	if !strings.Contains(string(body), `"'=HYPERLINK(""http://x.test"")"`) {
		t.Fatalf("a formula in a name was not neutralised: %s", body)
	}
	ewo := w.signIn(t, "ewo1")
	if status, body := ewo.do("GET", "/api/v1/caseload", nil, nil); status != 200 || !strings.Contains(string(body), w.ids["pupil"]) ||
		strings.Contains(string(body), "HYPERLINK") {
		t.Fatalf("EWO caseload is their caseload: %d %s", status, body)
	}
	status, body = ewo.do("GET", "/api/v1/pupils/"+w.ids["pupil"]+"/history?weeks=2&format=csv", nil, nil)
	if recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll(); status != 200 || err != nil || len(recs) != 3 ||
		strings.Join(recs[0], "|") != strings.Join(engagement.GridColumns(), "|") {
		t.Fatalf("pupil csv: %d %s", status, body)
	}
	// Nothing after today: a future through or week is refused with a
	// stable code; today is allowed.
	tomorrow := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
	for _, path := range []string{"/api/v1/caseload?through=" + tomorrow, "/api/v1/pupils/" + w.ids["pupil"] + "/history?through=" + tomorrow,
		"/api/v1/pupils/" + w.ids["pupil"] + "/week?day=" + tomorrow} {
		if status, body := ewo.do("GET", path, nil, nil); status != 400 || errCode(body) != "future_date" {
			t.Errorf("%s: %d %s, want 400 future_date", path, status, body)
		}
	}
	if status, body := ewo.do("GET", "/api/v1/caseload?through="+time.Now().Format(time.DateOnly), nil, nil); status != 200 {
		t.Errorf("through today: %d %s", status, body)
	}
	for _, tc := range []struct{ path, code string }{
		{"/api/v1/caseload?weeks=0", "bad_weeks"},
		{"/api/v1/caseload?weeks=x", "bad_weeks"},
		{"/api/v1/caseload?through=20/11/2026", "bad_date"},
		{"/api/v1/caseload?through=1999-12-31", "bad_date"},
		{"/api/v1/pupils/" + w.ids["pupil"] + "/week?day=0001-01-01", "bad_date"},
		{"/api/v1/pupils/" + w.ids["pupil"] + "/history?weeks=61", "bad_weeks"},
	} {
		if status, body := ewo.do("GET", tc.path, nil, nil); status != 400 || errCode(body) != "invalid" || !strings.Contains(string(body), `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want 400 %s", tc.path, status, body, tc.code)
		}
	}
	terms := "/api/v1/schools/" + w.ids["school"] + "/terms"
	if status, body := admin.do("PUT", terms, map[string]any{"terms": []engagement.Term{{Name: "A", StartsOn: "2026-09-03", EndsOn: "2026-10-23"}}}, nil); status != 200 {
		t.Fatalf("terms: %d %s", status, body)
	}
	status, body = admin.do("PUT", terms, map[string]any{"terms": []engagement.Term{{Name: "A", StartsOn: "2026-09-03", EndsOn: "2026-10-23"},
		{Name: "B", StartsOn: "2026-10-01", EndsOn: "2026-12-18"}}}, nil)
	if status != 422 || errCode(body) != "import_failed" || !strings.Contains(string(body), "overlap") {
		t.Fatalf("overlapping terms: %d %s", status, body)
	}
	if status, body := admin.do("GET", terms, nil, nil); status != 200 || strings.Count(string(body), "starts_on") != 1 {
		t.Fatalf("refused terms changed the stored ones: %d %s", status, body)
	}
	if status, body := admin.do("PUT", "/api/v1/schools/"+w.ids["school"]+"/code-policy", map[string]string{"suggest_code": "Q9"}, nil); status != 400 || !strings.Contains(string(body), `"code":"bad_code"`) {
		t.Fatalf("bad policy code: %d %s", status, body)
	}
	for _, code := range []string{"/", "B", "K", "X"} {
		if status, body := admin.do("PUT", "/api/v1/schools/"+w.ids["school"]+"/code-policy", map[string]string{"suggest_code": code}, nil); status != 400 ||
			!strings.Contains(string(body), `"code":"not_absence_code"`) || !strings.Contains(string(body), "C2") {
			t.Errorf("policy %s: %d %s, want 400 not_absence_code", code, status, body)
		}
	}
	if status, body := admin.do("PUT", "/api/v1/schools/"+w.ids["school"]+"/code-policy", map[string]string{"suggest_code": "C2"}, nil); status != 200 {
		t.Errorf("policy C2: %d %s", status, body)
	}
	// The calendar as CSV: three terms' worth of rows, holidays inside.
	cal := "kind,name,starts_on,ends_on\nterm,Autumn,2026-09-03,2026-12-18\nhalf term,Half term,2026-10-26,2026-10-30\nINSET,INSET day,2026-11-27,2026-11-27\n"
	if status, body := admin.do("POST", terms, csvBody(cal), nil); status != 200 || !strings.Contains(string(body), "INSET day") {
		t.Fatalf("calendar CSV: %d %s", status, body)
	}
	if status, body := admin.do("POST", terms, csvBody(cal+"bank holiday,Boxing day,2026-12-28,2026-12-28\n"), nil); status != 422 ||
		!strings.Contains(string(body), `"code":"outside_term"`) || !strings.Contains(string(body), `"row":5`) {
		t.Fatalf("a holiday outside every term: %d %s", status, body)
	}
	if status, body := admin.do("GET", terms, nil, nil); status != 200 || strings.Count(string(body), "starts_on") != 3 {
		t.Fatalf("refused calendar changed the stored one: %d %s", status, body)
	}
}
