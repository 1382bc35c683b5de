package signaling

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"seatlink/casework"
	"seatlink/engagement"
)

// Who may name a pupil's key adult gets the staff they may choose from
// (the pupil's school's staff and the LA's EWOs and admins, never another
// LA's); parents, pupils and staff outside the pupil's scope get nothing.
func TestKeyAdultCandidatesRoute(t *testing.T) {
	w := newAPIWorld(t)
	path := "/api/v1/pupils/" + w.ids["pupil"] + "/key-adult/candidates"
	for _, actor := range []string{"teacher1", "ewo1", "admin1"} {
		status, body := w.signIn(t, actor).do("GET", path, nil, nil)
		var got []casework.Candidate
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("%s: %d %s", actor, status, body)
		}
		ids := map[string]bool{}
		current := ""
		for _, c := range got {
			ids[c.StaffID] = true
			if c.Current {
				current = c.StaffID
			}
		}
		if len(got) != 3 || !ids[w.ids["staff"]] || !ids[w.ids["ewo"]] || current != w.ids["staff"] {
			t.Errorf("%s: candidates %s", actor, body)
		}
		for _, id := range w.foreign {
			if strings.Contains(string(body), id) {
				t.Errorf("%s: another LA's record %s offered: %s", actor, id, body)
			}
		}
	}
	for actor, want := range map[string]int{"parent1": 403, "pupil1": 403, "teacher2": 404, "ewo2": 404, "admin2": 404} {
		if status, body := w.signIn(t, actor).do("GET", path, nil, nil); status != want {
			t.Errorf("%s: %d %s, want %d", actor, status, body, want)
		}
	}
	// Pupil 1b is on no EWO's caseload.
	if status, _ := w.signIn(t, "ewo1").do("GET", "/api/v1/pupils/"+w.ids["pupil_b"]+"/key-adult/candidates", nil, nil); status != 404 {
		t.Errorf("an EWO lists candidates for a pupil off their caseload: %d", status)
	}
}

// The caseload names each pupil's key adult and flags a pupil with none,
// in its JSON and as the last column of its CSV (the columns before it
// unchanged).
func TestCaseloadKeyAdultColumn(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	status, body := admin.do("GET", "/api/v1/caseload?through=2026-11-24&weeks=4", nil, nil)
	var cl engagement.Caseload
	if status != 200 || json.Unmarshal(body, &cl) != nil {
		t.Fatalf("caseload: %d %s", status, body)
	}
	if len(cl.Columns) != 21 || cl.Columns[engagement.ColKeyAdult] != "Key adult" || cl.Columns[engagement.ColTrend] != "Education engagement by week from "+cl.From {
		t.Fatalf("columns %q", cl.Columns)
	}
	rows := map[string]engagement.CaseloadRow{}
	for _, r := range cl.Rows {
		rows[r.PupilID] = r
	}
	if r := rows[w.ids["pupil"]]; r.KeyAdult != "T" || r.NoKeyAdult || r.Cells[engagement.ColKeyAdult] != "T" {
		t.Errorf("pupil 1 (key adult T): %+v %q", r.KeyAdult, r.Cells)
	}
	if r := rows[w.ids["pupil_b"]]; r.KeyAdult != "" || !r.NoKeyAdult || r.Cells[engagement.ColKeyAdult] != "no key adult" {
		t.Errorf("pupil 1b (none): %v %q", r.NoKeyAdult, r.Cells)
	}
	status, body = admin.do("GET", "/api/v1/caseload?through=2026-11-24&weeks=4&format=csv", nil, nil)
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if status != 200 || err != nil || len(recs) != 3 {
		t.Fatalf("CSV: %d %v %s", status, err, body)
	}
	if strings.Join(recs[0], "|") != strings.Join(cl.Columns, "|") {
		t.Errorf("CSV header %q, JSON %q", recs[0], cl.Columns)
	}
	for _, r := range recs[1:] {
		want := map[string]string{"P1": "T", "P1b": "no key adult"}[r[0]]
		if len(r) != 21 || r[engagement.ColKeyAdult] != want {
			t.Errorf("CSV row %q: key adult %q", r, want)
		}
	}
}
