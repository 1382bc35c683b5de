package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every casework key a script names ('casework.…', which the general
// check does not look for) is in every catalogue; a name ending in "."
// is completed by a code, and the five feelings are all there.
func TestCaseworkKeysExist(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := fs.Glob(Static(), "*.js")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`'(casework\.[a-z0-9_.]*)'`)
	found := 0
	for _, s := range scripts {
		b, err := fs.ReadFile(Static(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllSubmatch(b, -1) {
			found++
			key := string(m[1])
			for _, l := range Languages {
				if strings.HasSuffix(key, ".") {
					if !hasPrefix(cats[l].Keys(), key) {
						t.Errorf("%s completes keys starting %s, which %s has none of", s, key, l)
					}
				} else if !cats[l].Has(key) {
					t.Errorf("%s asks for %s, which %s lacks", s, key, l)
				}
			}
		}
	}
	if found < 20 {
		t.Fatalf("%d casework keys asked for: casework.js not found?", found)
	}
	for _, l := range Languages {
		for _, f := range []string{"1", "2", "3", "4", "5"} {
			if !cats[l].Has("casework.feeling." + f) {
				t.Errorf("%s lacks casework.feeling.%s", l, f)
			}
		}
	}
}
