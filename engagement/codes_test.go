package engagement

import (
	"strings"
	"testing"
)

func TestCodeTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes {
		if seen[c.Code] {
			t.Errorf("code %q twice", c.Code)
		}
		seen[c.Code] = true
		switch c.Category {
		case Present, Authorised, Unauthorised, NotPossible:
		default:
			t.Errorf("code %q has category %q", c.Code, c.Category)
		}
		if c.Meaning == "" {
			t.Errorf("code %q has no meaning", c.Code)
		}
	}
	for _, tc := range []struct {
		cat  Category
		want string
	}{
		{Present, `/ B K L P V W \`},
		{Unauthorised, "G N O U"},
		{Authorised, "C C1 C2 E I J1 M R S T"},
	} {
		if got := strings.Join(CodesIn(tc.cat), " "); got != tc.want {
			t.Errorf("%s codes: %q, want %q", tc.cat, got, tc.want)
		}
	}
	if c, ok := LookupCode(PartTimeCode); !ok || c.Category != Authorised {
		t.Errorf("C2: %+v %v", c, ok)
	}
	if _, ok := LookupCode("c2"); ok {
		t.Error("codes are case-sensitive as the MIS writes them")
	}
}
