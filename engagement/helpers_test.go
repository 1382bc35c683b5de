package engagement

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"seatlink/internal/store"
	"seatlink/people"
)

// testLA is the start of most tests here: a people store with cheap
// password hashing, an LA, a system actor of that LA and one school.
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
	ctx := context.Background()
	ps := people.New(db, people.Config{Hash: people.HashParams{Time: 1, Memory: 1024, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	la, err := ps.CreateLA(ctx, people.System, "LA")
	if err != nil {
		t.Fatal(err)
	}
	sys := people.System
	sys.LAID = la.ID
	school, err := ps.CreateSchool(ctx, sys, la.ID, "School")
	if err != nil {
		t.Fatal(err)
	}
	if utc {
		if _, err := db.Q().Exec(ctx, `UPDATE schools SET timezone = 'UTC' WHERE id = ?`, school.ID); err != nil {
			t.Fatal(err)
		}
	}
	return testLA{ps: ps, sys: sys, la: la, school: school}
}
