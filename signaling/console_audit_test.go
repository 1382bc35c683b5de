package signaling

import (
	"encoding/json"
	"testing"
)

// The audit log comes with names: of the member of staff who acted, the
// pupil and the record; an erased pupil's entries keep bare ids.
func TestAuditLogHasNames(t *testing.T) {
	w := newAPIWorld(t)
	teacher := w.signIn(t, "teacher1")
	for _, p := range []string{w.ids["pupil"], w.ids["pupil_b"]} {
		if status, body := teacher.do("POST", "/api/v1/pupils/"+p+"/join-links", map[string]int{"lifetime_hours": 1}, nil); status != 201 {
			t.Fatalf("issue: %d %s", status, body)
		}
	}
	admin := w.signIn(t, "admin1")
	if status, body := admin.do("DELETE", "/api/v1/pupils/"+w.ids["pupil_b"], nil, nil); status != 200 {
		t.Fatalf("erase: %d %s", status, body)
	}
	type entry struct {
		ActorID    string `json:"actor_id"`
		Action     string `json:"action"`
		TargetKind string `json:"target_kind"`
		PupilID    string `json:"pupil_id"`
		ActorName  string `json:"actor_name"`
		TargetName string `json:"target_name"`
		PupilName  string `json:"pupil_name"`
	}
	status, body := admin.do("GET", "/api/v1/audit", nil, nil)
	var entries []entry
	if status != 200 || json.Unmarshal(body, &entries) != nil {
		t.Fatalf("audit: %d %s", status, body)
	}
	issued := map[string]entry{}
	for _, e := range entries {
		if _, seen := issued[e.PupilID]; e.Action == "joinlink.issue" && !seen {
			issued[e.PupilID] = e // the newest: the teacher's
		}
		if e.Action == "pupil.erase" && e.ActorName != "A" {
			t.Errorf("the erasure's actor is named %q", e.ActorName)
		}
	}
	if e := issued[w.ids["pupil"]]; e.ActorName != "T" || e.PupilName != "Pupil 1 (P1)" || e.TargetKind != "join_link" {
		t.Errorf("a join link issued: %+v", e)
	}
	if e, ok := issued[w.ids["pupil_b"]]; !ok || e.PupilName != "" || e.PupilID != w.ids["pupil_b"] {
		t.Errorf("an erased pupil's entry: %+v (present %v)", e, ok)
	}
	if got := errCode(func() []byte { _, b := teacher.do("GET", "/api/v1/audit", nil, nil); return b }()); got != "forbidden" {
		t.Errorf("a teacher read the audit log: %s", got)
	}
}
