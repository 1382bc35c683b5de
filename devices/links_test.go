package devices

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

type fixture struct {
	reg             *Registry
	ps              *people.Store
	admin, other    people.Actor
	teacher         people.Actor
	school, school2 string
	classroom       string
	pupil, pupil2   string
	now             time.Time
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	f.ps = people.New(db, people.Config{Hash: people.HashParams{Time: 1, Memory: 1024, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.reg = NewRegistry(db, f.ps, func() time.Time { return f.now })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	year := 5
	for i, name := range []string{"LA A", "LA B"} {
		la, err := f.ps.CreateLA(ctx, people.System, name)
		must(err)
		sys := people.System
		sys.LAID = la.ID
		admin := people.Actor{Kind: "staff", ID: "adm" + name, Role: people.RoleAdmin, LAID: la.ID}
		sch, err := f.ps.CreateSchool(ctx, sys, la.ID, "School")
		must(err)
		cls, err := f.ps.CreateClassroom(ctx, sys, sch.ID, "Class")
		must(err)
		p, err := f.ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: sch.ID, ClassroomID: cls.ID, PupilNumber: "P1", DisplayName: "P", YearGroup: &year})
		must(err)
		if i == 0 {
			f.admin, f.school, f.classroom, f.pupil = admin, sch.ID, cls.ID, p.ID
			p2, err := f.ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: sch.ID, PupilNumber: "P2", DisplayName: "Q", YearGroup: &year})
			must(err)
			f.pupil2 = p2.ID
			st, err := f.ps.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleTeacher, Email: "t@a.test", Name: "T", SchoolID: sch.ID, Password: "long enough password"})
			must(err)
			must(f.ps.AssignClassroom(ctx, sys, st.ID, cls.ID))
			f.teacher = people.Actor{Kind: "staff", ID: st.ID, Role: people.RoleTeacher, LAID: la.ID, SchoolID: sch.ID}
		} else {
			f.other, f.school2 = admin, sch.ID
		}
	}
	return f
}

