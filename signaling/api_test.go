package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"seatlink/people"
	"seatlink/plans"
)

func TestOpenAPIListsExactlyTheRoutes(t *testing.T) {
	w := newAPIWorld(t)
	c := w.client(t)
	status, body := c.do("GET", "/api/v1/openapi.json", nil, nil)
	if status != 200 {
		t.Fatalf("openapi: %d", status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var o struct {
				Roles []string `json:"x-roles"`
			}
			if json.Unmarshal(op, &o) != nil || len(o.Roles) == 0 {
				t.Errorf("%s %s lists no roles", method, path)
			}
		}
	}
	s := New(Config{}, Deps{People: w.ps, Links: nil, Logger: quietLog()})
	var served []string
	for _, r := range s.engine.Routes() {
		if strings.HasPrefix(r.Path, "/api/") {
			served = append(served, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
		}
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Fatalf("documented:\n%s\n\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
}

// TestPermissionWalk calls every route of the document as every role,
// with no session, and from another LA: each answer is 2xx (only for the
// roles the document lists), or 401/403/404 — never another LA's data.
// Write routes get a plausible body; refusals must change nothing.
func TestPermissionWalk(t *testing.T) {
	probe := newAPIWorld(t)
	c := probe.client(t)
	_, body := c.do("GET", "/api/v1/openapi.json", nil, nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	actors := []string{"none", "admin2", "teacher2", "ewo2", "pupil2", "parent1", "pupil1", "ewo1", "teacher1", "admin1"}
	roleOf := func(actor string) string { return strings.TrimRight(actor, "12") }
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method, path, op := strings.ToUpper(method), path, op
			t.Run(method+" "+path, func(t *testing.T) {
				// A fresh world per route: the allowed call may change it.
				w := newAPIWorld(t)
				concrete := path
				for name, id := range map[string]string{"{school}": w.ids["school"], "{staff}": w.ids["ewo"],
					"{pupil}": w.ids["pupil"], "{link}": w.ids["link"], "{device}": w.ids["device"], "{classroom}": w.ids["classroom"],
					"{plan}": w.ids["plan"], "{phase}": w.ids["phase"], "{material}": w.ids["material"],
					"{barrier}": w.ids["barrier"], "{support}": w.ids["support"], "{on}": "2027-01-15"} {
					concrete = strings.ReplaceAll(concrete, name, id)
				}
				if strings.HasSuffix(path, "/caseload") {
					concrete = strings.ReplaceAll(path, "{staff}", w.ids["ewo"])
				}
				if strings.HasSuffix(path, "/classrooms") && strings.HasPrefix(path, "/api/v1/staff") {
					concrete = strings.ReplaceAll(path, "{staff}", w.ids["staff"])
				}
				if method == "POST" && strings.HasSuffix(path, "/materials") && strings.HasPrefix(path, "/api/v1/classrooms") {
					concrete += "?title=Walk&lesson_date=2026-11-23&filename=walk.txt"
				}
				allowed := map[string]bool{}
				for _, r := range op.Roles {
					allowed[r] = true
				}
				for _, actor := range actors {
					cl := w.signIn(t, actor)
					status, out := cl.do(method, concrete, walkBody(method, path, w), nil)
					public := allowed["public"]
					switch {
					case public:
						// Public routes answer anyone; sign-in bodies are the probe's.
					case actor == "none":
						if status != 401 {
							t.Errorf("no session: %d %s, want 401", status, out)
						}
					case !allowed[roleOf(actor)]:
						if status != 403 {
							t.Errorf("%s (role not listed): %d %s, want 403", actor, status, out)
						}
					case status >= 200 && status < 300, status == 401, status == 403, status == 404:
					case status == 409 && strings.Contains(string(out), "stale_version"):
						// Another actor of the walk changed the plan first: a clear answer, in scope.
					case status == 409 && strings.Contains(string(out), "device_offline"):
						// A command to a device that is not connected: a clear answer, in scope.
					default:
						t.Errorf("%s: %d %s, want 2xx/401/403/404", actor, status, out)
					}
					if status >= 200 && status < 300 && !public && !allowed[roleOf(actor)] {
						t.Errorf("%s got %d from a route its role may not use", actor, status)
					}
					if strings.HasSuffix(actor, "1") && status < 300 {
						for _, id := range w.foreign {
							if bytes.Contains(out, []byte(id)) {
								t.Errorf("%s saw another LA's record %s: %s", actor, id, out)
							}
						}
					}
					if strings.HasSuffix(actor, "2") && status < 300 && strings.Contains(concrete, w.ids["pupil"]) {
						t.Errorf("%s reached LA 1's pupil: %d %s", actor, status, out)
					}
				}
			})
		}
	}
}

// walkBody is a well-formed body for each write route.
func walkBody(method, path string, w *apiWorld) any {
	if strings.HasSuffix(path, "/import") {
		return csvBody("upn,name,year\nW" + time.Now().Format("150405000000") + ",Walker,4\n")
	}
	if strings.HasSuffix(path, "/timetable") {
		return csvBody("weekday,start,end,kind,session\nMon,09:00,10:00,lesson,AM\n")
	}
	if strings.HasSuffix(path, "/register") {
		return csvBody("UPN,Date,Session,Mark\nP1,2026-11-23,AM,/\n")
	}
	if method == "POST" && strings.HasSuffix(path, "/terms") {
		return csvBody("kind,name,starts_on,ends_on\nterm,Autumn,2026-09-03,2026-12-18\nhalf term,Half term,2026-10-26,2026-10-30\n")
	}
	if strings.HasSuffix(path, "/marks") {
		return map[string]string{"day": "2026-11-23", "session": "PM", "code": "I"}
	}
	if method == "POST" && strings.HasSuffix(path, "/materials") && strings.HasPrefix(path, "/api/v1/classrooms") {
		return "Plain words of a worksheet."
	}
	if method == "GET" || method == "DELETE" {
		return nil
	}
	if strings.HasSuffix(path, "/plans") || path == "/api/v1/plans/{plan}" {
		return plans.Input{StartsOn: "2026-11-02", EndsOn: "2027-02-12", Version: 1,
			Phases: []plans.Phase{{Name: "Walk", StartsOn: "2026-11-02", EndsOn: "2027-02-12", SchoolSessions: 3}}}
	}
	if strings.HasSuffix(path, "/notes") {
		return map[string]string{"text": "A note from the walk."}
	}
	if path == "/api/v1/session/language" {
		return map[string]string{"lang": "cy"}
	}
	if strings.HasSuffix(path, "/key-adult") {
		return map[string]string{"staff_id": w.ids["staff"], "contact": "Ring the office"}
	}
	if strings.HasSuffix(path, "/messages") {
		return map[string]string{"body": "A message from the walk."}
	}
	if strings.HasSuffix(path, "/return-check-ins") {
		return map[string]string{"reason": "present:2026-11-23:AM"}
	}
	if strings.HasSuffix(path, "/check-ins") {
		return map[string]any{"feeling": 4, "words": "ok"}
	}
	if strings.HasSuffix(path, "/barriers") {
		return map[string]string{"kind": "anxiety", "named_by": "pupil", "words": "noise"}
	}
	if strings.HasSuffix(path, "/support") {
		return map[string]string{"action": "Quiet room", "owner": "Key adult", "due_on": "2027-01-10"}
	}
	if strings.HasSuffix(path, "/status") {
		return map[string]string{"status": "done"}
	}
	if strings.HasSuffix(path, "/contacts") {
		return map[string]any{"kind": "call", "held_on": "2026-12-01", "participants": []string{"parent", "ewo"}}
	}
	if strings.HasSuffix(path, "/voice") {
		return map[string]string{"words": "Mornings first"}
	}
	if strings.HasSuffix(path, "/record") {
		return map[string]any{"participants": []string{"pupil", "ewo"}, "decided": "Carry on"}
	}
	if strings.HasPrefix(path, "/api/v1/plan-phases") {
		return map[string]string{"material_id": w.ids["material"]}
	}
	year := 3
	switch {
	case path == "/api/v1/session", path == "/api/v1/parent/session":
		return map[string]string{"email": "nobody@x.test", "password": "wrong password!"}
	case path == "/api/v1/parent/invitation":
		return map[string]string{"token": "not-a-token", "password": "another long password"}
	case path == "/api/v1/pupil/session":
		return map[string]string{"code": "AAAA-BBBB"}
	case path == "/api/v1/schools", strings.HasSuffix(path, "/classrooms") && strings.HasPrefix(path, "/api/v1/schools"):
		return map[string]string{"name": "New " + time.Now().Format("150405.000000")}
	case path == "/api/v1/staff":
		return people.StaffInput{Role: people.RoleTeacher, Email: "new" + time.Now().Format("150405.000000") + "@x.test",
			Name: "New", SchoolID: w.ids["school"], Password: apiPassword}
	case strings.HasSuffix(path, "/password"):
		return map[string]string{"password": "a reset long password"}
	case strings.HasSuffix(path, "/caseload"):
		return map[string]string{"pupil_id": w.ids["pupil_b"]}
	case strings.HasPrefix(path, "/api/v1/staff") && strings.HasSuffix(path, "/classrooms"):
		return map[string]string{"classroom_id": w.ids["classroom_b"]}
	case strings.HasSuffix(path, "/classroom"):
		return map[string]string{"classroom_id": w.ids["classroom"]}
	case path == "/api/v1/pupils":
		return people.PupilInput{SchoolID: w.ids["school"], PupilNumber: "N" + time.Now().Format("150405000000"),
			DisplayName: "New", YearGroup: &year}
	case path == "/api/v1/parents":
		return people.ParentInput{Email: "p" + time.Now().Format("150405.000000") + "@x.test", Name: "P", PupilIDs: []string{w.ids["pupil"]}}
	case strings.HasSuffix(path, "/join-links"):
		return map[string]int{"lifetime_hours": 2}
	case path == "/api/v1/devices/enroll":
		return map[string]string{"code": "AAAA-BBBB"}
	case path == "/api/v1/devices":
		return map[string]string{"kind": "robot", "name": "Robot " + time.Now().Format("150405.000000")}
	case strings.HasSuffix(path, "/loan"):
		return map[string]string{"school_id": w.ids["school"], "from": "2026-11-24", "to": "2027-07-20"}
	case strings.HasSuffix(path, "/pupil"):
		return map[string]string{"pupil_id": w.ids["pupil"]}
	case strings.HasSuffix(path, "/commands"):
		return map[string]string{"command": "sleep"}
	case strings.HasSuffix(path, "/enrollment-code"):
		return map[string]string{}
	}
	return map[string]string{}
}

func TestCSRFAndOrigin(t *testing.T) {
	w := newAPIWorld(t)
	c := w.signIn(t, "admin1")
	good := c.csrf
	for _, tc := range []struct {
		name   string
		csrf   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"no token", "", nil, 403, "csrf"},
		{"wrong token", "x" + good, nil, 403, "csrf"},
		{"other site", good, map[string]string{"Origin": "https://evil.example"}, 403, "cross_origin"},
		{"right token", good, nil, 201, ""},
	} {
		c.csrf = tc.csrf
		status, body := c.do("POST", "/api/v1/schools", map[string]string{"name": "School " + tc.name}, tc.hdr)
		if status != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	// Sign-in from another site is refused too (login CSRF).
	status, body := w.client(t).do("POST", "/api/v1/session", map[string]string{"email": w.passwords["admin1"], "password": apiPassword},
		map[string]string{"Origin": "https://evil.example"})
	if status != 403 || errCode(body) != "cross_origin" {
		t.Errorf("cross-site sign-in: %d %s", status, body)
	}
}

// Every write route refuses malformed, wrongly typed and oversized bodies
// with a stable code, and nothing changes.
func TestEveryWriteRouteRefusesBadBodies(t *testing.T) {
	w := newAPIWorld(t)
	admin := w.signIn(t, "admin1")
	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{"/api/v1/pupils", "/api/v1/staff", "/api/v1/schools", "/api/v1/pupils/" + w.ids["pupil"] + "/join-links"} {
			_, body := admin.do("GET", p, nil, nil)
			b.Write(body)
		}
		return b.String()
	}
	before := snapshot()
	s := New(Config{}, Deps{People: w.ps, Logger: quietLog()})
	for _, r := range s.apiRoutes() {
		if (r.Method != "POST" && r.Method != "PUT") || r.Body == "" {
			continue
		}
		path := strings.NewReplacer(":school", w.ids["school"], ":staff", w.ids["ewo"], ":pupil", w.ids["pupil"],
			":device", w.ids["device"]).Replace(r.Path)
		for _, tc := range []struct {
			name string
			body any
		}{
			{"malformed", `{"name":`},
			{"wrong type", `[1,2,3]`},
			{"oversized", `{"name":"` + strings.Repeat("x", maxJSONBody) + `"}`},
		} {
			status, body := admin.do(r.Method, path, tc.body, nil)
			code := errCode(body)
			ok := status >= 400 && status < 500 && code != ""
			if strings.HasSuffix(r.Path, "/import") || strings.HasSuffix(r.Path, "/timetable") || strings.HasSuffix(r.Path, "/register") {
				ok = status == 415 && code == "bad_content_type"
			}
			if !ok {
				t.Errorf("POST %s, %s body: %d %s, want a 4xx with a code", r.Path, tc.name, status, body)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Fatal("refused writes changed the records")
	}
}

// A request body that trickles in is cut off at its deadline (the grace,
// plus what its progress earns), so slow bodies cannot hold connections
// open; a body that keeps up is read whole.
func TestSlowBodyIsCutOff(t *testing.T) {
	w := newAPIWorld(t)
	s := New(Config{BodyGrace: 300 * time.Millisecond, MinBodyRate: 1 << 10}, Deps{People: w.ps, Logger: quietLog()})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	post := func(body string, trickle time.Duration) (time.Duration, string) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		go func() {
			if trickle == 0 {
				_, _ = conn.Write([]byte(body))
				return
			}
			for i := 0; i < len(body); i++ {
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					return
				}
				time.Sleep(trickle)
			}
		}()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		out, _ := io.ReadAll(conn)
		return time.Since(start), string(out)
	}
	body := `{"email":"nobody@example.org","password":"a long enough password"}`
	// A byte every 200 ms: 66 bytes would take 13 s; cut off near 0.3 s.
	if took, _ := post(body, 200*time.Millisecond); took > 3*time.Second {
		t.Errorf("a trickling body held the connection %s", took)
	}
	// The same body at once is read and answered.
	if _, out := post(body, 0); !strings.Contains(out, "bad_credentials") {
		t.Errorf("a prompt body: %q", out)
	}
}

// A refused request leaves a trace: another LA's pupil is answered as not
// found, and counted (and logged) as a refusal by scope; a role that may
// never do an action is counted by role.
func TestRefusalsAreCounted(t *testing.T) {
	w := newAPIWorld(t)
	count := func(reason string) float64 {
		mfs, err := w.metrics.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "seatlink_api_refused_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() == reason {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	admin2 := w.signIn(t, "admin2")
	if status, _ := admin2.do("GET", "/api/v1/pupils/"+w.ids["pupil"], nil, nil); status != 404 {
		t.Fatalf("another LA's pupil: %d", status)
	}
	if status, _ := admin2.do("GET", "/api/v1/pupils/pu-does-not-exist", nil, nil); status != 404 {
		t.Fatalf("no such pupil: %d", status)
	}
	teacher := w.signIn(t, "teacher1")
	if status, _ := teacher.do("GET", "/api/v1/audit", nil, nil); status != 403 {
		t.Fatalf("a teacher reading the audit log: %d", status)
	}
	if got := count("scope"); got != 1 {
		t.Errorf("%v refusals by scope, want 1 (a missing record is no refusal)", got)
	}
	if got := count("role"); got != 1 {
		t.Errorf("%v refusals by role, want 1", got)
	}
}
