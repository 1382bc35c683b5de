package devices

import (
	"context"
	"errors"
	"testing"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
)

func seedPupils(t *testing.T, db *store.DB, ids ...string) {
	t.Helper()
	ctx := context.Background()
	q := db.Q()
	for _, stmt := range []string{
		`INSERT INTO local_authorities (id, name, created_at) VALUES ('la', 'LA', 0)`,
		`INSERT INTO schools (id, la_id, name, created_at) VALUES ('sch', 'la', 'S', 0)`,
	} {
		if _, err := q.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if _, err := q.Exec(ctx, `INSERT INTO pupils (id, school_id, pupil_number, display_name, year_group, created_at)
			VALUES (?, 'sch', ?, 'P', 5, 0)`, id, id); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedPupils(t, db, "p1", "p2")
		l := NewLinks(db)
		a, err := l.Create(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := l.Create(ctx, "p2")
		if a.ID == b.ID || a.RobotToken == b.RobotToken || len(a.RobotToken) < 43 {
			t.Fatal("links or tokens are not distinct, or tokens are short")
		}
		for _, tc := range []struct {
			token, link string
			err         error
		}{
			{a.RobotToken, a.ID, nil}, {b.RobotToken, b.ID, nil},
			{"", "", ErrUnknownToken}, {a.RobotToken[:20], "", ErrUnknownToken},
		} {
			got, err := l.ResolveRobot(ctx, tc.token)
			if got != tc.link || !errors.Is(err, tc.err) {
				t.Errorf("ResolveRobot(%.8s…) = %q %v, want %q %v", tc.token, got, err, tc.link, tc.err)
			}
		}
		if got, err := l.ForPupil(ctx, "p1"); got != a.ID || err != nil {
			t.Errorf("ForPupil(p1) = %q %v", got, err)
		}
		// Re-pairing replaces the old robot token.
		a2, err := l.Create(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.ResolveRobot(ctx, a.RobotToken); !errors.Is(err, ErrUnknownToken) {
			t.Error("the replaced robot token still works")
		}
		if err := l.Revoke(ctx, a2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := l.ForPupil(ctx, "p1"); !errors.Is(err, ErrNoLink) {
			t.Error("revoked link still found")
		}
		if _, err := l.Create(ctx, "no-such-pupil"); err == nil {
			t.Error("a link for an unknown pupil was created")
		}
	})
}
