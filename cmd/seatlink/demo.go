package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	"seatlink/devices"
	"seatlink/devices/sim"
	"seatlink/engagement"
	"seatlink/materials"
	"seatlink/people"
	"seatlink/plans"
)

// demoWorld is what --demo creates.
type demoWorld struct {
	Admin, Teacher, EWO people.Staff
	ParentEmail         string
	Pupil               people.Pupil
	Robot               devices.Device
	RobotCredential     string
	JoinURL, JoinCode   string
	passwords           map[string]string
}

func demoPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startDemo creates a demo LA, school, classroom, admin, teacher, EWO,
// parent and pupil with a robot link, prints the logins and the pupil's
// join link, and starts a simulated robot in this process.
func (a *app) startDemo(stdout io.Writer) error {
	ctx := context.Background()
	p := a.people
	w := demoWorld{passwords: map[string]string{}}
	la, err := p.CreateLA(ctx, people.System, "Demo Local Authority")
	if err != nil {
		return err
	}
	sys := people.System
	sys.LAID = la.ID
	staff := func(role people.Role, email, name, school string) (people.Staff, error) {
		pw := demoPassword()
		w.passwords[email] = pw
		return p.CreateStaff(ctx, sys, people.StaffInput{Role: role, Email: email, Name: name, SchoolID: school, Password: pw})
	}
	if w.Admin, err = staff(people.RoleAdmin, "admin@demo.seatlink.test", "Demo Admin", ""); err != nil {
		return err
	}
	school, err := p.CreateSchool(ctx, sys, la.ID, "Demo Primary School")
	if err != nil {
		return err
	}
	class, err := p.CreateClassroom(ctx, sys, school.ID, "Year 5 Oak")
	if err != nil {
		return err
	}
	if w.Teacher, err = staff(people.RoleTeacher, "teacher@demo.seatlink.test", "Demo Teacher", school.ID); err != nil {
		return err
	}
	if w.EWO, err = staff(people.RoleEWO, "ewo@demo.seatlink.test", "Demo EWO", school.ID); err != nil {
		return err
	}
	if err := p.AssignClassroom(ctx, sys, w.Teacher.ID, class.ID); err != nil {
		return err
	}
	year := 5
	if w.Pupil, err = p.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: class.ID,
		PupilNumber: "D0001", DisplayName: "Demo Pupil", YearGroup: &year}); err != nil {
		return err
	}
	if err := p.AssignCaseload(ctx, sys, w.EWO.ID, w.Pupil.ID); err != nil {
		return err
	}
	// Classmates on the EWO's caseload, and a few weeks of history for
	// all of them, so the caseload and pupil pages have something to show.
	ids := []string{w.Pupil.ID}
	for i, name := range []string{"Amara K.", "Ben T.", "Chloe R.", "Dev P.", "Ella M.", "Finn O.", "Grace L."} {
		c, err := p.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: class.ID,
			PupilNumber: fmt.Sprintf("D%04d", i+2), DisplayName: name, YearGroup: &year})
		if err != nil {
			return err
		}
		if err := p.AssignCaseload(ctx, sys, w.EWO.ID, c.ID); err != nil {
			return err
		}
		ids = append(ids, c.ID)
	}
	// The demo pupil is second: the generator's "part-time, returning, engaging remotely" profile.
	ids[0], ids[1] = ids[1], ids[0]
	// History from the start of the academic year: the year-to-date
	// figures rest on a whole register, as a school's own would.
	if _, _, err := engagement.Generate(ctx, a.db, p, sys, school.ID, ids, engagement.GenOptions{Seed: 5}); err != nil {
		return err
	}
	if err := a.demoPlan(ctx, sys, w.Pupil, class.ID); err != nil {
		return err
	}
	w.ParentEmail = "parent@demo.seatlink.test"
	_, invite, err := p.InviteParent(ctx, sys, people.ParentInput{Email: w.ParentEmail, Name: "Demo Parent",
		PupilIDs: []string{w.Pupil.ID}})
	if err != nil {
		return err
	}
	w.passwords[w.ParentEmail] = demoPassword()
	if _, err := p.AcceptInvite(ctx, invite, w.passwords[w.ParentEmail]); err != nil {
		return err
	}
	if w.Robot, w.RobotCredential, err = a.devices.ProvisionRobot(ctx, sys, "Demo robot 1", school.ID, class.ID, w.Pupil.ID); err != nil {
		return err
	}
	teacher := people.Actor{Kind: "staff", ID: w.Teacher.ID, Role: people.RoleTeacher, LAID: la.ID, SchoolID: school.ID}
	jl, err := p.IssueJoinLink(ctx, teacher, w.Pupil.ID, 7*24*time.Hour)
	if err != nil {
		return err
	}
	w.JoinURL, w.JoinCode = a.baseURL()+"/join#"+jl.Token, jl.Code
	a.demo = w

	fmt.Fprintf(stdout, "admin login: %s %s\n", w.Admin.Email, w.passwords[w.Admin.Email])
	fmt.Fprintf(stdout, "teacher login: %s %s\n", w.Teacher.Email, w.passwords[w.Teacher.Email])
	fmt.Fprintf(stdout, "ewo login: %s %s\n", w.EWO.Email, w.passwords[w.EWO.Email])
	fmt.Fprintf(stdout, "parent login: %s %s\n", w.ParentEmail, w.passwords[w.ParentEmail])
	fmt.Fprintf(stdout, "caseload page (sign in as the EWO): %s/ewo\n", a.baseURL())
	fmt.Fprintf(stdout, "pupil join code: %s\n", jl.Code)
	fmt.Fprintf(stdout, "pupil join link: %s\n", w.JoinURL)
	a.printNetworkHint(stdout)
	if !a.cfg.DemoRobot {
		fmt.Fprintf(stdout, "robot token: %s\n", w.RobotCredential)
		fmt.Fprintf(stdout, "classroom station link: %s/station#token=%s\n", a.baseURL(), w.RobotCredential)
		return nil
	}
	robot, err := sim.New(sim.Config{Server: a.loopbackURL(), TLS: a.selfTrust(), Token: w.RobotCredential,
		Logger: a.log.With("component", "demo")})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.demoMu.Lock()
	a.demoRobot, a.demoCancel, a.demoDone = robot, cancel, done
	a.demoMu.Unlock()
	go func() {
		defer close(done)
		if err := robot.Run(rctx); err != nil {
			a.log.Error("demo robot stopped", "err", err)
		}
	}()
	return nil
}

