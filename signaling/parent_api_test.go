package signaling

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"seatlink/engagement"
)

// A parent reads their own child's week and term (the figures the parent
// page puts in words), and no other family's child: pupil 1b, in the same
// school, is refused as not found, as is a pupil of another LA.
func TestParentOverviewOwnChildOnly(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	school := "/api/v1/schools/" + w.ids["school"]
	if status, body := admin.do("POST", school+"/timetable", csvBody("weekday,start,end,kind,session\n"+
		"Mon,09:00,12:00,lesson,AM\nMon,13:00,15:00,lesson,PM\nTue,09:00,12:00,lesson,AM\nTue,13:00,15:00,lesson,PM\n"), nil); status != 200 {
		t.Fatalf("timetable: %d %s", status, body)
	}
	if status, body := admin.do("PUT", school+"/terms", map[string]any{"terms": []engagement.Term{
		{Name: "Autumn", StartsOn: "2026-11-02", EndsOn: "2026-12-18"}}}, nil); status != 200 {
		t.Fatalf("terms: %d %s", status, body)
	}
	for _, m := range []struct{ day, session, code string }{
		{"2026-11-16", "AM", "/"}, {"2026-11-16", "PM", "I"}, {"2026-11-17", "AM", "/"}, {"2026-11-17", "PM", "/"},
		{"2026-11-23", "AM", "/"}, {"2026-11-23", "PM", "C2"},
	} {
		if status, body := admin.do("POST", "/api/v1/pupils/"+w.ids["pupil"]+"/marks", map[string]string{"day": m.day,
			"session": m.session, "code": m.code}, nil); status != 200 {
			t.Fatalf("mark %v: %d %s", m, status, body)
		}
	}
	parent := w.signIn(t, "parent1")
	status, body := parent.do("GET", "/api/v1/pupils/"+w.ids["pupil"]+"/overview?through=2026-11-24", nil, nil)
	var o PupilOverview
	if err := json.Unmarshal(body, &o); status != 200 || err != nil {
		t.Fatalf("overview: %d %s", status, body)
	}
	// This week: Monday marked (in school, then absent), Tuesday not.
	wk := o.Week
	if o.PupilID != w.ids["pupil"] || o.WeekMonday != "2026-11-23" || o.Through != "2026-11-24" ||
		wk.PossibleSessions != 4 || wk.MarkedSessions != 2 || wk.OnSiteSessions != 1 || wk.AbsentSessions != 1 || wk.UnmarkedSessions != 2 {
		t.Errorf("this week: %s", body)
	}
	// The term so far: three weeks of two days, five marked sessions in school of seven.
	term := o.TermToDate
	if o.TermStart != "2026-11-02" || o.Term != "Autumn" || term.MarkedSessions != 6 || term.OnSiteSessions != 4 ||
		term.AttendancePct == nil || *term.AttendancePct < 66 || *term.AttendancePct > 67 {
		t.Errorf("term to date: %s", body)
	}
	if strings.Contains(string(body), `"sessions"`) {
		t.Errorf("the overview carries per-session detail: %s", body)
	}
	// Another family's child, another LA's: not found, and nothing of theirs.
	if status, body := parent.do("GET", "/api/v1/pupils/"+w.ids["pupil_b"]+"/overview", nil, nil); status != 404 ||
		strings.Contains(string(body), "Pupil 1b") {
		t.Errorf("another family's pupil: %d %s, want 404", status, body)
	}
	for _, id := range w.foreign {
		if status, _ := parent.do("GET", "/api/v1/pupils/"+id+"/overview", nil, nil); status != 404 {
			t.Errorf("another LA's record %s: %d, want 404", id, status)
		}
	}
	// A pupil signed in on their device is refused their classmate's.
	if status, _ := w.signIn(t, "pupil1").do("GET", "/api/v1/pupils/"+w.ids["pupil_b"]+"/overview", nil, nil); status != 404 {
		t.Errorf("a pupil reading a classmate's overview: %d, want 404", status)
	}
}

// The CSV downloads are named for what they hold: the pupil's number and
// the dates of the weeks, the caseload's dates; a pupil number with odd
// characters cannot break the header.
func TestEWOCSVDownloadNames(t *testing.T) {
	w := newAPIWorld(t)
	ewo := w.signIn(t, "ewo1")
	head := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ewo.base+path, nil)
		resp, err := ewo.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Content-Disposition")
	}
	for path, want := range map[string]string{
		"/api/v1/pupils/" + w.ids["pupil"] + "/history?through=2026-11-20&weeks=6&format=csv":  `attachment; filename="seatlink-P1-2026-10-12-to-2026-11-20.csv"`,
		"/api/v1/pupils/" + w.ids["pupil"] + "/history?through=2026-11-20&weeks=12&format=csv": `attachment; filename="seatlink-P1-2026-08-31-to-2026-11-20.csv"`,
		"/api/v1/caseload?through=2026-11-20&weeks=6&format=csv":                               `attachment; filename="seatlink-caseload-2026-10-12-to-2026-11-20.csv"`,
	} {
		if status, got := head(path); status != 200 || got != want {
			t.Errorf("%s: %d %q, want %q", path, status, got, want)
		}
	}
	for number, want := range map[string]string{
		`A1/2"; x=.csv`: "seatlink-A1_2_x_.csv-2026-11-16-to-2026-11-20.csv",
		"../..":         "seatlink-pupil-2026-11-16-to-2026-11-20.csv",
		"Ysgol-Ŵ 7":     "seatlink-Ysgol-_7-2026-11-16-to-2026-11-20.csv",
	} {
		if got := downloadName(number, "2026-11-16", "2026-11-20"); got != want {
			t.Errorf("number %q: %q, want %q", number, got, want)
		}
	}
}
