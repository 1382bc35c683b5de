package signaling

import (
	"encoding/json"
	"testing"
	"time"
)

// The join link list says which devices a link signed in and when it was
// last used; revoking it shows it inactive with no devices.
func TestJoinLinkListShowsDevicesAndUse(t *testing.T) {
	w := newAPIWorld(t)
	teacher := w.signIn(t, "teacher1")
	status, body := teacher.do("POST", "/api/v1/pupils/"+w.ids["pupil"]+"/join-links", map[string]int{"lifetime_hours": 24}, nil)
	if status != 201 {
		t.Fatalf("issue: %d %s", status, body)
	}
	var issued struct {
		JoinLink struct{ ID string } `json:"join_link"`
		Code     string              `json:"code"`
	}
	_ = json.Unmarshal(body, &issued)
	type view struct {
		ID         string       `json:"id"`
		Active     bool         `json:"active"`
		Revoked    bool         `json:"revoked"`
		Devices    []struct{}   `json:"devices"`
		LastUsedAt *time.Time   `json:"last_used_at"`
		CreatedAt  time.Time    `json:"created_at"`
		InClass    bool         `json:"in_class"`
		Extra      *interface{} `json:"token"`
	}
	list := func() map[string]view {
		t.Helper()
		status, body := teacher.do("GET", "/api/v1/pupils/"+w.ids["pupil"]+"/join-links", nil, nil)
		var vs []view
		if status != 200 || json.Unmarshal(body, &vs) != nil {
			t.Fatalf("list: %d %s", status, body)
		}
		out := map[string]view{}
		for _, v := range vs {
			if v.Extra != nil {
				t.Fatalf("the list shows a secret: %s", body)
			}
			out[v.ID] = v
		}
		return out
	}
	l := list()[issued.JoinLink.ID]
	if !l.Active || len(l.Devices) != 0 || l.LastUsedAt != nil || l.CreatedAt.IsZero() || l.InClass {
		t.Fatalf("new link: %+v", l)
	}
	before := time.Now().Add(-time.Second)
	if status, body := w.client(t).do("POST", "/api/v1/pupil/session", map[string]string{"code": issued.Code}, nil); status != 200 {
		t.Fatalf("code: %d %s", status, body)
	}
	l = list()[issued.JoinLink.ID]
	if !l.Active || len(l.Devices) != 1 || l.LastUsedAt == nil || l.LastUsedAt.Before(before) {
		t.Fatalf("used link: %+v", l)
	}
	if status, body := teacher.do("DELETE", "/api/v1/join-links/"+issued.JoinLink.ID, nil, nil); status != 200 {
		t.Fatalf("revoke: %d %s", status, body)
	}
	l = list()[issued.JoinLink.ID]
	if l.Active || !l.Revoked || len(l.Devices) != 0 {
		t.Fatalf("revoked link: %+v", l)
	}
	// Another LA's teacher cannot list them.
	if status, _ := w.signIn(t, "teacher2").do("GET", "/api/v1/pupils/"+w.ids["pupil"]+"/join-links", nil, nil); status != 404 {
		t.Fatalf("another LA's teacher: %d", status)
	}
}