// demoPlan gives the demo pupil an active three-phase plan that began four
// weeks ago, a review next week, and a worksheet for phase one.
func (a *app) demoPlan(ctx context.Context, sys people.Actor, pupil people.Pupil, classroom string) error {
	d := func(days int) string { return time.Now().AddDate(0, 0, days).Format(time.DateOnly) }
	plan, err := a.plans.Create(ctx, sys, pupil.ID, plans.Input{Status: plans.Active,
		StartsOn: d(-28), EndsOn: d(70), Summary: "Back to class step by step: mornings through the robot first, then more time in the room.",
		Phases: []plans.Phase{
			{Name: "Robot mornings", StartsOn: d(-28), EndsOn: d(6), SchoolSessions: 2, RobotSessions: 5, RobotUse: "all morning lessons"},
			{Name: "Half days in class", StartsOn: d(7), EndsOn: d(41), SchoolSessions: 5, RobotSessions: 3, RobotUse: "afternoons only"},
			{Name: "Back in class", StartsOn: d(42), EndsOn: d(70), SchoolSessions: 9, RobotSessions: 0, RobotUse: "only on a bad day"},
		},
		Reviews: []plans.Review{{On: d(-7), Held: true}, {On: d(5)}}})
	if err != nil {
		return err
	}
	_, err = a.materials.Upload(ctx, sys, materials.Input{ClassroomID: classroom, Title: "Fractions worksheet", Subject: "Maths",
		LessonDate: d(-1), PhaseID: plan.Phases[0].ID, Filename: "fractions.txt"},
		strings.NewReader("Fractions\n\n1. 1/2 + 1/4 = ?\n2. 3/4 - 1/2 = ?\n3. Draw 2/3 of a pizza.\n"))
	return err
}

// lanDemoArgs serve the demo to other machines on the LAN over HTTPS with
// a generated certificate (a browser gives the microphone and camera only
// to HTTPS pages, or to http://127.0.0.1 on the same machine).
const lanDemoArgs = "serve --demo --tls-self-signed --http-addr 0.0.0.0:8443 --media-udp 0.0.0.0:8444 --media-tcp 0.0.0.0:8444"

// printNetworkHint says how to reach the demo from another machine, or,
// on a self-signed certificate, the fingerprint to check.
func (a *app) printNetworkHint(stdout io.Writer) {
	switch {
	case a.tls != nil && a.tls.SelfSigned != nil:
		fmt.Fprintf(stdout, "certificate: self-signed, SHA-256 %s (check it when the browser warns)\n", a.tls.SelfSigned.SHA256)
		fmt.Fprintf(stdout, "certificate file for devices (-ca-file): %s\n", a.selfSignedPEM)
	case a.tls == nil:
		fmt.Fprintf(stdout, "to serve the demo to other devices on this network (HTTPS, self-signed): seatlink %s\n", lanDemoArgs)
	}
}
