package engagement

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// benchSize reads SEATLINK_BENCH_PUPILS (default 2,000 pupils, in schools
// of 200) and SEATLINK_BENCH_WEEKS (default 39, a school year).
func benchSize() (pupils, weeks int) {
	pupils, weeks = 2000, 39
	if n, err := strconv.Atoi(os.Getenv("SEATLINK_BENCH_PUPILS")); err == nil && n > 0 {
		pupils = n
	}
	if n, err := strconv.Atoi(os.Getenv("SEATLINK_BENCH_WEEKS")); err == nil && n > 0 {
		weeks = n
	}
	return pupils, weeks
}

// A school year of generated history for an LA (2,000 pupils by default;
// run with -benchtime=1x, it takes minutes to generate): the weekly
// measures of every pupil over the year (what an LA-wide report reads),
// the LA admin's caseload page (2,000 rows, six weeks and term to date)
// and an EWO's caseload page (one school, 200 pupils), each as computed
// and JSON-encoded for the page.
func BenchmarkSchoolYear(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *store.DB
			if dialect == "sqlite" {
				db = storetest.SQLite(b)
			} else {
				db = storetest.Postgres(b)
			}
			benchSchoolYear(b, db)
		})
	}
}

func benchSchoolYear(b *testing.B, db *store.DB) {
	ctx := context.Background()
	pupils, weeks := benchSize()
	schools := max(1, pupils/200)
	ps := people.New(db, people.Config{Hash: people.HashParams{Time: 1, Memory: 1024, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	// The academic year 2025–26, to the last day of the summer term.
	until := time.Date(2026, 7, 22, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	gen, err := GenerateLA(ctx, db, ps, LAOptions{Schools: schools, Pupils: pupils / schools, Password: "benchmark password 1",
		GenOptions: GenOptions{Weeks: weeks, Until: until, Seed: 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: generated %d pupils, %d marks, %d events in %s", db.Dialect, gen.Pupils, gen.Marks, gen.Events,
		time.Since(start).Round(time.Second))
	r := NewReports(db, ps)
	admin := people.System
	admin.LAID = gen.LAID
	var ewo people.Actor
	if err := db.Q().QueryRow(ctx, `SELECT id, school_id FROM staff WHERE email = ?`, gen.EWOEmails[0]).Scan(&ewo.ID, &ewo.SchoolID); err != nil {
		b.Fatal(err)
	}
	ewo.Kind, ewo.Role, ewo.LAID = "staff", people.RoleEWO, gen.LAID
	all, err := ps.ListPupils(ctx, admin, "")
	if err != nil {
		b.Fatal(err)
	}
	through := until.AddDate(0, 0, -1)
	timeIt := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	timeIt("year_of_weeks_all_pupils", func() error {
		hs, err := r.Histories(ctx, all, Range{Through: through, Weeks: weeks}, false)
		if err == nil && len(hs) != len(all) {
			b.Fatalf("%d histories", len(hs))
		}
		return err
	})
	timeIt("la_caseload_page", func() error {
		c, err := r.Caseload(ctx, admin, Range{Through: through, Weeks: 6})
		if err == nil {
			err = json.NewEncoder(io.Discard).Encode(c)
		}
		return err
	})
	timeIt("ewo_caseload_page", func() error {
		c, err := r.Caseload(ctx, ewo, Range{Through: through, Weeks: 6})
		if err == nil {
			err = json.NewEncoder(io.Discard).Encode(c)
		}
		if len(c.Rows) != pupils/schools {
			b.Fatalf("EWO caseload has %d rows", len(c.Rows))
		}
		return err
	})
	mine, err := r.Caseload(ctx, ewo, Range{Through: through, Weeks: 1})
	if err != nil || len(mine.Rows) == 0 {
		b.Fatalf("EWO caseload: %v", err)
	}
	timeIt("pupil_page", func() error {
		h, err := r.PupilHistory(ctx, ewo, mine.Rows[0].PupilID, Range{Through: through, Weeks: 6})
		if err == nil {
			err = json.NewEncoder(io.Discard).Encode(h)
		}
		return err
	})
}
