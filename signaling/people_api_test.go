package signaling

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"seatlink/people"
)

func TestJoinLinksOverHTTP(t *testing.T) {
	w := newAPIWorld(t)
	teacher := w.signIn(t, "teacher1")
	status, body := teacher.do("POST", "/api/v1/pupils/"+w.ids["pupil"]+"/join-links", map[string]int{"lifetime_hours": 1}, nil)
	if status != 201 {
		t.Fatalf("issue: %d %s", status, body)
	}
	var issued struct {
		JoinLink struct{ ID string } `json:"join_link"`
		URL      string              `json:"url"`
		Code     string              `json:"code"`
	}
	_ = json.Unmarshal(body, &issued)
	token := issued.URL[strings.Index(issued.URL, "#")+1:]
	device := w.client(t)
	if status, body := device.do("POST", "/api/v1/pupil/session", map[string]string{"code": issued.Code}, nil); status != 200 {
		t.Fatalf("code: %d %s", status, body)
	}
	if status, body := w.client(t).do("POST", "/api/v1/pupil/session", map[string]string{"code": issued.Code}, nil); status != 410 || errCode(body) != "expired" {
		t.Fatalf("reused code: %d %s", status, body)
	}
	if status, _ := device.do("GET", "/api/v1/pupils/"+w.ids["pupil"], nil, nil); status != 200 {
		t.Fatalf("pupil sees own record: %d", status)
	}
	if status, _ := device.do("GET", "/api/v1/pupils/"+w.ids["pupil_b"], nil, nil); status != 404 {
		t.Fatalf("pupil sees a classmate: %d", status)
	}
	if status, body := teacher.do("DELETE", "/api/v1/join-links/"+issued.JoinLink.ID, nil, nil); status != 200 {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if status, _ := device.do("GET", "/api/v1/session", nil, nil); status != 401 {
		t.Fatal("device still signed in after its link was revoked")
	}
	if status, _ := w.client(t).do("POST", "/api/v1/pupil/session", map[string]string{"token": token}, nil); status != 410 {
		t.Fatal("revoked link still works")
	}
}

func TestBadInputOnWriteRoutes(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	count := func() int {
		_, body := admin.do("GET", "/api/v1/pupils", nil, nil)
		var list []json.RawMessage
		_ = json.Unmarshal(body, &list)
		return len(list)
	}
	before := count()
	huge := `{"school_id":"` + strings.Repeat("x", maxJSONBody) + `"}`
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"malformed JSON", "/api/v1/pupils", `{"school_id":`, 400, "bad_json"},
		{"trailing data", "/api/v1/pupils", `{} {}`, 400, "bad_json"},
		{"wrong type", "/api/v1/pupils", `{"year_group":"seven"}`, 400, "bad_type"},
		{"unknown field", "/api/v1/pupils", `{"shoe_size":3}`, 400, "unknown_field"},
		{"missing fields", "/api/v1/pupils", `{}`, 400, "invalid"},
		{"oversized", "/api/v1/pupils", huge, 413, "body_too_large"},
		{"duplicate pupil number", "/api/v1/pupils", `{"school_id":"` + w.ids["school"] + `","pupil_number":"P1","display_name":"Dup","year_group":4}`, 409, "conflict"},
		{"bad email", "/api/v1/staff", `{"role":"teacher","email":"not-an-email","name":"X","school_id":"` + w.ids["school"] + `","password":"` + apiPassword + `"}`, 400, "invalid"},
		{"bad role", "/api/v1/staff", `{"role":"headmaster","email":"h@x.test","name":"X","password":"` + apiPassword + `"}`, 400, "invalid"},
		{"weak password", "/api/v1/staff/" + w.ids["staff"] + "/password", `{"password":"123"}`, 400, "invalid"},
		{"empty school name", "/api/v1/schools", `{"name":"   "}`, 400, "invalid"},
		{"parent of nobody", "/api/v1/parents", `{"email":"q@x.test","name":"Q","pupil_ids":[]}`, 400, "invalid"},
		{"join link too long", "/api/v1/pupils/" + w.ids["pupil"] + "/join-links", `{"lifetime_hours":100000}`, 400, "invalid"},
	} {
		status, body := admin.do("POST", tc.path, tc.body, nil)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	if status, body := admin.do("POST", "/api/v1/pupils", "x", map[string]string{"Content-Type": "text/plain"}); status != 415 {
		t.Errorf("text body: %d %s", status, body)
	}
	if after := count(); after != before {
		t.Fatalf("refused writes changed the pupils: %d before, %d after", before, after)
	}
}

func TestImportOverHTTP(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	path := "/api/v1/schools/" + w.ids["school"] + "/pupils/import"
	status, body := admin.do("POST", path, csvBody("upn,name,year\nQ1,Quinn,4\nQ1,Quinn again,4\nQ2,,4\n"), nil)
	var failed struct {
		Error  struct{ Code string } `json:"error"`
		Report people.ImportReport   `json:"report"`
	}
	_ = json.Unmarshal(body, &failed)
	if status != 422 || failed.Error.Code != "import_failed" || len(failed.Report.Errors) != 2 ||
		failed.Report.Errors[0].Row != 3 || failed.Report.Errors[1].Row != 4 {
		t.Fatalf("bad import: %d %s", status, body)
	}
	status, body = admin.do("POST", path, csvBody("upn,name,year,class\nQ1,Quinn,4,4 Elm\nQ2,Rae,4,4 Elm\n"), nil)
	if status != 200 || !strings.Contains(string(body), `"pupils_created":2`) {
		t.Fatalf("good import: %d %s", status, body)
	}
	if status, body := admin.do("POST", path, `{"json":"no"}`, nil); status != 415 {
		t.Fatalf("JSON to the CSV route: %d %s", status, body)
	}
	// A file too long to import: refused at the row limit (too_many_rows)
	// or at 8 KiB of one line (line_too_long), never read whole.
	var b strings.Builder
	b.WriteString("upn,name,year\n")
	for i := 0; b.Len() <= maxCSVBody; i++ {
		fmt.Fprintf(&b, "X%d,Name,4\n", i)
	}
	if status, body := admin.do("POST", path, csvBody(b.String()), nil); status != 422 || !strings.Contains(string(body), `"code":"too_many_rows"`) {
		t.Fatalf("oversized CSV: %d %.200s", status, body)
	}
	long := "upn,name,year\nX," + strings.Repeat("Y", maxCSVBody-100) + ",4\n"
	if status, body := admin.do("POST", path, csvBody(long), nil); status != 422 || !strings.Contains(string(body), `"code":"line_too_long"`) {
		t.Fatalf("a 5 MB line: %d %.300s", status, body)
	}
}
