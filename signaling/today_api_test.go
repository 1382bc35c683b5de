package signaling

import (
	"encoding/json"
	"strings"
	"testing"
)

// The Today view's API: a teacher's classroom with its lessons from the
// timetable, the robot in it and its pupil; another day; refusals for
// bad input, other roles and other LAs; and an audit entry for the view.
func TestTodayAPI(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	var csv strings.Builder
	csv.WriteString("weekday,start,end,kind,session,name\n")
	for _, d := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		csv.WriteString(d + ",09:00,10:00,lesson,AM,Maths\n" + d + ",10:00,10:20,break,AM,Break\n" + d + ",10:20,11:20,lesson,AM,Welsh\n")
	}
	if status, body := admin.do("POST", "/api/v1/schools/"+w.ids["school"]+"/timetable", csvBody(csv.String()), nil); status != 200 {
		t.Fatalf("timetable: %d %s", status, body)
	}
	type day struct {
		Classrooms []todayClassroom `json:"classrooms"`
	}
	get := func(c *apiClient, query string) (int, day, []byte) {
		t.Helper()
		status, body := c.do("GET", "/api/v1/today"+query, nil, nil)
		var d day
		if status == 200 {
			if err := json.Unmarshal(body, &d); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		}
		return status, d, body
	}
	teacher := w.signIn(t, "teacher1")
	status, d, body := get(teacher, "")
	if status != 200 || len(d.Classrooms) != 1 {
		t.Fatalf("teacher's today: %d %s", status, body)
	}
	room := d.Classrooms[0]
	if room.ID != w.ids["classroom"] || room.Name != "Class" || !room.SchoolDay || len(room.Lessons) != 2 ||
		room.Lessons[0].Name != "Maths" || room.Lessons[1].Name != "Welsh" {
		t.Fatalf("classroom %+v", room)
	}
	if len(room.Seats) != 1 || room.Seats[0].DeviceID != w.ids["device"] || room.Seats[0].State != "offline" ||
		room.Seats[0].PupilName != "Pupil 1" || room.Seats[0].PupilIn {
		t.Fatalf("seats %+v", room.Seats)
	}
	// Another day, and one classroom asked for by id.
	if status, d, body := get(teacher, "?date=2026-11-23&classroom="+w.ids["classroom"]); status != 200 || len(d.Classrooms) != 1 ||
		d.Classrooms[0].Date != "2026-11-23" || !d.Classrooms[0].Lessons[0].From.Equal(d.Classrooms[0].Lessons[0].From) ||
		d.Classrooms[0].Lessons[0].From.Format("2006-01-02") != "2026-11-23" {
		t.Fatalf("a given day: %d %s", status, body)
	}
	// A day outside the school's terms has no lessons.
	terms := map[string]any{"terms": []map[string]any{{"name": "Spring", "starts_on": "2027-01-04", "ends_on": "2027-03-26",
		"holidays": []map[string]string{{"name": "Half term", "starts_on": "2027-02-15", "ends_on": "2027-02-19"}}}}}
	if status, body := admin.do("PUT", "/api/v1/schools/"+w.ids["school"]+"/terms", terms, nil); status != 200 {
		t.Fatalf("terms: %d %s", status, body)
	}
	for date, school := range map[string]bool{"2026-11-23": false, "2027-02-16": false, "2027-02-22": true} {
		status, d, body := get(teacher, "?date="+date)
		if status != 200 || len(d.Classrooms) != 1 || d.Classrooms[0].SchoolDay != school || (len(d.Classrooms[0].Lessons) == 2) != school {
			t.Errorf("%s (school day %v): %d %s", date, school, status, body)
		}
	}
	// An admin (no classrooms of their own) sees the classrooms with robots.
	if status, d, body := get(admin, ""); status != 200 || len(d.Classrooms) != 1 || d.Classrooms[0].ID != w.ids["classroom"] {
		t.Fatalf("admin's today: %d %s", status, body)
	}
	for _, tc := range []struct {
		name, query string
		status      int
		code        string
	}{
		{"not a date", "?date=23/11/2026", 400, "invalid"},
		{"no such day", "?date=2026-02-30", 400, "invalid"},
		{"far future", "?date=3026-01-01", 400, "invalid"},
		{"not an id", "?classroom=a%20b", 400, "invalid"},
		{"too long", "?classroom=" + strings.Repeat("c", 101), 400, "invalid"},
		{"no such classroom", "?classroom=cls-nothing", 404, "not_found"},
		{"another LA's classroom", "?classroom=" + w.foreign[2], 404, "not_found"},
	} {
		status, _, body := get(teacher, tc.query)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	for actor, want := range map[string]int{"none": 401, "ewo1": 403, "parent1": 403, "pupil1": 403} {
		if status, _, body := get(w.signIn(t, actor), ""); status != want {
			t.Errorf("%s: %d %s, want %d", actor, status, body, want)
		}
	}
	if status, d, body := get(w.signIn(t, "teacher2"), ""); status != 200 || strings.Contains(string(body), w.ids["pupil"]) ||
		len(d.Classrooms) != 1 || d.Classrooms[0].ID == w.ids["classroom"] {
		t.Errorf("another LA's teacher: %d %s", status, body)
	}
	// The view named the pupil: the audit log says who saw it.
	_, body = admin.do("GET", "/api/v1/audit?pupil="+w.ids["pupil"], nil, nil)
	var entries []struct {
		ActorID string `json:"actor_id"`
		Action  string `json:"action"`
		Detail  string `json:"detail"`
	}
	_ = json.Unmarshal(body, &entries)
	seen := false
	for _, e := range entries {
		if e.ActorID == w.ids["staff"] && e.Action == "pupil.view" && e.Detail == "today" {
			seen = true
		}
	}
	if !seen {
		t.Errorf("no audit entry for the teacher's view: %s", body)
	}
}
