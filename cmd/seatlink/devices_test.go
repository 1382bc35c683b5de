package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"seatlink/devices"
	"seatlink/devices/sim"
	"seatlink/engagement"
	"seatlink/internal/wire"
	"seatlink/people"
)

// deviceWorld is an LA with a school, a classroom with its teacher, a
// pupil, and a teacher of another school.
type deviceWorld struct {
	sys, teacher, otherTeacher people.Actor
	school, classroom, pupil   string
}

func newDeviceWorld(t *testing.T, a *app) deviceWorld {
	t.Helper()
	ctx := context.Background()
	la, err := a.people.CreateLA(ctx, people.System, "Device LA")
	if err != nil {
		t.Fatal(err)
	}
	w := deviceWorld{sys: people.System}
	w.sys.LAID = la.ID
	mk := func(name string) (people.School, people.Classroom, people.Actor) {
		sch, err := a.people.CreateSchool(ctx, w.sys, la.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		cls, err := a.people.CreateClassroom(ctx, w.sys, sch.ID, "Class")
		if err != nil {
			t.Fatal(err)
		}
		st, err := a.people.CreateStaff(ctx, w.sys, people.StaffInput{Role: people.RoleTeacher, Email: name + "@t.test",
			Name: "T", SchoolID: sch.ID, Password: "teacher password 1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.people.AssignClassroom(ctx, w.sys, st.ID, cls.ID); err != nil {
			t.Fatal(err)
		}
		return sch, cls, people.Actor{Kind: "staff", ID: st.ID, Role: people.RoleTeacher, LAID: la.ID, SchoolID: sch.ID}
	}
	sch, cls, teacher := mk("school-a")
	_, _, other := mk("school-b")
	w.school, w.classroom, w.teacher, w.otherTeacher = sch.ID, cls.ID, teacher, other
	year := 6
	p, err := a.people.CreatePupil(ctx, w.sys, people.PupilInput{SchoolID: sch.ID, ClassroomID: cls.ID, PupilNumber: "D1",
		DisplayName: "Dev", YearGroup: &year})
	if err != nil {
		t.Fatal(err)
	}
	w.pupil = p.ID
	return w
}

func TestDeviceEnrollCommandSleepRevoke(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	w := newDeviceWorld(t, a)
	d, code, err := a.devices.Create(ctx, w.sys, devices.KindRobot, "Robot A")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := a.devices.Lend(ctx, w.sys, d.ID, w.school, now, now.AddDate(0, 6, 0)); err != nil {
		t.Fatal(err)
	}
	if err := a.devices.Place(ctx, w.sys, d.ID, w.classroom); err != nil {
		t.Fatal(err)
	}
	if err := a.devices.Pair(ctx, w.sys, d.ID, w.pupil); err != nil {
		t.Fatal(err)
	}
	// A command before the robot has ever connected fails at once.
	start := time.Now()
	if _, err := a.hub.Command(ctx, w.teacher, d.ID, wire.DevCmdSleep, nil); !errors.Is(err, devices.ErrOffline) {
		t.Fatalf("command to an offline robot: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("an offline command took %s", time.Since(start))
	}

	// The robot enrolls with the code, keeps its credential, comes online.
	robot, err := sim.New(sim.Config{Server: a.baseURL(), EnrollCode: code, StatePath: filepath.Join(t.TempDir(), "robot.json"),
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- robot.Run(rctx) }()
	waitFor(t, 10*time.Second, "the robot online", func() bool { return a.hub.Status(d.ID).Online })
	waitFor(t, 5*time.Second, "a heartbeat", func() bool { return a.hub.Status(d.ID).Telemetry != nil })

	// The pupil sees the classroom.
	jl, err := a.people.IssueJoinLink(ctx, w.sys, w.pupil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := joinPupil(t, a, testLink{PupilToken: jl.Token}, nil)
	waitFor(t, 25*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() > 30 })

	// Another school's teacher can neither see nor command the robot.
	if _, err := a.devices.Get(ctx, w.otherTeacher, d.ID); !errors.Is(err, people.ErrNotFound) {
		t.Fatalf("other school's teacher sees the robot: %v", err)
	}
	if _, err := a.hub.Command(ctx, w.otherTeacher, d.ID, wire.DevCmdSleep, nil); !errors.Is(err, people.ErrNotFound) {
		t.Fatalf("other school's teacher commands the robot: %v", err)
	}
	// The classroom's teacher puts it to sleep: it says so, and its media stop.
	st, err := a.hub.Command(ctx, w.teacher, d.ID, wire.DevCmdSleep, nil)
	if err != nil || !st.Asleep {
		t.Fatalf("sleep: %+v %v", st, err)
	}
	time.Sleep(300 * time.Millisecond) // packets in flight
	frozen := p.videoFrames.Load()
	time.Sleep(time.Second)
	if got := p.videoFrames.Load(); got > frozen+1 {
		t.Fatalf("video still flowing while asleep: %d → %d frames", frozen, got)
	}
	if st, err := a.hub.Command(ctx, w.teacher, d.ID, wire.DevCmdWake, nil); err != nil || st.Asleep {
		t.Fatalf("wake: %+v %v", st, err)
	}
	waitFor(t, 5*time.Second, "video after waking", func() bool { return p.videoFrames.Load() > frozen+15 })
	// Sleeping and waking are engagement evidence for the paired pupil.
	a.recorder.Flush()
	evs, err := engagement.Events(ctx, a.db, w.pupil, start, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var sleeps []string
	for _, e := range evs {
		if e.Kind == engagement.RobotAsleep || e.Kind == engagement.RobotAwake {
			sleeps = append(sleeps, e.Kind)
			if e.LinkID != d.ID {
				t.Errorf("%s recorded against %s, want the robot %s", e.Kind, e.LinkID, d.ID)
			}
		}
	}
	if strings.Join(sleeps, " ") != "robot_asleep robot_awake" {
		t.Fatalf("sleep evidence %v, want robot_asleep robot_awake", sleeps)
	}
	lvl := 30
	if st, err := a.hub.Command(ctx, w.teacher, d.ID, wire.DevCmdVolume, &wire.CommandArgs{Level: &lvl}); err != nil || st.Volume != 30 {
		t.Fatalf("volume: %+v %v", st, err)
	}
	if _, err := a.hub.Command(ctx, w.teacher, d.ID, "self_destruct", nil); !errors.Is(err, people.ErrInvalid) {
		t.Fatalf("unknown command: %v", err)
	}

	// Revocation disconnects the robot within 5 s, media included.
	revoked := time.Now()
	if err := a.devices.Revoke(ctx, w.sys, d.ID); err != nil {
		t.Fatal(err)
	}
	a.hub.Disconnect(d.ID, devices.ReasonRevoked, "revoked")
	a.sfu.Evict(d.ID, "robot")
	select {
	case err := <-runErr:
		if err == nil {
			t.Fatal("the revoked robot's Run ended without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the revoked robot was not disconnected within 5 s")
	}
	t.Logf("revoked robot disconnected in %s", time.Since(revoked).Round(time.Millisecond))
	got, _ := a.devices.Get(ctx, w.sys, d.ID)
	if got.Presence != "offline" || got.PresenceReason != devices.ReasonRevoked {
		t.Fatalf("presence after revocation: %s (%s)", got.Presence, got.PresenceReason)
	}
}

// After kill -9 of a device-sim process, the robot shows offline within two
// heartbeat intervals.
func TestKilledDeviceGoesOffline(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	w := newDeviceWorld(t, a)
	d, cred, err := a.devices.ProvisionRobot(ctx, w.sys, "Robot K", w.school, w.classroom, w.pupil)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "seatlink")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "device-sim", "-server", a.baseURL(), "-token", cred, "-state", filepath.Join(t.TempDir(), "s.json"),
		"-log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitFor(t, 15*time.Second, "the device-sim online", func() bool { return a.hub.Status(d.ID).Online })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	limit := 2 * a.hub.Interval
	waitFor(t, limit+500*time.Millisecond, "offline after kill -9", func() bool { return !a.hub.Status(d.ID).Online })
	t.Logf("offline %s after kill -9 (limit %s)", time.Since(killed).Round(time.Millisecond), limit)
	got, _ := a.devices.Get(ctx, w.sys, d.ID)
	if got.Presence != "offline" || got.PresenceReason == "" {
		t.Fatalf("presence %q reason %q", got.Presence, got.PresenceReason)
	}
	if _, err := a.hub.Command(ctx, w.teacher, d.ID, wire.DevCmdWake, nil); !errors.Is(err, devices.ErrOffline) {
		t.Fatalf("command to the killed robot: %v", err)
	}
}
