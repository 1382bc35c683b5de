package signaling

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/internal/store/storetest"
	"seatlink/internal/wire"
	"seatlink/materials"
	"seatlink/media"
	"seatlink/people"
	"seatlink/plans"
)

// apiWorld is two LAs. LA 1 has a school with a teacher, an EWO (with
// pupil 1 on the caseload), a parent of pupil 1, pupil 1 and pupil 1b; LA 2
// has its own school, admin, teacher and pupil.
type apiWorld struct {
	srv             *httptest.Server
	ps              *people.Store
	ids             map[string]string // names → ids used in paths
	foreign         []string          // ids of LA 2, never to be shown to LA 1's people
	passwords       map[string]string // actor → email/password, for signing in
	pupilToken      string
	otherPupilToken string
	parentEmail     string
	parentPassword  string
	robotToken      string // robot 1's device credential
	metrics         *prometheus.Registry
}

const apiPassword = "a long test password"

func newAPIWorld(t *testing.T) *apiWorld {
	t.Helper()
	ctx := context.Background()
	log := quietLog()
	db := storetest.SQLite(t)
	ps := people.New(db, people.Config{Hash: people.HashParams{Time: 1, Memory: 1024, Threads: 1}, Logger: log})
	sfu, err := media.New(media.Config{UDPAddr: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := devices.NewRegistry(db, ps, nil)
	hub := devices.NewHub(reg, time.Second, nil, log)
	files, err := materials.NewDirStore(t.TempDir(), "", []byte("a test link secret, long enough"))
	if err != nil {
		t.Fatal(err)
	}
	reports := engagement.NewReports(db, ps)
	library := materials.NewLibrary(db, ps, reports, files)
	planStore := plans.New(db, ps, reports)
	reports.Plans = planStore
	metrics := prometheus.NewRegistry()
	s := New(Config{}, Deps{SFU: sfu, Links: devices.NewLinks(db), People: ps, Devices: reg, Hub: hub, Logger: log, Registerer: metrics,
		Timetables: engagement.NewTimetables(db, ps), Registers: engagement.NewRegisters(db, ps),
		Reports: reports, Plans: planStore, Materials: library})
	s.SetReady(true)
	w := &apiWorld{srv: httptest.NewServer(s.Handler()), ps: ps, ids: map[string]string{}, passwords: map[string]string{}, metrics: metrics}
	files.SetBase(w.srv.URL)
	t.Cleanup(func() { sfu.Close(); w.srv.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	year := 8
	for _, n := range []string{"1", "2"} {
		la, err := ps.CreateLA(ctx, people.System, "LA "+n)
		must(err)
		sys := people.System
		sys.LAID = la.ID
		admin, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleAdmin, Email: "admin" + n + "@x.test", Name: "A", Password: apiPassword})
		must(err)
		school, err := ps.CreateSchool(ctx, sys, la.ID, "School "+n)
		must(err)
		class, err := ps.CreateClassroom(ctx, sys, school.ID, "Class")
		must(err)
		teacher, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleTeacher, Email: "teacher" + n + "@x.test", Name: "T", SchoolID: school.ID, Password: apiPassword})
		must(err)
		ewo, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleEWO, Email: "ewo" + n + "@x.test", Name: "E", SchoolID: school.ID, Password: apiPassword})
		must(err)
		pupil, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: class.ID, PupilNumber: "P" + n, DisplayName: "Pupil " + n, YearGroup: &year})
		must(err)
		must(ps.AssignCaseload(ctx, sys, ewo.ID, pupil.ID))
		jl, err := ps.IssueJoinLink(ctx, sys, pupil.ID, time.Hour)
		must(err)
		robot, robotCred, err := reg.ProvisionRobot(ctx, sys, "Robot "+n, school.ID, class.ID, pupil.ID)
		must(err)
		if n == "1" {
			w.robotToken = robotCred
		}
		must(ps.AssignClassroom(ctx, sys, teacher.ID, class.ID))
		for role, email := range map[string]string{"admin": admin.Email, "teacher": teacher.Email, "ewo": ewo.Email} {
			w.passwords[role+n] = email
		}
		if n == "1" {
			w.ids = map[string]string{"school": school.ID, "staff": teacher.ID, "ewo": ewo.ID, "pupil": pupil.ID,
				"link": jl.ID, "classroom": class.ID, "device": robot.ID}
			plan, err := planStore.Create(ctx, sys, pupil.ID, plans.Input{StartsOn: "2026-11-02", EndsOn: "2027-02-12",
				Phases: []plans.Phase{{Name: "Robot mornings", StartsOn: "2026-11-02", EndsOn: "2027-02-12", SchoolSessions: 2, RobotSessions: 4}}})
			must(err)
			mat, err := library.Upload(ctx, sys, materials.Input{ClassroomID: class.ID, Title: "Worksheet", LessonDate: "2026-11-23",
				Filename: "w.txt"}, strings.NewReader("Add these fractions."))
			must(err)
			w.ids["plan"], w.ids["phase"], w.ids["material"] = plan.ID, plan.Phases[0].ID, mat.ID
			w.pupilToken = jl.Token
			pb, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "P1b", DisplayName: "Pupil 1b", YearGroup: &year})
			must(err)
			w.ids["pupil_b"] = pb.ID
			cb, err := ps.CreateClassroom(ctx, sys, school.ID, "Class B")
			must(err)
			w.ids["classroom_b"] = cb.ID
			_, invite, err := ps.InviteParent(ctx, sys, people.ParentInput{Email: "parent1@x.test", Name: "Parent", PupilIDs: []string{pupil.ID}})
			must(err)
			w.parentEmail, w.parentPassword = "parent1@x.test", "parent password 1"
			_, err = ps.AcceptInvite(ctx, invite, w.parentPassword)
			must(err)
		} else {
			w.foreign = []string{la.ID, school.ID, class.ID, admin.ID, teacher.ID, ewo.ID, pupil.ID, jl.ID, robot.ID}
			w.otherPupilToken = jl.Token
		}
	}
	return w
}

