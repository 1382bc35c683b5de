package engagement

import (
	"testing"

	"seatlink/internal/store"
	"seatlink/people"
	"seatlink/people/peopletest"
)

// testLA is the start of most tests here (see peopletest.NewLA), under
// the short names these tests use.
type testLA struct {
	ps     *people.Store
	sys    people.Actor
	la     people.LA
	school people.School
}

// newTestLA makes it; with utc the school keeps UTC, so fixtures' clock
// times are the school's.
func newTestLA(t testing.TB, db *store.DB, utc bool) testLA {
	t.Helper()
	l := peopletest.NewLA(t, db, utc)
	return testLA{ps: l.People, sys: l.Sys, la: l.LA, school: l.School}
}
