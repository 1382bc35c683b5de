package people

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// world is two LAs, each with a school, staff, pupils and a parent.
type world struct {
	s                         *Store
	clk                       *clock
	admin, teacher, ewo       Actor
	otherAdmin, otherTeacher  Actor
	parent                    Actor
	pupil, pupil2, otherPupil Pupil
	school, otherSchool       School
	classroom                 Classroom
	teacherEmail, teacherPass string
	parentInvite, parentEmail string
}

const testPassword = "correct horse battery"

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{clk: &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}}
	w.s = New(db, Config{Hash: HashParams{Time: 1, Memory: 1024, Threads: 1}, Now: w.clk.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	staffActor := func(st Staff) Actor {
		a, err := w.s.actor(ctx, "staff", st.ID)
		must(err)
		return a
	}
	year := 7
	for i, name := range []string{"North LA", "South LA"} {
		la, err := w.s.CreateLA(ctx, System, name)
		must(err)
		sysLA := System
		sysLA.LAID = la.ID
		adm, err := w.s.CreateStaff(ctx, sysLA, StaffInput{Role: RoleAdmin, Email: "admin" + name[:1] + "@la.example",
			Name: "Admin", Password: testPassword})
		must(err)
		admin := staffActor(adm)
		sch, err := w.s.CreateSchool(ctx, admin, "", "School "+name)
		must(err)
		cls, err := w.s.CreateClassroom(ctx, admin, sch.ID, "Year 7 Blue")
		must(err)
		tch, err := w.s.CreateStaff(ctx, admin, StaffInput{Role: RoleTeacher, Email: "teacher" + name[:1] + "@school.example",
			Name: "Teacher", SchoolID: sch.ID, Password: testPassword})
		must(err)
		p1, err := w.s.CreatePupil(ctx, admin, PupilInput{SchoolID: sch.ID, ClassroomID: cls.ID, PupilNumber: "A1",
			DisplayName: "Sam", YearGroup: &year})
		must(err)
		if i == 0 {
			w.admin, w.school, w.classroom, w.pupil = admin, sch, cls, p1
			w.teacher, w.teacherEmail, w.teacherPass = staffActor(tch), tch.Email, testPassword
			p2, err := w.s.CreatePupil(ctx, admin, PupilInput{SchoolID: sch.ID, PupilNumber: "A2", DisplayName: "Alex", YearGroup: &year})
			must(err)
			w.pupil2 = p2
			ewo, err := w.s.CreateStaff(ctx, admin, StaffInput{Role: RoleEWO, Email: "ewo@la.example", Name: "EWO",
				SchoolID: sch.ID, Password: testPassword})
			must(err)
			w.ewo = staffActor(ewo)
			must(w.s.AssignCaseload(ctx, admin, ewo.ID, p1.ID))
			pa, invite, err := w.s.InviteParent(ctx, admin, ParentInput{Email: "parent@home.example", Name: "Parent", PupilIDs: []string{p1.ID}})
			must(err)
			w.parentInvite, w.parentEmail = invite, pa.Email
			w.parent, err = w.s.actor(ctx, "parent", pa.ID)
			must(err)
		} else {
			w.otherAdmin, w.otherSchool, w.otherPupil, w.otherTeacher = admin, sch, p1, staffActor(tch)
		}
	}
	return w
}

func TestPermissionsOnPupilRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		pupilActor, err := w.s.actor(ctx, "pupil", w.pupil.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			actor Actor
			pupil string
			want  error
		}{
			{"admin, own LA", w.admin, w.pupil.ID, nil},
			{"admin, other LA", w.admin, w.otherPupil.ID, ErrNotFound},
			{"teacher, own school", w.teacher, w.pupil2.ID, nil},
			{"teacher, other school", w.teacher, w.otherPupil.ID, ErrNotFound},
			{"other LA's teacher", w.otherTeacher, w.pupil.ID, ErrNotFound},
			{"ewo, caseload", w.ewo, w.pupil.ID, nil},
			{"ewo, same school, not caseload", w.ewo, w.pupil2.ID, ErrNotFound},
			{"parent, own child", w.parent, w.pupil.ID, nil},
			{"parent, other child", w.parent, w.pupil2.ID, ErrNotFound},
			{"pupil, self", pupilActor, w.pupil.ID, nil},
			{"pupil, classmate", pupilActor, w.pupil2.ID, ErrNotFound},
			{"no such pupil", w.admin, "pu-nope", ErrNotFound},
		} {
			_, err := w.s.GetPupil(ctx, tc.actor, tc.pupil)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}
		// Lists are filtered to the scope.
		for _, tc := range []struct {
			name  string
			actor Actor
			want  int
		}{{"admin", w.admin, 2}, {"teacher", w.teacher, 2}, {"ewo", w.ewo, 1}, {"parent", w.parent, 1}, {"other admin", w.otherAdmin, 1}} {
			got, err := w.s.ListPupils(ctx, tc.actor, "")
			if err != nil || len(got) != tc.want {
				t.Errorf("%s lists %d pupils (%v), want %d", tc.name, len(got), err, tc.want)
			}
		}
		// Roles that may never do something are forbidden, not "not found".
		if _, err := w.s.CreatePupil(ctx, w.teacher, PupilInput{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("invalid input is reported before permissions: %v", err)
		}
		year := 3
		if _, err := w.s.CreatePupil(ctx, w.teacher, PupilInput{SchoolID: w.school.ID, PupilNumber: "Z9", DisplayName: "Z", YearGroup: &year}); !errors.Is(err, ErrForbidden) {
			t.Errorf("teacher creating a pupil: %v, want forbidden", err)
		}
		if _, err := w.s.ListAudit(ctx, w.teacher, "", 10); !errors.Is(err, ErrForbidden) {
			t.Errorf("teacher reading the audit log: %v, want forbidden", err)
		}
	})
}

func TestStaffSignInLockoutAndReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		if _, _, err := w.s.StaffSignIn(ctx, "nobody@x.example", testPassword, ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("unknown email: %v", err)
		}
		s1, a, err := w.s.StaffSignIn(ctx, " "+w.teacherEmail+" ", w.teacherPass, "127.0.0.1")
		if err != nil || a.ID != w.teacher.ID || a.Role != RoleTeacher {
			t.Fatalf("sign-in: %v %+v", err, a)
		}
		s2, _, err := w.s.StaffSignIn(ctx, w.teacherEmail, w.teacherPass, "")
		if err != nil || s2.Token == s1.Token || s2.CSRF == s1.CSRF {
			t.Fatal("a second sign-in must get a new session (no fixation)")
		}
		if got, sess, err := w.s.Authenticate(ctx, s1.Token); err != nil || got.ID != w.teacher.ID || !CheckCSRF(sess, s1.CSRF) || CheckCSRF(sess, s2.CSRF) {
			t.Fatalf("authenticate: %v", err)
		}
		if err := w.s.SignOut(ctx, s1.Token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.s.Authenticate(ctx, s1.Token); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal("signed-out session still works")
		}
		// Brute force: five failures lock the account, even for the right password.
		for i := 1; i <= 5; i++ {
			_, _, err := w.s.StaffSignIn(ctx, w.teacherEmail, "wrong password!", "")
			if i < 5 && !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i, err)
			}
			if i == 5 && !errors.Is(err, ErrLocked) {
				t.Fatalf("failure 5: %v, want locked", err)
			}
		}
		if _, _, err := w.s.StaffSignIn(ctx, w.teacherEmail, w.teacherPass, ""); !errors.Is(err, ErrLocked) {
			t.Fatalf("right password while locked: %v", err)
		}
		w.clk.add(61 * time.Second)
		if _, _, err := w.s.StaffSignIn(ctx, w.teacherEmail, "wrong again!!", ""); !errors.Is(err, ErrLocked) {
			t.Fatalf("a failure after the lock: %v, want a longer lock", err)
		}
		var le *LockedError
		_, _, err = w.s.StaffSignIn(ctx, w.teacherEmail, w.teacherPass, "")
		if !errors.As(err, &le) || le.Until.Sub(w.clk.now()) < 119*time.Second {
			t.Fatalf("lock should have doubled to 2 minutes: %v", err)
		}
		// An admin's reset clears the lock and ends old sessions.
		if err := w.s.ResetStaffPassword(ctx, w.admin, w.teacher.ID, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.s.Authenticate(ctx, s2.Token); err == nil {
			t.Fatal("session survived a password reset")
		}
		if _, _, err := w.s.StaffSignIn(ctx, w.teacherEmail, "a brand new password", ""); err != nil {
			t.Fatalf("sign-in after reset: %v", err)
		}
		if err := w.s.ResetStaffPassword(ctx, w.otherAdmin, w.teacher.ID, "a brand new password"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another LA's admin reset: %v", err)
		}
		if err := w.s.ResetStaffPassword(ctx, w.admin, w.teacher.ID, "short"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("weak password: %v", err)
		}
	})
}

func TestJoinLinksAndCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		if _, err := w.s.IssueJoinLink(ctx, w.otherTeacher, w.pupil.ID, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another school's teacher issued a link: %v", err)
		}
		if _, err := w.s.IssueJoinLink(ctx, w.parent, w.pupil.ID, 0); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a parent issued a link: %v", err)
		}
		l, err := w.s.IssueJoinLink(ctx, w.teacher, w.pupil.ID, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		sess, a, err := w.s.RedeemJoinToken(ctx, l.Token)
		if err != nil || a.ID != w.pupil.ID || a.Role != RolePupil {
			t.Fatalf("redeem token: %v %+v", err, a)
		}
		if _, _, err := w.s.RedeemJoinToken(ctx, l.Token); err != nil {
			t.Fatalf("a link works more than once until it expires: %v", err)
		}
		// The code works once.
		if _, _, err := w.s.RedeemJoinCode(ctx, " "+l.Code[:4]+" "+l.Code[5:]); err != nil {
			t.Fatalf("code: %v", err)
		}
		if _, _, err := w.s.RedeemJoinCode(ctx, l.Code); !errors.Is(err, ErrExpired) {
			t.Fatalf("reused code: %v, want expired", err)
		}
		// Revoking ends the link and the devices it let in.
		if err := w.s.RevokeJoinLink(ctx, w.ewo, l.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.s.RedeemJoinToken(ctx, l.Token); !errors.Is(err, ErrExpired) {
			t.Fatalf("revoked link: %v", err)
		}
		if _, _, err := w.s.Authenticate(ctx, sess.Token); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("device session survived revocation: %v", err)
		}
		// Expiry, for the link and (sooner) for the code.
		l2, err := w.s.IssueJoinLink(ctx, w.teacher, w.pupil.ID, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		w.clk.add(CodeLifetime + time.Minute)
		if _, _, err := w.s.RedeemJoinCode(ctx, l2.Code); !errors.Is(err, ErrExpired) {
			t.Fatalf("stale code: %v", err)
		}
		if _, _, err := w.s.RedeemJoinToken(ctx, l2.Token); err != nil {
			t.Fatalf("link within its lifetime: %v", err)
		}
		w.clk.add(time.Hour)
		if _, _, err := w.s.RedeemJoinToken(ctx, l2.Token); !errors.Is(err, ErrExpired) {
			t.Fatalf("expired link: %v", err)
		}
		for _, bad := range []string{"", "x", "AAAA-AAAA"} {
			if _, _, err := w.s.RedeemJoinCode(ctx, bad); !errors.Is(err, ErrExpired) {
				t.Errorf("code %q: %v", bad, err)
			}
		}
	})
}

func TestParentInvitation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		if _, _, err := w.s.ParentSignIn(ctx, w.parentEmail, testPassword, ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("sign-in before accepting: %v", err)
		}
		if _, err := w.s.AcceptInvite(ctx, w.parentInvite, "short"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("weak password: %v", err)
		}
		if _, err := w.s.AcceptInvite(ctx, w.parentInvite, "parent's own password"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.AcceptInvite(ctx, w.parentInvite, "parent's own password"); !errors.Is(err, ErrExpired) {
			t.Fatalf("second use of an invitation: %v", err)
		}
		if _, a, err := w.s.ParentSignIn(ctx, w.parentEmail, "parent's own password", ""); err != nil || a.Role != RoleParent {
			t.Fatalf("parent sign-in: %v", err)
		}
	})
}

func TestValidationAndConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		year := 5
		bad := 20
		for _, tc := range []struct {
			in    PupilInput
			field string
		}{
			{PupilInput{SchoolID: w.school.ID, PupilNumber: "", DisplayName: "X", YearGroup: &year}, "pupil_number"},
			{PupilInput{SchoolID: w.school.ID, PupilNumber: "has space", DisplayName: "X", YearGroup: &year}, "pupil_number"},
			{PupilInput{SchoolID: w.school.ID, PupilNumber: "B1", DisplayName: " ", YearGroup: &year}, "display_name"},
			{PupilInput{SchoolID: w.school.ID, PupilNumber: "B1", DisplayName: "X"}, "year_group"},
			{PupilInput{SchoolID: w.school.ID, PupilNumber: "B1", DisplayName: "X", YearGroup: &bad}, "year_group"},
			{PupilInput{SchoolID: w.school.ID, ClassroomID: "cls-nope", PupilNumber: "B1", DisplayName: "X", YearGroup: &year}, "classroom_id"},
		} {
			_, err := w.s.CreatePupil(ctx, w.admin, tc.in)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("%+v: err = %v, want a field error on %s", tc.in, err, tc.field)
			}
		}
		_, err := w.s.CreatePupil(ctx, w.admin, PupilInput{SchoolID: w.school.ID, PupilNumber: "A1", DisplayName: "Dup", YearGroup: &year})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate pupil number: %v, want conflict", err)
		}
		_, err = w.s.CreateStaff(ctx, w.admin, StaffInput{Role: RoleTeacher, Email: w.teacherEmail, Name: "T", SchoolID: w.school.ID, Password: testPassword})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate email: %v", err)
		}
		_, err = w.s.CreateStaff(ctx, w.admin, StaffInput{Role: RoleTeacher, Email: "t2@x.example", Name: "T", SchoolID: w.otherSchool.ID, Password: testPassword})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("teacher in another LA's school: %v", err)
		}
		pupils, _ := w.s.ListPupils(ctx, w.admin, "")
		if len(pupils) != 2 {
			t.Errorf("refused writes changed the records: %d pupils", len(pupils))
		}
	})
}