// csvBody is sent as text/csv.
type csvBody string

// apiClient is a browser: a cookie jar and the CSRF token of its session.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func (w *apiWorld) client(t *testing.T) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, base: w.srv.URL, http: &http.Client{Jar: jar}}
}

func (c *apiClient) do(method, path string, body any, hdr map[string]string) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case csvBody:
		r, contentType = strings.NewReader(string(b)), "text/csv"
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		r = bytes.NewReader(buf)
	}
	ctx := context.Background()
	if strings.HasSuffix(path, "/events") {
		// A stream: read the status, then hang up.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}
	req, _ := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if strings.HasSuffix(path, "/events") && resp.StatusCode == 200 {
		return resp.StatusCode, nil
	}
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func errCode(body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// signIn signs the client in as one of the world's actors.
func (w *apiWorld) signIn(t *testing.T, actor string) *apiClient {
	c := w.client(t)
	var status int
	var body []byte
	switch actor {
	case "none":
		return c
	case "parent1":
		status, body = c.do("POST", "/api/v1/parent/session", map[string]string{"email": w.parentEmail, "password": w.parentPassword}, nil)
	case "pupil1":
		status, body = c.do("POST", "/api/v1/pupil/session", map[string]string{"token": w.pupilToken}, nil)
	case "pupil2":
		status, body = c.do("POST", "/api/v1/pupil/session", map[string]string{"token": w.otherPupilToken}, nil)
	default:
		status, body = c.do("POST", "/api/v1/session", map[string]string{"email": w.passwords[actor], "password": apiPassword}, nil)
	}
	if status != 200 {
		t.Fatalf("sign in as %s: %d %s", actor, status, body)
	}
	var v struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(body, &v)
	c.csrf = v.CSRF
	return c
}

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
					"{plan}": w.ids["plan"], "{phase}": w.ids["phase"], "{material}": w.ids["material"]} {
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

func TestSessionFixationAndCookie(t *testing.T) {
	w := newAPIWorld(t)
	c := w.client(t)
	planted := &http.Cookie{Name: sessionCookie, Value: "attacker-chosen-session-id", Path: "/"}
	u, _ := http.NewRequest("GET", w.srv.URL, nil)
	c.http.Jar.SetCookies(u.URL, []*http.Cookie{planted})
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/v1/session", strings.NewReader(`{"email":"`+w.passwords["teacher1"]+`","password":"`+apiPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			set = ck
		}
	}
	if set == nil || set.Value == planted.Value || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie after sign-in: %+v", set)
	}
	// The planted id was never a session.
	other := w.client(t)
	other.http.Jar.SetCookies(u.URL, []*http.Cookie{planted})
	if status, _ := other.do("GET", "/api/v1/session", nil, nil); status != 401 {
		t.Fatalf("planted session id accepted: %d", status)
	}
}

func TestBruteForceSignIn(t *testing.T) {
	w := newAPIWorld(t)
	c := w.client(t)
	for i := 1; i <= 6; i++ {
		status, body := c.do("POST", "/api/v1/session", map[string]string{"email": w.passwords["teacher1"], "password": "guess number " + string(rune('0'+i))}, nil)
		want, code := 401, "bad_credentials"
		if i >= 5 {
			want, code = 429, "locked"
		}
		if status != want || errCode(body) != code {
			t.Fatalf("attempt %d: %d %s, want %d %s", i, status, body, want, code)
		}
	}
	status, body := c.do("POST", "/api/v1/session", map[string]string{"email": w.passwords["teacher1"], "password": apiPassword}, nil)
	if status != 429 {
		t.Fatalf("right password while locked: %d %s", status, body)
	}
}

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

// A device channel that never said hello is held to its first deadline
// (messages before hello extend nothing), and revoking the device closes
// every socket that holds its credential, whatever state it is in.
func TestRevokedDeviceBeforeHelloIsClosed(t *testing.T) {
	w := newAPIWorld(t)
	dial := func() *websocket.Conn {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+w.robotToken)
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(w.srv.URL, "http")+"/device/ws", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedWithin reads until the socket closes; it says when, and the
	// last fatal error's code.
	closedWithin := func(c *websocket.Conn, limit time.Duration, heartbeat bool) (time.Duration, string) {
		start := time.Now()
		stop := make(chan struct{})
		defer close(stop)
		if heartbeat {
			go func() {
				tick := time.NewTicker(300 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						_ = c.WriteJSON(wire.DeviceMessage{Type: wire.DevHeartbeat})
					}
				}
			}()
		}
		_ = c.SetReadDeadline(start.Add(limit))
		code := ""
		for {
			var m wire.DeviceMessage
			if err := c.ReadJSON(&m); err != nil {
				return time.Since(start), code
			}
			if m.Fatal {
				code = m.Code
			}
		}
	}
	// Heartbeats without hello: closed at the first deadline (two 1 s
	// intervals), not kept alive.
	if d, _ := closedWithin(dial(), 6*time.Second, true); d > 3*time.Second {
		t.Errorf("a device sending heartbeats without hello stayed %s", d)
	}
	// Revoked while it has not said hello: closed at once, as revoked.
	c := dial()
	admin := w.signIn(t, "admin1")
	done := make(chan struct{})
	var code string
	go func() { _, code = closedWithin(c, 6*time.Second, true); close(done) }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if status, body := admin.do("DELETE", "/api/v1/devices/"+w.ids["device"]+"/credential", nil, nil); status != 200 {
		t.Fatalf("revoke: %d %s", status, body)
	}
	<-done
	if took := time.Since(start); code != wire.CodeRevoked || took > time.Second {
		t.Errorf("closed %s after the revocation with %q, want revoked within a second", took, code)
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

// No adult holds a pupil's session: a browser signed in as staff or a
// parent cannot redeem a pupil's join link (which would let it speak, or
// write plan notes, in the pupil's voice); the link stays unused for the
// pupil.
func TestStaffCannotHoldAPupilSession(t *testing.T) {
	w := newAPIWorld(t)
	for _, actor := range []string{"teacher1", "ewo1", "admin1", "parent1"} {
		c := w.signIn(t, actor)
		if status, body := c.do("POST", "/api/v1/pupil/session", map[string]string{"token": w.pupilToken}, nil); status != 409 ||
			errCode(body) != "signed_in_as_staff" {
			t.Errorf("%s redeeming a pupil's link: %d %s, want 409 signed_in_as_staff", actor, status, body)
		}
		if status, body := c.do("GET", "/api/v1/session", nil, nil); status != 200 || strings.Contains(string(body), `"role":"pupil"`) {
			t.Errorf("%s's browser now holds: %d %s", actor, status, body)
		}
	}
	pupil := w.signIn(t, "pupil1") // the link still works for the pupil
	if status, body := pupil.do("POST", "/api/v1/plans/"+w.ids["plan"]+"/notes", map[string]string{"text": "Mine."}, nil); status >= 300 ||
		!strings.Contains(string(body), `"voice":"pupil"`) {
		t.Errorf("the pupil's note: %d %s", status, body)
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

// Guessing codes from one place is refused after ten failures in a
// minute (429 with Retry-After), the right code included, until the
// minute has passed; another source is not affected.
func TestCodeGuessingIsThrottledBySource(t *testing.T) {
	w := newAPIWorld(t)
	c := w.client(t)
	for i := 0; i < guessLimit; i++ {
		if status, body := c.do("POST", "/api/v1/pupil/session", map[string]string{"code": fmt.Sprintf("ZZZZ%04d", i)}, nil); status != 410 && status != 400 {
			t.Fatalf("guess %d: %d %s", i, status, body)
		}
	}
	for _, path := range []string{"/api/v1/pupil/session", "/api/v1/devices/enroll"} {
		req, _ := http.NewRequest("POST", w.srv.URL+path, strings.NewReader(`{"code":"ABCD2345"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 429 || errCode(body) != "too_many_attempts" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s after ten failures: %d %s (Retry-After %q)", path, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}
	// The window passes.
	g := &guesses{now: func() time.Time { return time.Now() }}
	for i := 0; i < guessLimit; i++ {
		g.failed("192.0.2.1")
	}
	if g.blocked("192.0.2.1") == 0 || g.blocked("192.0.2.2") != 0 {
		t.Fatal("a source at the limit is not blocked, or another source is")
	}
	g.now = func() time.Time { return time.Now().Add(guessWindow + time.Second) }
	if g.blocked("192.0.2.1") != 0 {
		t.Fatal("still blocked after the window")
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
