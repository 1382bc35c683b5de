package web

import "testing"

// The five feelings of a check-in have their words in every catalogue
// (the scripts name them by number, so the general check cannot see them).
func TestCaseworkFeelingsHaveWords(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range Languages {
		for _, f := range []string{"1", "2", "3", "4", "5"} {
			if !cats[l].Has("casework.feeling." + f) {
				t.Errorf("%s lacks casework.feeling.%s", l, f)
			}
		}
	}
}
