// Package peopletest gives tests of the rooms built on people (the
// measures, plans, lesson material) the same start: a people store with
// cheap password hashing, an LA, a system actor of that LA and one school.
package peopletest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"seatlink/internal/store"
	"seatlink/people"
)

// LA is a test's people store, its LA, a system actor of that LA and the
// LA's one school.
type LA struct {
	People *people.Store
	Sys    people.Actor
	LA     people.LA
	School people.School
}

// NewLA makes it on db; with utc the school keeps UTC, so fixtures' clock
// times are the school's.
func NewLA(t testing.TB, db *store.DB, utc bool) LA {
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
	return LA{People: ps, Sys: sys, LA: la, School: school}
}