func TestEnrollment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		d, code, err := f.reg.Create(ctx, f.admin, KindRobot, "Robot 1")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.reg.Create(ctx, f.admin, "toaster", "X"); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("bad kind: %v", err)
		}
		if _, _, err := f.reg.Create(ctx, f.teacher, KindRobot, "Robot 2"); !errors.Is(err, people.ErrForbidden) {
			t.Errorf("teacher created a device: %v", err)
		}
		// Expired: refused, and the admin is alerted.
		f.now = f.now.Add(EnrollmentLifetime + time.Second)
		if _, _, err := f.reg.Enroll(ctx, code); !errors.Is(err, ErrExpired) {
			t.Fatalf("expired code: %v", err)
		}
		hub := NewHub(f.reg, time.Second, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		alerts, err := hub.Alerts(ctx, f.admin)
		if err != nil || len(alerts) != 1 || alerts[0].Kind != AlertEnrollmentExpired || alerts[0].DeviceID != d.ID {
			t.Fatalf("alerts %+v %v, want the expired enrollment", alerts, err)
		}
		code2, err := f.reg.NewEnrollmentCode(ctx, f.admin, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		id, cred, err := f.reg.Enroll(ctx, code2)
		if err != nil || id != d.ID || len(cred) < 43 {
			t.Fatalf("enroll: %v %s", err, id)
		}
		// Reused.
		if _, _, err := f.reg.Enroll(ctx, code2); !errors.Is(err, ErrExpired) {
			t.Fatalf("reused code: %v", err)
		}
		got, err := f.reg.Authenticate(ctx, cred)
		if err != nil || got.ID != d.ID || !got.Enrolled {
			t.Fatalf("authenticate: %v %+v", err, got)
		}
		// Rotation: the old credential stops working.
		cred2, err := f.reg.Rotate(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.reg.Authenticate(ctx, cred); !errors.Is(err, ErrBadDevice) {
			t.Fatal("old credential works after rotation")
		}
		if err := f.reg.Revoke(ctx, f.other, d.ID); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("other LA revoked: %v", err)
		}
		if err := f.reg.Revoke(ctx, f.admin, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.reg.Authenticate(ctx, cred2); !errors.Is(err, ErrBadDevice) {
			t.Fatal("revoked credential works")
		}
		// A revoked device gets no new credential by rotating.
		if c, err := f.reg.Rotate(ctx, d.ID); !errors.Is(err, ErrBadDevice) || c != "" {
			t.Fatalf("rotate after revocation: %q %v", c, err)
		}
		// A code issued before the revocation died with it; one issued
		// after (the admin re-enrolling the device on purpose) works.
		stale, err := f.reg.NewEnrollmentCode(ctx, f.admin, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.reg.Revoke(ctx, f.admin, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.reg.Enroll(ctx, stale); !errors.Is(err, ErrExpired) {
			t.Fatalf("a code from before the revocation enrolled: %v", err)
		}
		fresh, err := f.reg.NewEnrollmentCode(ctx, f.admin, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.reg.Enroll(ctx, fresh); err != nil {
			t.Fatalf("a code issued after the revocation: %v", err)
		}
	})
}

func TestLoansPairingAndLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		links := NewLinks(db)
		d, cred, err := f.reg.ProvisionRobot(ctx, f.admin, "Robot 1", f.school, f.classroom, f.pupil)
		if err != nil {
			t.Fatal(err)
		}
		if d.SchoolID != f.school || d.ClassroomID != f.classroom || d.PupilID != f.pupil {
			t.Fatalf("provisioned %+v", d)
		}
		if got, err := links.ResolveRobot(ctx, cred); err != nil || got != d.ID {
			t.Fatalf("ResolveRobot = %q %v", got, err)
		}
		if got, err := links.ForPupil(ctx, f.pupil); err != nil || got != d.ID {
			t.Fatalf("ForPupil = %q %v", got, err)
		}
		// An unpaired pupil has no robot to join.
		if _, err := links.ForPupil(ctx, f.pupil2); !errors.Is(err, ErrNoLink) {
			t.Fatalf("unpaired pupil: %v", err)
		}
		// One robot per pupil.
		d2, _, err := f.reg.Create(ctx, f.admin, KindRobot, "Robot 2")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.reg.Lend(ctx, f.admin, d2.ID, f.school, f.now, f.now.AddDate(0, 6, 0)); err != nil {
			t.Fatal(err)
		}
		if err := f.reg.Pair(ctx, f.admin, d2.ID, f.pupil); !errors.Is(err, people.ErrConflict) {
			t.Fatalf("second robot for a pupil: %v", err)
		}
		// Lending to another LA's school, placing in a classroom elsewhere, bad dates.
		if err := f.reg.Lend(ctx, f.admin, d2.ID, f.school2, f.now, f.now.AddDate(0, 1, 0)); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("loan to another LA's school: %v", err)
		}
		if err := f.reg.Lend(ctx, f.admin, d2.ID, f.school, f.now, f.now); !errors.Is(err, people.ErrInvalid) {
			t.Fatalf("empty loan: %v", err)
		}
		if err := f.reg.Place(ctx, f.admin, d2.ID, "cls-nowhere"); !errors.Is(err, ErrWrongPlace) {
			t.Fatalf("place in unknown classroom: %v", err)
		}
		// Visibility: the school's teacher sees both robots, the other LA none.
		if list, err := f.reg.List(ctx, f.teacher); err != nil || len(list) != 2 {
			t.Fatalf("teacher list: %d %v", len(list), err)
		}
		if list, _ := f.reg.List(ctx, f.other); len(list) != 0 {
			t.Fatalf("other LA sees %d devices", len(list))
		}
		if _, err := f.reg.Get(ctx, f.other, d.ID); !errors.Is(err, people.ErrNotFound) {
			t.Fatalf("other LA get: %v", err)
		}
		// Re-lending clears the classroom and pupil: the link is gone; the
		// history keeps both loans, the first one returned.
		if err := f.reg.Lend(ctx, f.admin, d.ID, f.school, f.now, f.now.AddDate(0, 2, 0)); err != nil {
			t.Fatal(err)
		}
		loans, err := f.reg.Loans(ctx, f.admin, d.ID)
		if err != nil || len(loans) != 2 || loans[1].ReturnedAt.IsZero() || !loans[0].ReturnedAt.IsZero() {
			t.Fatalf("loan history %+v %v", loans, err)
		}
		if _, err := f.reg.Loans(ctx, f.teacher, d.ID); !errors.Is(err, people.ErrForbidden) {
			t.Fatalf("teacher reads loans: %v", err)
		}
		if _, err := links.ForPupil(ctx, f.pupil); !errors.Is(err, ErrNoLink) {
			t.Fatal("pairing survived a new loan")
		}
		// Revoked robots admit nobody.
		if err := f.reg.Revoke(ctx, f.admin, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := links.ResolveRobot(ctx, cred); !errors.Is(err, ErrUnknownToken) {
			t.Fatal("revoked robot resolves")
		}
	})
}

func TestTelemetryIsKeptForAConfiguredTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		d, _, err := f.reg.ProvisionRobot(ctx, f.admin, "Robot T", f.school, "", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			at := f.now.Add(-time.Duration(i) * 24 * time.Hour)
			if err := f.reg.RecordTelemetry(ctx, d.ID, Telemetry{At: at, Battery: ptr(50 + i), TemperatureC: ptr(37.5), WifiDBm: ptr(-60), UptimeS: 10}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := f.reg.PruneTelemetry(ctx, 2*24*time.Hour+time.Hour) // keep today, yesterday, the day before
		if err != nil || n != 2 {
			t.Fatalf("pruned %d (%v), want 2", n, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
