package store_test

import (
	"context"
	"testing"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
)

func TestMigrateIsIdempotentAndConstraintsHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil { // a second run applies nothing
			t.Fatal(err)
		}
		q := db.Q()
		if _, err := q.Exec(ctx, "INSERT INTO local_authorities (id, name, created_at) VALUES (?, ?, ?)", "la1", "LA", 1); err != nil {
			t.Fatal(err)
		}
		_, err := q.Exec(ctx, "INSERT INTO local_authorities (id, name, created_at) VALUES (?, ?, ?)", "la1", "again", 1)
		if !store.IsUnique(err) {
			t.Fatalf("duplicate id: err = %v, want a unique violation", err)
		}
		_, err = q.Exec(ctx, "INSERT INTO schools (id, la_id, name, created_at) VALUES (?, ?, ?, ?)", "s1", "nope", "S", 1)
		if !store.IsForeignKey(err) {
			t.Fatalf("school in unknown LA: err = %v, want a foreign key violation", err)
		}
		_, err = q.Exec(ctx, `INSERT INTO staff (id, la_id, role, email, name, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, "st1", "la1", "janitor", "a@b", "A", "x", 1)
		if err == nil {
			t.Fatal("a staff role outside admin/teacher/ewo was stored")
		}
		// A failed transaction leaves nothing behind.
		err = db.Tx(ctx, func(q store.Q) error {
			if _, err := q.Exec(ctx, "INSERT INTO local_authorities (id, name, created_at) VALUES (?, ?, ?)", "la2", "LA2", 1); err != nil {
				return err
			}
			_, err := q.Exec(ctx, "INSERT INTO local_authorities (id, name, created_at) VALUES (?, ?, ?)", "la1", "dup", 1)
			return err
		})
		if err == nil {
			t.Fatal("transaction with a duplicate committed")
		}
		var n int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM local_authorities").Scan(&n); err != nil || n != 1 {
			t.Fatalf("after rollback %d LAs (%v), want 1", n, err)
		}
	})
}

func TestRebind(t *testing.T) {
	pg := &store.DB{Dialect: store.Postgres}
	if got := pg.Rebind("a = ? AND b IN (?, ?)"); got != "a = $1 AND b IN ($2, $3)" {
		t.Fatalf("Rebind = %q", got)
	}
	lite := &store.DB{Dialect: store.SQLite}
	if got := lite.Rebind("a = ?"); got != "a = ?" {
		t.Fatalf("SQLite Rebind = %q", got)
	}
}
