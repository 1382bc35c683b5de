package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"seatlink/engagement"
	"seatlink/internal/wire"
	"seatlink/people"
)

// staffClient is a signed-in staff member calling the API as the pages do
// (session cookie and CSRF header).
type staffClient struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func signInStaff(t testing.TB, a *app, laID, schoolID string, role people.Role) *staffClient {
	t.Helper()
	ctx := context.Background()
	sys := people.System
	sys.LAID = laID
	email := string(role) + time.Now().Format("150405.000000") + "@access.test"
	in := people.StaffInput{Role: role, Email: email, Name: "Staff", Password: "a long enough password"}
	if role != people.RoleAdmin {
		in.SchoolID = schoolID
	}
	if _, err := a.people.CreateStaff(ctx, sys, in); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	sc := &staffClient{t: t, base: a.baseURL(), c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	status, body := sc.do("POST", "/api/v1/session", map[string]string{"email": email, "password": "a long enough password"})
	var v struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &v); status != 200 || err != nil {
		t.Fatalf("sign-in: %d %s", status, body)
	}
	sc.csrf = v.CSRF
	return sc
}

func (sc *staffClient) do(method, path string, body any) (int, []byte) {
	sc.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, sc.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sc.csrf)
	resp, err := sc.c.Do(req)
	if err != nil {
		sc.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// Safeguarding: taking a pupil's right to a link away takes them out of
// the classroom at once. For each way it can be taken away, the pupil's
// media stops within a second of the API call (the time to the last
// packet received is printed), their signaling ends with access_removed,
// and nothing more is recorded for them.
func TestRemovingAccessEndsTheStreamAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(sc *staffClient, a *app, link testLink) (int, []byte)
	}{
		{"join link revoked", func(sc *staffClient, _ *app, link testLink) (int, []byte) {
			return sc.do("DELETE", "/api/v1/join-links/"+link.JoinLinkID, nil)
		}},
		{"pupil erased", func(sc *staffClient, _ *app, link testLink) (int, []byte) {
			return sc.do("DELETE", "/api/v1/pupils/"+link.PupilID, nil)
		}},
		{"robot paired with another pupil", func(sc *staffClient, a *app, link testLink) (int, []byte) {
			year := 4
			sys := people.System
			sys.LAID = link.LAID
			other, err := a.people.CreatePupil(context.Background(), sys, people.PupilInput{SchoolID: link.SchoolID, PupilNumber: "P2",
				DisplayName: "Other", YearGroup: &year})
			if err != nil {
				sc.t.Fatal(err)
			}
			return sc.do("POST", "/api/v1/devices/"+link.RobotID+"/pupil", map[string]string{"pupil_id": other.ID})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testApp(t)
			link := newTestLink(t, a)
			startRobot(t, a, link, nil)
			p := joinPupil(t, a, link, nil)
			waitFor(t, 20*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() >= 30 })
			admin := signInStaff(t, a, link.LAID, link.SchoolID, people.RoleAdmin)

			start := time.Now()
			if status, body := tc.remove(admin, a, link); status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			answered := time.Since(start)
			select {
			case <-p.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the pupil's session is still open 5 s after the change")
			}
			time.Sleep(1500 * time.Millisecond) // anything still on its way arrives
			last := time.Unix(0, p.lastPacket.Load())
			after := last.Sub(start)
			t.Logf("%s: API answered in %s; last media packet at the pupil %s after the call", tc.name,
				answered.Round(time.Millisecond), after.Round(time.Millisecond))
			if after > time.Second {
				t.Errorf("media reached the pupil %s after access was removed; want under 1 s", after)
			}
			fatal := ""
			for _, m := range p.Errors() {
				if m.Fatal {
					fatal = m.Code
				}
			}
			if fatal != wire.CodeAccessRemoved {
				t.Errorf("the pupil's signaling ended with %q, want %s", fatal, wire.CodeAccessRemoved)
			}
			// Nothing more is recorded for the pupil once the change is done.
			a.recorder.Flush()
			evs, err := engagement.Events(context.Background(), a.db, link.PupilID, start.Add(answered).Add(100*time.Millisecond), time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if e.Kind != engagement.SessionDown && e.Kind != engagement.MediaStopped {
					t.Errorf("recorded after access was removed: %s at %s", e.Kind, e.At.Sub(start))
				}
			}
			if tc.name == "pupil erased" { // not even the session's end
				all, _ := engagement.Events(context.Background(), a.db, link.PupilID, time.Time{}, time.Now().Add(time.Minute))
				if len(all) != 0 {
					t.Errorf("%d events of the erased pupil stored, the first %s", len(all), all[0].Kind)
				}
			}
		})
	}
}

// Redeeming a join link does not pile up sessions: a browser already
// signed in as the pupil keeps its session when it opens the link again,
// a device joining the class with the token itself holds none, and
// expired sessions are swept.
func TestJoinLinksDoNotPileUpSessions(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	ctx := context.Background()
	count := func() int {
		var n int
		if err := a.db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE kind = 'pupil' AND subject_id = ?`, link.PupilID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	for i := 0; i < 5; i++ {
		resp, err := c.Post(a.baseURL()+"/api/v1/pupil/session", "application/json", bytes.NewReader([]byte(`{"token":"`+link.PupilToken+`"}`)))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("redeem %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
	}
	if n := count(); n != 1 {
		t.Fatalf("%d sessions after one browser opened the link five times, want 1", n)
	}
	startRobot(t, a, link, nil)
	for i := 0; i < 3; i++ {
		p := joinPupil(t, a, link, nil)
		<-p.Connected()
		_ = p.Close()
	}
	if n := count(); n != 1 {
		t.Fatalf("%d sessions after three joins with the token, want 1 (the browser's)", n)
	}
	if _, err := a.db.Q().Exec(ctx, `INSERT INTO sessions (token_hash, kind, subject_id, csrf_token, origin, created_at, expires_at)
		VALUES ('expired-hash', 'pupil', ?, 'x', '', 1, 2)`, link.PupilID); err != nil {
		t.Fatal(err)
	}
	if n, err := a.people.SweepSessions(ctx); err != nil || n != 1 || count() != 1 {
		t.Fatalf("sweep: %d %v, %d left", n, err, count())
	}
}
