package signaling

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"seatlink/casework"
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

// Check in on return through the API: the pupil marked present after
// three absences is listed for their key adult (a teacher) and no one
// else; an EWO with no classroom, once named key adult, sees a new one
// too; bad input is refused and changes nothing; done is not listed again.
func TestTodayCheckInsAPI(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	day := func(n int) string { return time.Now().In(london).AddDate(0, 0, n).Format(time.DateOnly) }
	mark := func(pupil, d, session, code string) {
		t.Helper()
		if status, body := admin.do("POST", "/api/v1/pupils/"+pupil+"/marks", map[string]string{"day": d, "session": session, "code": code}, nil); status >= 300 {
			t.Fatalf("mark: %d %s", status, body)
		}
	}
	pupil := w.ids["pupil"]
	mark(pupil, day(-3), "AM", "I")
	mark(pupil, day(-3), "PM", "I")
	mark(pupil, day(-2), "AM", "N")
	mark(pupil, day(-2), "PM", "/")
	type prompts struct {
		CheckIns []casework.ReturnPrompt `json:"check_ins"`
	}
	get := func(c *apiClient) (int, prompts, []byte) {
		t.Helper()
		status, body := c.do("GET", "/api/v1/today/check-ins", nil, nil)
		var p prompts
		if status == 200 {
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
		}
		return status, p, body
	}
	reason := "present:" + day(-2) + ":PM"
	teacher := w.signIn(t, "teacher1")
	status, p, body := get(teacher)
	if status != 200 || len(p.CheckIns) != 1 || p.CheckIns[0].Reason != reason || p.CheckIns[0].PupilName != "Pupil 1" ||
		p.CheckIns[0].Kind != casework.ReturnAfterAbsences || p.CheckIns[0].Absence == nil || p.CheckIns[0].Absence.Absences != 3 {
		t.Fatalf("the key adult's check-ins: %d %s", status, body)
	}
	ewo := w.signIn(t, "ewo1")
	for _, actor := range []string{"ewo1", "admin1", "teacher2", "admin2", "ewo2"} {
		if status, p, body := get(w.signIn(t, actor)); status != 200 || len(p.CheckIns) != 0 {
			t.Errorf("%s (no one's key adult): %d %s", actor, status, body)
		}
	}
	for actor, want := range map[string]int{"none": 401, "parent1": 403, "pupil1": 403} {
		if status, _, body := get(w.signIn(t, actor)); status != want {
			t.Errorf("%s: %d %s, want %d", actor, status, body, want)
		}
	}
	done := func(c *apiClient, pupil string, body any) (int, []byte) {
		t.Helper()
		return c.do("POST", "/api/v1/pupils/"+pupil+"/return-check-ins", body, nil)
	}
	for _, tc := range []struct {
		name   string
		actor  string
		pupil  string
		body   any
		status int
		code   string
	}{
		{"not JSON", "teacher1", pupil, "{reason", 400, "bad_json"},
		{"no reason", "teacher1", pupil, map[string]string{}, 400, "invalid"},
		{"a reason not like one", "teacher1", pupil, map[string]string{"reason": "present:yesterday"}, 400, "invalid"},
		{"a session not AM or PM", "teacher1", pupil, map[string]string{"reason": "present:" + day(-2) + ":EVE"}, 400, "invalid"},
		{"too long", "teacher1", pupil, map[string]string{"reason": "phase:" + strings.Repeat("x", 200)}, 400, "invalid"},
		{"a number for the reason", "teacher1", pupil, map[string]int{"reason": 3}, 400, "bad_type"},
		{"an absence, not the return", "teacher1", pupil, map[string]string{"reason": "present:" + day(-3) + ":AM"}, 404, "not_found"},
		{"no such phase", "teacher1", pupil, map[string]string{"reason": "phase:ph-nothing"}, 404, "not_found"},
		{"another pupil", "teacher1", w.ids["pupil_b"], map[string]string{"reason": reason}, 404, "not_found"},
		{"another LA's pupil", "teacher1", w.foreign[6], map[string]string{"reason": reason}, 404, "not_found"},
		{"no such pupil", "teacher1", "pupil-nothing", map[string]string{"reason": reason}, 404, "not_found"},
		{"the EWO, not the key adult", "ewo1", pupil, map[string]string{"reason": reason}, 404, "not_found"},
		{"an admin, not the key adult", "admin1", pupil, map[string]string{"reason": reason}, 404, "not_found"},
		{"another LA's teacher", "teacher2", pupil, map[string]string{"reason": reason}, 404, "not_found"},
		{"a parent", "parent1", pupil, map[string]string{"reason": reason}, 403, "forbidden"},
		{"the pupil", "pupil1", pupil, map[string]string{"reason": reason}, 403, "forbidden"},
	} {
		c := teacher
		if tc.actor != "teacher1" {
			c = w.signIn(t, tc.actor)
		}
		if status, body := done(c, tc.pupil, tc.body); status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	if _, p, body := get(teacher); len(p.CheckIns) != 1 {
		t.Fatalf("a refusal changed the list: %s", body)
	}
	var d casework.ReturnDone
	status, body = done(teacher, pupil, map[string]string{"reason": reason})
	if status != 200 || json.Unmarshal(body, &d) != nil || d.Reason != reason || d.DoneBy != w.ids["staff"] {
		t.Fatalf("marked done: %d %s", status, body)
	}
	if _, p, body := get(teacher); len(p.CheckIns) != 0 {
		t.Fatalf("listed after done: %s", body)
	}
	// Done stays done, even for a new key adult: an EWO with no classroom,
	// whose Today has no classrooms (403) but whose check-ins are theirs.
	if status, body := admin.do("PUT", "/api/v1/pupils/"+pupil+"/key-adult", map[string]string{"staff_id": w.ids["ewo"]}, nil); status != 200 {
		t.Fatalf("key adult: %d %s", status, body)
	}
	if status, p, body := get(ewo); status != 200 || len(p.CheckIns) != 0 {
		t.Fatalf("the new key adult sees the done one: %d %s", status, body)
	}
	mark(pupil, day(-1), "AM", "I")
	mark(pupil, day(-1), "PM", "I")
	mark(pupil, day(0), "AM", "O")
	mark(pupil, day(0), "PM", "L")
	if status, p, body := get(ewo); status != 200 || len(p.CheckIns) != 1 || p.CheckIns[0].Reason != "present:"+day(0)+":PM" {
		t.Fatalf("the EWO key adult's check-ins: %d %s", status, body)
	}
	if status, _, _ := get(ewo); status != 200 {
		t.Fatal(status)
	}
	if status, _ := ewo.do("GET", "/api/v1/today", nil, nil); status != 403 {
		t.Errorf("the EWO's classrooms today: %d, want 403 (they have none)", status)
	}
	if _, p, body := get(teacher); len(p.CheckIns) != 0 {
		t.Errorf("the former key adult still sees check-ins: %s", body)
	}
	// Marking done is audited.
	_, body = admin.do("GET", "/api/v1/audit?pupil="+pupil, nil, nil)
	var entries []struct {
		ActorID string `json:"actor_id"`
		Action  string `json:"action"`
		Detail  string `json:"detail"`
	}
	_ = json.Unmarshal(body, &entries)
	n := 0
	for _, e := range entries {
		if e.Action == string(casework.ActReturnDone) && e.ActorID == w.ids["staff"] && e.Detail == reason {
			n++
		}
	}
	if n != 1 {
		t.Errorf("marking done audited %d times: %s", n, body)
	}
}
