package plans

import (
	"encoding/json"
	"strings"
	"testing"
)

// A plan that passes validation keeps every promise the pages rely on,
// whatever the JSON a client sent.
func FuzzPlanInput(f *testing.F) {
	good, _ := json.Marshal(goodPlan())
	f.Add(good)
	f.Add([]byte(`{"starts_on":"2026-11-16","ends_on":"2026-11-16","phases":[{"name":"x","starts_on":"16/11/2026","ends_on":"2026-11-16"}]}`))
	f.Add([]byte(`{"status":"active","phases":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Input
		if json.Unmarshal(data, &in) != nil {
			return
		}
		if err := in.validate(); err != nil {
			if pe, ok := err.(*InputError); !ok || len(pe.Problems) == 0 {
				t.Fatalf("validate returned %v, want an InputError with problems", err)
			}
			return
		}
		if in.StartsOn == "" || in.EndsOn < in.StartsOn || len(in.Phases) == 0 || len(in.Phases) > 12 {
			t.Fatalf("accepted plan dates %q to %q with %d phases", in.StartsOn, in.EndsOn, len(in.Phases))
		}
		for i, ph := range in.Phases {
			if ph.StartsOn < in.StartsOn || ph.EndsOn > in.EndsOn || ph.EndsOn < ph.StartsOn ||
				(i > 0 && ph.StartsOn <= in.Phases[i-1].EndsOn) || strings.TrimSpace(ph.Name) == "" ||
				ph.SchoolSessions < 0 || ph.SchoolSessions > 10 || ph.RobotSessions < 0 || ph.RobotSessions > 10 {
				t.Fatalf("accepted phase %d: %+v in %s..%s", i, ph, in.StartsOn, in.EndsOn)
			}
		}
		for _, r := range in.Reviews {
			if r.On < in.StartsOn || r.On > in.EndsOn {
				t.Fatalf("accepted review %s outside %s..%s", r.On, in.StartsOn, in.EndsOn)
			}
		}
	})
}
