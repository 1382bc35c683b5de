package signaling

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"seatlink/materials"
	"seatlink/people"
	"seatlink/plans"
)

func TestMaterialsOverHTTP(t *testing.T) {
	w := newAPIWorld(t)
	teacher := w.signIn(t, "teacher1")
	up := "/api/v1/classrooms/" + w.ids["classroom"] + "/materials?title=Poem&lesson_date=2026-11-24&filename=poem.txt"
	status, body := teacher.do("POST", up, "Roses are red.\n", map[string]string{"Content-Type": "text/plain"})
	var mat materials.Material
	if err := json.Unmarshal(body, &mat); status != 201 || err != nil || mat.ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("upload: %d %s", status, body)
	}
	if status, body := teacher.do("POST", up, "<html><script>x()</script>", map[string]string{"Content-Type": "text/plain"}); status != 415 || errCode(body) != "unsupported_type" {
		t.Fatalf("HTML upload: %d %s", status, body)
	}
	if status, body := teacher.do("POST", strings.Replace(up, "lesson_date=2026-11-24", "lesson_date=tomorrow", 1), "x", nil); status != 400 {
		t.Fatalf("bad date: %d %s", status, body)
	}
	pupil := w.signIn(t, "pupil1")
	status, body = pupil.do("GET", "/api/v1/materials/"+mat.ID+"/link", nil, nil)
	var link materials.Link
	if err := json.Unmarshal(body, &link); status != 200 || err != nil || !strings.HasPrefix(link.URL, w.srv.URL+"/files/") {
		t.Fatalf("link: %d %s", status, body)
	}
	resp, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "Roses are red.\n" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d %q %v", resp.StatusCode, got, resp.Header)
	}
	for _, bad := range []string{strings.Replace(link.URL, "sig=", "sig=00", 1), strings.Replace(link.URL, "poem.txt", "other.txt", 1)} {
		resp, err := http.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("tampered link %s: %d, want 403", bad, resp.StatusCode)
		}
	}
	// Another LA's pupil gets nothing.
	other := w.signIn(t, "pupil2")
	if status, _ := other.do("GET", "/api/v1/materials/"+mat.ID+"/link", nil, nil); status != 404 {
		t.Fatalf("another LA's pupil: %d", status)
	}
}

// An EWO sees and moves only the material of their caseload: another
// pupil's plan material is neither listed, nor linked, nor attachable to
// a plan of theirs (moving it); a classroom with none of their pupils is
// not theirs to list; an empty pupil id is no listing.
func TestEWOMaterialOnlyOfTheirCaseload(t *testing.T) {
	w := newAPIWorld(t)
	admin, ewo := w.signIn(t, "admin1"), w.signIn(t, "ewo1")
	decode := func(status int, body []byte, v any) {
		t.Helper()
		if status >= 300 || json.Unmarshal(body, v) != nil {
			t.Fatalf("%d %s", status, body)
		}
	}
	var cls struct{ ID string }
	status, body := admin.do("POST", "/api/v1/schools/"+w.ids["school"]+"/classrooms", map[string]string{"name": "Third class"}, nil)
	decode(status, body, &cls)
	year := 6
	var other people.Pupil
	status, body = admin.do("POST", "/api/v1/pupils", people.PupilInput{SchoolID: w.ids["school"], ClassroomID: cls.ID, PupilNumber: "X9",
		DisplayName: "Not on the caseload", YearGroup: &year}, nil)
	decode(status, body, &other)
	var plan plans.Plan
	status, body = admin.do("POST", "/api/v1/pupils/"+other.ID+"/plans", plans.Input{StartsOn: "2026-11-02", EndsOn: "2027-02-12",
		Phases: []plans.Phase{{Name: "Theirs", StartsOn: "2026-11-02", EndsOn: "2027-02-12", SchoolSessions: 2}}}, nil)
	decode(status, body, &plan)
	var mat materials.Material
	status, body = admin.do("POST", "/api/v1/classrooms/"+cls.ID+"/materials?title=Private&lesson_date=2026-11-23&filename=p.txt",
		"Someone else's worksheet.", map[string]string{"Content-Type": "text/plain"})
	decode(status, body, &mat)
	if status, body := admin.do("POST", "/api/v1/plan-phases/"+plan.Phases[0].ID+"/materials", map[string]string{"material_id": mat.ID}, nil); status != 200 {
		t.Fatalf("attach as admin: %d %s", status, body)
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/classrooms/" + cls.ID + "/materials"},
		{"GET", "/api/v1/materials/" + mat.ID + "/link"},
		{"GET", "/api/v1/pupils//marks"},
		{"GET", "/api/v1/pupils//plans"},
	} {
		if status, body := ewo.do(tc.method, tc.path, nil, nil); status < 400 || status >= 500 || strings.Contains(string(body), mat.ID) {
			t.Errorf("EWO %s %s: %d %s, want a 4xx", tc.method, tc.path, status, body)
		}
	}
	// Moving it onto the EWO's own pupil's plan is refused, and it stays.
	if status, body := ewo.do("POST", "/api/v1/plan-phases/"+w.ids["phase"]+"/materials", map[string]string{"material_id": mat.ID}, nil); status != 404 {
		t.Errorf("EWO moving another pupil's material: %d %s, want 404", status, body)
	}
	status, body = admin.do("GET", "/api/v1/plans/"+plan.ID, nil, nil)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	status, body = admin.do("GET", "/api/v1/classrooms/"+cls.ID+"/materials", nil, nil)
	var list []materials.Material
	decode(status, body, &list)
	if len(list) != 1 || list[0].PhaseID != plan.Phases[0].ID {
		t.Errorf("the material moved: %+v", list)
	}
	// The EWO's own classroom's material is still theirs to list.
	if status, body := ewo.do("GET", "/api/v1/classrooms/"+w.ids["classroom"]+"/materials", nil, nil); status != 200 || !strings.Contains(string(body), w.ids["material"]) {
		t.Errorf("EWO listing their pupil's classroom: %d %s", status, body)
	}
}
