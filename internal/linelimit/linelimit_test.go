package linelimit

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLineLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		err  error
	}{
		{"short lines pass whole", "a,b\nc,d\n", 3, nil},
		{"a line exactly at the limit", "abc\nabc", 3, nil},
		{"one byte over", "abc\nabcd\n", 3, ErrTooLong},
		{"no newline at all", strings.Repeat("x", 100), 10, ErrTooLong},
	} {
		got, err := io.ReadAll(New(strings.NewReader(tc.in), tc.max))
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
		if tc.err == nil && string(got) != tc.in {
			t.Errorf("%s: read %q", tc.name, got)
		}
	}
	// A CSV reader over it stops at the long line with ErrTooLong.
	cr := csv.NewReader(New(strings.NewReader("a,b\n"+strings.Repeat("y", 20<<10)+"\n"), 0))
	if _, err := cr.Read(); err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Read(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("csv over a long line: %v", err)
	}
}
