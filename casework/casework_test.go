package casework

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
	"seatlink/people/peopletest"
)

// world is an LA with one school and another, a classroom, two teachers
// (one the pupil's key adult, one not), an EWO with the pupil on their
// caseload, an admin, two pupils and a parent of each.
type world struct {
	cw                             *Store
	ps                             *people.Store
	sent                           *sentNotices
	db                             *store.DB
	keyAdult, otherTeacher, ewo    people.Actor
	admin, farTeacher              people.Actor
	pupil, otherPupil              people.Actor
	parent, otherParent            people.Actor
	parentEmail, otherParentEmail  string
	keyAdultEmail, otherSchoolName string
}

type sentNotices struct {
	mu sync.Mutex
	n  []Notice
}

func (s *sentNotices) Notify(n Notice) {
	s.mu.Lock()
	s.n = append(s.n, n)
	s.mu.Unlock()
}

func (s *sentNotices) take() []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.n
	s.n = nil
	return out
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	la := peopletest.NewLA(t, db, true)
	ps, sys := la.People, la.Sys
	w := &world{ps: ps, db: db, sent: &sentNotices{}}
	w.cw = New(db, ps, w.sent, nil)
	cls, err := ps.CreateClassroom(ctx, sys, la.School.ID, "Class 6")
	if err != nil {
		t.Fatal(err)
	}
	other, err := ps.CreateSchool(ctx, sys, la.LA.ID, "Other school")
	if err != nil {
		t.Fatal(err)
	}
	staff := func(role people.Role, email, schoolID string) people.Actor {
		st, err := ps.CreateStaff(ctx, sys, people.StaffInput{Role: role, Email: email, Name: "Name " + email, SchoolID: schoolID,
			Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return people.Actor{Kind: "staff", ID: st.ID, Role: role, LAID: la.LA.ID, SchoolID: schoolID, Name: "Name " + email}
	}
	w.keyAdult = staff(people.RoleTeacher, "key@school.test", la.School.ID)
	w.keyAdultEmail = "key@school.test"
	w.otherTeacher = staff(people.RoleTeacher, "other@school.test", la.School.ID)
	w.farTeacher = staff(people.RoleTeacher, "far@other.test", other.ID)
	w.ewo = staff(people.RoleEWO, "ewo@la.test", la.School.ID)
	w.admin = staff(people.RoleAdmin, "admin@la.test", "")
	year := 6
	pupil := func(n string) people.Actor {
		p, err := ps.CreatePupil(ctx, sys, people.PupilInput{SchoolID: la.School.ID, ClassroomID: cls.ID, PupilNumber: n,
			DisplayName: "Pupil " + n, YearGroup: &year})
		if err != nil {
			t.Fatal(err)
		}
		return people.Actor{Kind: "pupil", ID: p.ID, Role: people.RolePupil, LAID: la.LA.ID, SchoolID: la.School.ID}
	}
	w.pupil, w.otherPupil = pupil("C1"), pupil("C2")
	if err := ps.AssignCaseload(ctx, sys, w.ewo.ID, w.pupil.ID); err != nil {
		t.Fatal(err)
	}
	parent := func(email, pupilID string) people.Actor {
		pa, token, err := ps.InviteParent(ctx, sys, people.ParentInput{Email: email, Name: "Parent " + email, PupilIDs: []string{pupilID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ps.AcceptInvite(ctx, token, "a long enough password"); err != nil {
			t.Fatal(err)
		}
		return people.Actor{Kind: "parent", ID: pa.ID, Role: people.RoleParent, Name: "Parent " + email}
	}
	w.parent, w.otherParent = parent("mum@home.test", w.pupil.ID), parent("dad@elsewhere.test", w.otherPupil.ID)
	w.parentEmail, w.otherParentEmail = "mum@home.test", "dad@elsewhere.test"
	return w
}

func auditCount(t *testing.T, db *store.DB, action people.Action, pupilID string) int {
	t.Helper()
	var n int
	if err := db.Q().QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = ? AND pupil_id = ?`,
		string(action), pupilID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// refused says whether err is a refusal (forbidden, or not found: a
// record outside one's scope is not said to exist).
func refused(err error) bool {
	return errors.Is(err, people.ErrForbidden) || errors.Is(err, people.ErrNotFound)
}

func TestKeyAdult(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if _, err := w.cw.KeyAdultOf(ctx, w.parent, w.pupil.ID); !errors.Is(err, ErrNoKeyAdult) {
			t.Fatalf("before one is named: %v", err)
		}
		both := []people.Pupil{{ID: w.pupil.ID}, {ID: w.otherPupil.ID}}
		if names, err := w.cw.KeyAdultNames(ctx, both); err != nil || len(names) != 0 {
			t.Fatalf("key adults before any is named: %v %v", names, err)
		}
		// Another school's teacher may be no key adult here, nor name one.
		var fe *people.FieldError
		if _, err := w.cw.SetKeyAdult(ctx, w.otherTeacher, w.pupil.ID, w.farTeacher.ID, ""); !errors.As(err, &fe) || fe.Code != "not_staff_here" {
			t.Errorf("a teacher of another school as key adult: %v", err)
		}
		if _, err := w.cw.SetKeyAdult(ctx, w.farTeacher, w.pupil.ID, w.farTeacher.ID, ""); !refused(err) {
			t.Errorf("another school's teacher named a key adult: %v", err)
		}
		if _, err := w.cw.SetKeyAdult(ctx, w.parent, w.pupil.ID, w.keyAdult.ID, ""); !refused(err) {
			t.Errorf("a parent named a key adult: %v", err)
		}
		if _, err := w.cw.SetKeyAdult(ctx, w.otherTeacher, w.pupil.ID, w.keyAdult.ID, strings.Repeat("x", 301)); !errors.As(err, &fe) {
			t.Errorf("a 301-character contact: %v", err)
		}
		k, err := w.cw.SetKeyAdult(ctx, w.otherTeacher, w.pupil.ID, w.keyAdult.ID, "Ring the school office on 01234 567890")
		if err != nil {
			t.Fatal(err)
		}
		if k.Name != w.keyAdult.Name || k.Role != people.RoleTeacher || k.SetBy != w.otherTeacher.ID {
			t.Errorf("key adult %+v", k)
		}
		if n := auditCount(t, db, people.ActKeyAdultSet, w.pupil.ID); n != 1 {
			t.Errorf("naming the key adult audited %d times, want 1", n)
		}
		for _, who := range []people.Actor{w.parent, w.pupil, w.ewo, w.otherTeacher} {
			got, err := w.cw.KeyAdultOf(ctx, who, w.pupil.ID)
			if err != nil || got.StaffID != w.keyAdult.ID || got.Contact != "Ring the school office on 01234 567890" {
				t.Errorf("%s sees %+v, %v", who.Kind, got, err)
			}
			if who.Kind != "staff" && got.SetBy != "" {
				t.Errorf("%s is told who named the key adult", who.Kind)
			}
		}
		for _, who := range []people.Actor{w.otherParent, w.otherPupil, w.farTeacher} {
			if _, err := w.cw.KeyAdultOf(ctx, who, w.pupil.ID); !refused(err) {
				t.Errorf("%s %s sees another family's key adult: %v", who.Kind, who.ID, err)
			}
		}
		if names, _ := w.cw.KeyAdultNames(ctx, both); names[w.pupil.ID] != w.keyAdult.Name || names[w.otherPupil.ID] != "" {
			t.Errorf("key adults after naming one: %v", names)
		}
	})
}

func TestMessagesBetweenFamilyAndSchool(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		clock := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		w.cw.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })
		if _, err := w.cw.SetKeyAdult(ctx, w.admin, w.pupil.ID, w.keyAdult.ID, ""); err != nil {
			t.Fatal(err)
		}
		// Bad words change nothing.
		for _, body := range []string{"", "   ", strings.Repeat("é", 4001), "nul\x00"} {
			if _, err := w.cw.Post(ctx, w.parent, w.pupil.ID, body); !errors.Is(err, people.ErrInvalid) {
				t.Errorf("message %q: %v", body[:min(len(body), 10)], err)
			}
		}
		if _, err := w.cw.Post(ctx, w.parent, w.pupil.ID, "Robin found today hard. Can we talk?"); err != nil {
			t.Fatal(err)
		}
		if n := w.sent.take(); len(n) != 1 || n[0].To != w.keyAdultEmail || n[0].Kind != NoticeStaffMessage || n[0].Path != "/ewo#pupil="+w.pupil.ID {
			t.Errorf("a parent's message told %+v, want the key adult", n)
		}
		if u, err := w.cw.Unread(ctx, w.keyAdult, []string{w.pupil.ID, w.otherPupil.ID}); err != nil || u[w.pupil.ID] != 1 {
			t.Errorf("key adult's unread %v %v", u, err)
		} else if _, seen := u[w.otherPupil.ID]; seen {
			t.Errorf("unread counted for a pupil the key adult may not read: %v", u)
		}
		th, err := w.cw.Read(ctx, w.keyAdult, w.pupil.ID)
		if err != nil || len(th.Messages) != 1 || th.Unread != 1 || th.Messages[0].Author != "Parent mum@home.test" || th.Messages[0].Mine {
			t.Fatalf("key adult reads %+v, %v", th, err)
		}
		if u, _ := w.cw.Unread(ctx, w.keyAdult, []string{w.pupil.ID}); u[w.pupil.ID] != 0 {
			t.Errorf("unread after reading: %v", u)
		}
		if _, err := w.cw.Post(ctx, w.keyAdult, w.pupil.ID, "Of course. I can ring you at 4."); err != nil {
			t.Fatal(err)
		}
		if n := w.sent.take(); len(n) != 1 || n[0].To != w.parentEmail || n[0].Kind != NoticeFamilyMessage {
			t.Errorf("the key adult's answer told %+v, want the parent", n)
		}
		th, err = w.cw.Read(ctx, w.parent, w.pupil.ID)
		if err != nil || len(th.Messages) != 2 || th.Unread != 1 || !th.Messages[0].Mine || th.Messages[1].Body != "Of course. I can ring you at 4." {
			t.Fatalf("the parent reads %+v, %v", th, err)
		}
		// The EWO of the pupil's caseload reads and joins.
		if th, err := w.cw.Read(ctx, w.ewo, w.pupil.ID); err != nil || len(th.Messages) != 2 {
			t.Errorf("the EWO reads %+v, %v", th, err)
		}
		// Nobody else: not another family, not a teacher who is not the
		// key adult, not the pupil, not the admin.
		for _, who := range []people.Actor{w.otherParent, w.otherTeacher, w.farTeacher, w.pupil, w.otherPupil, w.admin} {
			if _, err := w.cw.Read(ctx, who, w.pupil.ID); !refused(err) {
				t.Errorf("%s %s reads the family's thread: %v", who.Kind, who.Name, err)
			}
			if _, err := w.cw.Post(ctx, who, w.pupil.ID, "hello"); !refused(err) {
				t.Errorf("%s %s writes in the family's thread: %v", who.Kind, who.Name, err)
			}
		}
		if n := auditCount(t, db, people.ActMessageWrite, w.pupil.ID); n != 2 {
			t.Errorf("%d messages audited, want 2", n)
		}
		if n := auditCount(t, db, people.ActMessageRead, w.pupil.ID); n != 2 { // the key adult's and the EWO's reading
			t.Errorf("%d staff readings audited, want 2", n)
		}
		// The threads each reader follows, unread first.
		if u, err := w.cw.UnreadThreads(ctx, w.keyAdult); err != nil || len(u) != 1 || u[0].PupilID != w.pupil.ID || u[0].Unread != 0 {
			t.Errorf("the key adult's threads %+v %v", u, err)
		}
		if u, err := w.cw.UnreadThreads(ctx, w.ewo); err != nil || len(u) != 1 || u[0].Unread != 0 {
			t.Errorf("the EWO's threads %+v %v", u, err)
		}
		if u, err := w.cw.UnreadThreads(ctx, w.otherTeacher); err != nil || len(u) != 0 {
			t.Errorf("a teacher who is no key adult follows %+v %v", u, err)
		}
		if u, err := w.cw.UnreadThreads(ctx, w.otherParent); err != nil || len(u) != 1 || u[0].PupilID != w.otherPupil.ID {
			t.Errorf("the other parent follows %+v %v", u, err)
		}
		if _, err := w.cw.UnreadThreads(ctx, w.pupil); !refused(err) {
			t.Errorf("a pupil follows threads: %v", err)
		}
		// With no key adult, a family's message tells the pupil's EWO.
		if _, err := db.Q().Exec(ctx, `DELETE FROM key_adults`); err != nil {
			t.Fatal(err)
		}
		if _, err := w.cw.Post(ctx, w.parent, w.pupil.ID, "Anyone there?"); err != nil {
			t.Fatal(err)
		}
		if n := w.sent.take(); len(n) != 1 || n[0].To != "ewo@la.test" {
			t.Errorf("with no key adult the message told %+v, want the EWO", n)
		}
	})
}

func TestCheckIns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		clock := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		w.cw.SetClock(func() time.Time { clock = clock.Add(24 * time.Hour); return clock })
		if _, err := w.cw.SetKeyAdult(ctx, w.admin, w.pupil.ID, w.keyAdult.ID, ""); err != nil {
			t.Fatal(err)
		}
		for _, f := range []int{0, 6, -1} {
			if _, err := w.cw.CheckIn(ctx, w.pupil, w.pupil.ID, f, ""); !errors.Is(err, people.ErrInvalid) {
				t.Errorf("feeling %d: %v", f, err)
			}
		}
		if _, err := w.cw.CheckIn(ctx, w.pupil, w.pupil.ID, 3, strings.Repeat("a", 501)); !errors.Is(err, people.ErrInvalid) {
			t.Errorf("501 characters of words: %v", err)
		}
		if _, err := w.cw.CheckIn(ctx, w.otherPupil, w.pupil.ID, 3, ""); !refused(err) {
			t.Errorf("another pupil checked in for the pupil: %v", err)
		}
		if _, err := w.cw.CheckIn(ctx, w.parent, w.pupil.ID, 3, ""); !refused(err) {
			t.Errorf("a parent checked in for the pupil: %v", err)
		}
		for i, f := range []int{4, 2, 1} {
			if _, err := w.cw.CheckIn(ctx, w.pupil, w.pupil.ID, f, "day "+string(rune('1'+i))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := w.cw.CheckInsOf(ctx, w.keyAdult, w.pupil.ID)
		if err != nil || len(got.CheckIns) != 3 || got.CheckIns[0].Feeling != 1 || got.LowRun {
			t.Fatalf("after 4, 2, 1: %+v %v (two low in a row are no run)", got, err)
		}
		if _, err := w.cw.CheckIn(ctx, w.pupil, w.pupil.ID, 2, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := w.cw.CheckInsOf(ctx, w.keyAdult, w.pupil.ID); !got.LowRun {
			t.Error("three low check-ins in a row raised no note for the key adult")
		}
		if own, err := w.cw.CheckInsOf(ctx, w.pupil, w.pupil.ID); err != nil || len(own.CheckIns) != 4 {
			t.Errorf("the pupil sees their own: %+v %v", own, err)
		}
		// Seen by the pupil and the key adult only.
		for _, who := range []people.Actor{w.parent, w.otherTeacher, w.ewo, w.admin, w.otherPupil, w.farTeacher} {
			if _, err := w.cw.CheckInsOf(ctx, who, w.pupil.ID); !refused(err) {
				t.Errorf("%s %s sees the pupil's check-ins: %v", who.Kind, who.Name, err)
			}
		}
		if n := auditCount(t, db, people.ActCheckInRead, w.pupil.ID); n != 2 {
			t.Errorf("the key adult's views audited %d times, want 2", n)
		}
		// The pupil's subject access export holds it all.
		if _, err := w.cw.Post(ctx, w.parent, w.pupil.ID, "A message to erase"); err != nil {
			t.Fatal(err)
		}
		ex, err := w.cw.ExportPupil(ctx, w.admin, w.pupil.ID)
		if err != nil || ex.KeyAdult == nil || len(ex.Messages) != 1 || len(ex.CheckIns) != 4 {
			t.Errorf("export %+v %v", ex, err)
		}
		if _, err := w.cw.ExportPupil(ctx, w.parent, w.pupil.ID); !refused(err) {
			t.Errorf("a parent exported: %v", err)
		}
		// Erasing the pupil takes every casework record with them.
		if err := w.ps.ErasePupil(ctx, w.admin, w.pupil.ID); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"key_adults", "messages", "message_reads", "checkins"} {
			var n int
			if err := db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE pupil_id = ?`, w.pupil.ID).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s keeps %d rows of an erased pupil (%v)", table, n, err)
			}
		}
	})
}

func TestLowStreak(t *testing.T) {
	for _, c := range []struct {
		feelings []int // newest first
		want     bool
	}{
		{nil, false},
		{[]int{1, 1}, false},
		{[]int{1, 2, 2}, true},
		{[]int{2, 2, 3}, false},
		{[]int{3, 1, 1, 1}, false},
		{[]int{1, 1, 1, 5, 5}, true},
	} {
		var cs []CheckIn
		for _, f := range c.feelings {
			cs = append(cs, CheckIn{Feeling: f})
		}
		if got := lowStreak(cs); got != c.want {
			t.Errorf("%v: %v, want %v", c.feelings, got, c.want)
		}
	}
}
