package signaling

import (
	"net/http"
	"strings"
	"testing"
)

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
