package signaling

// The API tests' world and browser-like client, shared by the tests of
// every room's routes.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"seatlink/casework"
	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/internal/store/storetest"
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
	cw := casework.New(db, ps, nil, log)
	reports.Plans = planStore
	reports.KeyAdults = cw
	metrics := prometheus.NewRegistry()
	s := New(Config{}, Deps{SFU: sfu, Links: devices.NewLinks(db), People: ps, Devices: reg, Hub: hub, Logger: log, Registerer: metrics,
		Timetables: engagement.NewTimetables(db, ps), Registers: engagement.NewRegisters(db, ps),
		Reports: reports, Plans: planStore, Materials: library, Casework: cw})
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
				Phases:  []plans.Phase{{Name: "Robot mornings", StartsOn: "2026-11-02", EndsOn: "2027-02-12", SchoolSessions: 2, RobotSessions: 4}},
				Reviews: []plans.Review{{On: "2027-01-15"}}})
			must(err)
			mat, err := library.Upload(ctx, sys, materials.Input{ClassroomID: class.ID, Title: "Worksheet", LessonDate: "2026-11-23",
				Filename: "w.txt"}, strings.NewReader("Add these fractions."))
			must(err)
			w.ids["plan"], w.ids["phase"], w.ids["material"] = plan.ID, plan.Phases[0].ID, mat.ID
			_, err = cw.SetKeyAdult(ctx, sys, pupil.ID, teacher.ID, "Ring the school office")
			must(err)
			bar, err := cw.AddBarrier(ctx, sys, pupil.ID, "transport", "parent", "No bus")
			must(err)
			sup, err := cw.AddSupport(ctx, sys, pupil.ID, "Taxi", "LA transport", "2027-01-05")
			must(err)
			w.ids["barrier"], w.ids["support"] = bar.ID, sup.ID
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
