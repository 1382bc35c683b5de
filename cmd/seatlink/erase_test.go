package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"seatlink/engagement"
	"seatlink/people"
	"seatlink/plans"
)

// Erasing a pupil removes every row about them: a pupil with something in
// every room (join links and sessions, the robot's pairing, a caseload
// and a parent, marks, a plan with notes and history, engagement
// evidence, every kind of casework record) is erased through the API, and then every column of every
// table is searched for their id. Only the audit log keeps it, by design:
// the bare id is the record that the erasure was done, and by whom.
func TestErasureLeavesNoRowAboutThePupil(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	link := newTestLink(t, a)
	sys := people.System
	sys.LAID = link.LAID
	id := link.PupilID
	if _, _, err := a.people.RedeemJoinToken(ctx, link.PupilToken); err != nil { // a remembered device
		t.Fatal(err)
	}
	ewo, err := a.people.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleEWO, SchoolID: link.SchoolID,
		Email: "ewo@erase.test", Name: "E", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.people.AssignCaseload(ctx, sys, ewo.ID, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.people.InviteParent(ctx, sys, people.ParentInput{Email: "parent@erase.test", Name: "P", PupilIDs: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := engagement.NewRegisters(a.db, a.people).Set(ctx, sys, engagement.Mark{PupilID: id, Day: "2026-11-23", Session: "AM", Code: "I"}); err != nil {
		t.Fatal(err)
	}
	pl, err := a.plans.Create(ctx, sys, id, plans.Input{Status: plans.Active, StartsOn: "2026-11-02", EndsOn: "2027-02-12",
		Phases: []plans.Phase{{Name: "One", StartsOn: "2026-11-02", EndsOn: "2027-02-12", SchoolSessions: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.plans.AddNote(ctx, sys, pl.ID, "A note."); err != nil {
		t.Fatal(err)
	}
	// Casework: a key adult, a message, a check-in, a barrier, support, a
	// contact, the pupil's words, a review's record, a return check-in.
	pupilActor := people.Actor{Kind: "pupil", ID: id, Role: people.RolePupil}
	for _, step := range []func() error{
		func() error { _, err := a.casework.SetKeyAdult(ctx, sys, id, ewo.ID, ""); return err },
		func() error {
			_, err := a.casework.Post(ctx, people.Actor{Kind: "staff", ID: ewo.ID, Role: people.RoleEWO, LAID: sys.LAID, SchoolID: link.SchoolID}, id, "Hello")
			return err
		},
		func() error { _, err := a.casework.CheckIn(ctx, pupilActor, id, 3, "ok"); return err },
		func() error { _, err := a.casework.AddBarrier(ctx, sys, id, "anxiety", "pupil", "noise"); return err },
		func() error {
			_, err := a.casework.AddSupport(ctx, sys, id, "Quiet room", "Key adult", "2027-01-10")
			return err
		},
		func() error {
			_, err := a.casework.AddContact(ctx, sys, id, "call", "2026-12-01", []string{"parent"}, "")
			return err
		},
		func() error {
			_, err := a.casework.SayBeforeReview(ctx, pupilActor, id, pl.ID, "2027-01-15", "Mornings")
			return err
		},
		func() error {
			_, err := a.casework.RecordReview(ctx, sys, id, pl.ID, "2027-01-15", []string{"pupil"}, "Carry on")
			return err
		},
		func() error {
			_, err := a.db.Q().Exec(ctx, `INSERT INTO return_checkins (pupil_id, reason, done_by, done_at) VALUES (?, ?, ?, ?)`,
				id, "present:2026-11-24:AM", ewo.ID, time.Now().UnixMilli())
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{engagement.SessionUp, engagement.MediaStarted, engagement.HandRaised} {
		a.recorder.Record(engagement.Event{At: time.Now(), PupilID: id, LinkID: link.RobotID, Kind: k})
	}
	a.recorder.Flush()
	if n := countID(t, a, id, nil); n < 20 {
		t.Fatalf("the fixture holds the pupil's id in only %d rows", n)
	}

	admin := signInStaff(t, a, link.LAID, link.SchoolID, people.RoleAdmin)
	if status, body := admin.do("DELETE", "/api/v1/pupils/"+id, nil); status != 200 {
		t.Fatalf("erase: %d %s", status, body)
	}
	// A late event (a session ending after the erasure) is not stored.
	a.recorder.Record(engagement.Event{At: time.Now(), PupilID: id, LinkID: link.RobotID, Kind: engagement.SessionDown})
	a.recorder.Flush()
	var where []string
	if n := countID(t, a, id, &where); n != 0 {
		t.Fatalf("%d rows still hold the erased pupil's id: %s", n, strings.Join(where, ", "))
	}
}

// countID counts the rows of every table (but the audit log) in which any
// column holds id, and says where.
func countID(t *testing.T, a *app, id string, where *[]string) int {
	t.Helper()
	ctx := context.Background()
	rows, err := a.db.Q().Query(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	total := 0
	for _, table := range tables {
		if table == "audit_log" || table == "schema_migrations" {
			continue
		}
		cols, err := a.db.Q().Query(ctx, `SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				t.Fatal(err)
			}
			names = append(names, c)
		}
		cols.Close()
		for _, c := range names {
			var n int
			if err := a.db.Q().QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE CAST(`+c+` AS TEXT) LIKE ?`, "%"+id+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 && where != nil {
				*where = append(*where, table+"."+c)
			}
			total += n
		}
	}
	return total
}
