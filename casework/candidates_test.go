package casework

import (
	"context"
	"testing"

	"seatlink/internal/store"
	"seatlink/internal/store/storetest"
	"seatlink/people"
)

// The staff one may choose as a pupil's key adult are exactly those
// SetKeyAdult accepts (the pupil's school's staff, the LA's EWOs and
// admins; never another school's teacher), listed only for someone who
// may name the key adult; the caseload's column gets the names.
func TestKeyAdultCandidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		got, err := w.cw.KeyAdultCandidates(ctx, w.otherTeacher, w.pupil.ID)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]Candidate{}
		for _, c := range got {
			ids[c.StaffID] = c
		}
		for _, want := range []people.Actor{w.keyAdult, w.otherTeacher, w.ewo, w.admin} {
			if _, ok := ids[want.ID]; !ok {
				t.Errorf("%s (%s) is not offered", want.Name, want.Role)
			}
		}
		if _, ok := ids[w.farTeacher.ID]; ok || len(got) != 4 {
			t.Errorf("candidates %+v: want the four of the pupil's school and LA, not another school's teacher", got)
		}
		// Every one offered is accepted.
		last := ""
		for _, c := range got {
			if _, err := w.cw.SetKeyAdult(ctx, w.ewo, w.pupil.ID, c.StaffID, "x"); err != nil {
				t.Errorf("offered %s, refused: %v", c.Name, err)
			}
			last = c.Name
		}
		got, _ = w.cw.KeyAdultCandidates(ctx, w.admin, w.pupil.ID)
		n := 0
		for _, c := range got {
			if c.Current {
				n++
				if c.Name != last {
					t.Errorf("current key adult %s, want %s (named last)", c.Name, last)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d marked current", n)
		}
		// Who may not name a key adult gets no list.
		for name, a := range map[string]people.Actor{"another school's teacher": w.farTeacher, "a parent": w.parent, "the pupil": w.pupil} {
			if _, err := w.cw.KeyAdultCandidates(ctx, a, w.pupil.ID); !refused(err) {
				t.Errorf("%s lists the candidates: %v", name, err)
			}
		}
		// The EWO's scope is the caseload: the other pupil is not on it.
		if _, err := w.cw.KeyAdultCandidates(ctx, w.ewo, w.otherPupil.ID); !refused(err) {
			t.Errorf("an EWO lists candidates for a pupil off their caseload: %v", err)
		}

		pupils := []people.Pupil{{ID: w.pupil.ID}, {ID: w.otherPupil.ID}}
		names, err := w.cw.KeyAdultNames(ctx, pupils)
		if err != nil || len(names) != 1 || names[w.pupil.ID] != last {
			t.Errorf("key adult names %v %v", names, err)
		}
	})
}
