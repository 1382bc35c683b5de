package devices

import (
	"errors"
	"testing"
)

func TestLinks(t *testing.T) {
	l := NewLinks()
	a, err := l.Create()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := l.Create()
	if a.ID == b.ID || a.RobotToken == b.RobotToken || a.PupilToken == a.RobotToken {
		t.Fatal("links or tokens are not distinct")
	}
	if len(a.PupilToken) < 43 {
		t.Fatalf("token %q is shorter than 256 bits", a.PupilToken)
	}
	for _, tc := range []struct {
		token, link, role string
		err               error
	}{
		{a.RobotToken, a.ID, "robot", nil},
		{a.PupilToken, a.ID, "pupil", nil},
		{b.PupilToken, b.ID, "pupil", nil},
		{"", "", "", ErrUnknownToken},
		{a.PupilToken[:20], "", "", ErrUnknownToken},
	} {
		link, role, err := l.Resolve(tc.token)
		if link != tc.link || role != tc.role || !errors.Is(err, tc.err) {
			t.Errorf("Resolve(%.8s…) = %q %q %v, want %q %q %v", tc.token, link, role, err, tc.link, tc.role, tc.err)
		}
	}
	l.Revoke(a.ID)
	if _, _, err := l.Resolve(a.PupilToken); !errors.Is(err, ErrUnknownToken) {
		t.Error("revoked pupil token still resolves")
	}
	if _, _, err := l.Resolve(b.RobotToken); err != nil {
		t.Error("revoking one link revoked another")
	}
}