func TestAuditExportAndErasure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		w.teacher.Remote = "192.0.2.10"
		if _, err := w.s.GetPupil(ctx, w.teacher, w.pupil.ID); err != nil {
			t.Fatal(err)
		}
		entries, err := w.s.ListAudit(ctx, w.admin, w.pupil.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var seen bool
		for _, e := range entries {
			if e.Action == string(ActPupilView) && e.ActorID == w.teacher.ID && e.Remote == "192.0.2.10" {
				seen = true
			}
		}
		if !seen {
			t.Fatalf("the teacher's view is not in the audit log: %+v", entries)
		}
		if other, _ := w.s.ListAudit(ctx, w.otherAdmin, w.pupil.ID, 100); len(other) != 0 {
			t.Fatal("another LA's admin reads this LA's audit log")
		}
		ex, err := w.s.ExportPupil(ctx, w.admin, w.pupil.ID)
		if err != nil || ex.Pupil.DisplayName != "Sam" || len(ex.Parents) != 1 || len(ex.Audit) == 0 {
			t.Fatalf("export: %v %+v", err, ex)
		}
		if _, err := w.s.ExportPupil(ctx, w.otherAdmin, w.pupil.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other LA export: %v", err)
		}
		before := len(entries)
		if err := w.s.ErasePupil(ctx, w.admin, w.pupil.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.GetPupil(ctx, w.admin, w.pupil.ID); !errors.Is(err, ErrNotFound) {
			t.Fatal("erased pupil still found")
		}
		after, _ := w.s.ListAudit(ctx, w.admin, w.pupil.ID, 100)
		if len(after) <= before {
			t.Fatalf("audit entries lost on erasure: %d before, %d after", before, len(after))
		}
		for _, e := range after {
			if e.Detail != "" && e.Detail != string(RoleTeacher) {
				t.Errorf("audit detail holds data: %q", e.Detail)
			}
		}
		if err := w.s.ErasePupil(ctx, w.admin, w.pupil.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second erasure: %v", err)
		}
	})
}

// A burst of sign-ins cannot run the server out of memory: password
// hashes (19 MiB each by default) are computed in a bounded number of
// slots, and a sign-in that waits too long for one is refused with
// ErrBusy (429 and Retry-After over HTTP), not queued without end.
func TestPasswordHashingIsBounded(t *testing.T) {
	s := New(storetest.SQLite(t), Config{Hash: HashParams{Time: 1, Memory: 1024, Threads: 1}, MaxHashing: 1, HashWait: 50 * time.Millisecond})
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() { done <- s.hashing(ctx, func() { close(started); <-release }) }()
	<-started
	if _, _, err := s.StaffSignIn(ctx, "nobody@example.org", "some password", ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("sign-in with every slot taken: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StaffSignIn(ctx, "nobody@example.org", "some password", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("sign-in with a slot free: %v, want ErrBadCredentials", err)
	}
}

// Lock-outs are by address and source together: someone who knows a
// teacher's address locks it out from their own place only, an unknown
// address locks exactly as a known one does (a lock says nothing of which
// addresses exist), and a lock of a real account is in the audit log.
func TestSignInLockIsBySourceAndAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		for _, email := range []string{w.teacherEmail, "nobody@x.example"} {
			var last error
			for i := 0; i < 5; i++ {
				_, _, last = w.s.StaffSignIn(ctx, email, "wrong password!", "198.51.100.7")
			}
			if !errors.Is(last, ErrLocked) {
				t.Fatalf("%s after five failures from one source: %v, want locked", email, last)
			}
		}
		if _, _, err := w.s.StaffSignIn(ctx, w.teacherEmail, w.teacherPass, "198.51.100.7"); !errors.Is(err, ErrLocked) {
			t.Fatalf("the right password from the locked source: %v", err)
		}
		if _, a, err := w.s.StaffSignIn(ctx, w.teacherEmail, w.teacherPass, "203.0.113.9"); err != nil || a.ID != w.teacher.ID {
			t.Fatalf("the teacher from their own school: %v", err)
		}
		entries, err := w.s.ListAudit(ctx, w.admin, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		locks := 0
		for _, e := range entries {
			if e.Action == string(ActSignInLocked) {
				locks++
			}
		}
		if locks != 1 {
			t.Fatalf("%d lock-outs in the audit log, want 1 (the real account's)", locks)
		}
	})
}
