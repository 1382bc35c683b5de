package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
)

// After serve --demo, the EWO's caseload tells the demo's story: every
// pupil of the class with history from 1 September (so year to date rests
// on a whole register and nothing older than two school days is unmarked),
// the flags exactly as the whole counts say, the usage columns, and the
// demo pupil's active plan.
func TestDemoCaseloadTellsItsStory(t *testing.T) {
	a := testApp(t)
	if err := a.startDemo(io.Discard); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body := `{"email":"` + a.demo.EWO.Email + `","password":"` + a.demo.passwords[a.demo.EWO.Email] + `"}`
	resp, err := c.Post(a.baseURL()+"/api/v1/session", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("EWO sign-in: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = c.Get(a.baseURL() + "/api/v1/caseload")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cl engagement.Caseload
	if err := json.NewDecoder(resp.Body).Decode(&cl); err != nil || resp.StatusCode != 200 {
		t.Fatalf("caseload: %d %v", resp.StatusCode, err)
	}
	if len(cl.Rows) != 8 || len(cl.Columns) != len(cl.Rows[0].Cells) {
		t.Fatalf("%d rows, %d columns", len(cl.Rows), len(cl.Columns))
	}
	var demo *engagement.CaseloadRow
	usedRobot := 0
	for i, r := range cl.Rows {
		y := r.YearToDate
		// The flags are the whole counts' verdict.
		if y.PersistentAttendance != (y.MarkedSessions > 0 && y.AbsentSessions*10 >= y.MarkedSessions) ||
			y.SevereAttendance != (y.MarkedSessions > 0 && y.AbsentSessions*2 >= y.MarkedSessions) {
			t.Errorf("%s: flags %v %v for %d absent of %d", r.PupilNumber, y.PersistentAttendance, y.SevereAttendance, y.AbsentSessions, y.MarkedSessions)
		}
		// History from 1 September: a register with no old gaps, and at
		// most today's sessions not yet marked.
		if r.UnmarkedOverdue != 0 || y.UnmarkedSessions > 2 {
			t.Errorf("%s: %d marked, %d not marked, %d overdue", r.PupilNumber, y.MarkedSessions, y.UnmarkedSessions, r.UnmarkedOverdue)
		}
		if r.Usage.DaysSinceUsed != nil {
			usedRobot++
		}
		if r.PupilID == a.demo.Pupil.ID {
			demo = &cl.Rows[i]
		}
	}
	if demo == nil || demo.Plan == nil || demo.Usage.DaysSinceUsed == nil || demo.Usage.Minutes == 0 || !strings.Contains(demo.Cells[engagement.ColPlan], "active plan") {
		t.Fatalf("the demo pupil's row: %+v", demo)
	}
	if usedRobot < 4 {
		t.Errorf("%d of 8 pupils ever used the robot; the generated class has more", usedRobot)
	}
	if !strings.Contains(strings.Join(cl.Columns, "|"), "Days since robot used") {
		t.Errorf("columns %v", cl.Columns)
	}
}

// serve --demo --demo-robot=false prints the robot's credential and a
// classroom station link: the credential is a WHIP bearer token for the
// demo pupil's link, and the link makes a browser the pupil's classroom
// device in place of the simulated robot.
func TestDemoWithoutRobotOffersStationAndWHIP(t *testing.T) {
	a := testApp(t)
	var out strings.Builder
	if err := a.startDemo(&out); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			lines[k] = v
		}
	}
	token, link := lines["robot token"], lines["classroom station link"]
	if token == "" || link != a.baseURL()+"/station#token="+token {
		t.Fatalf("demo printed robot token %q and station link %q:\n%s", token, link, out.String())
	}
	cam := vp8Track(t)
	w := publishWHIP(t, a.baseURL(), token, newWHIPPeer(t, cam))
	if resp, _ := whipRequest(t, "DELETE", a.baseURL()+w.location, token, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}

	ctx, _ := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the browser to sit in the demo pupil's seat", func() bool {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.state + ' ' + location.hash`))
		return s == "ready " && a.hub.Status(a.demo.Robot.ID).Online && a.sfu.Stats(a.demo.Robot.ID).Robot != nil
	})
}
