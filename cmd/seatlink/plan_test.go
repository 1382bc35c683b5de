package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"seatlink/internal/browsertest"
	"seatlink/people"
)

// The plan flow in a real browser: an EWO writes a plan with three
// phases; the class teacher uploads a worksheet to phase one; a parent
// adds their view; the pupil's page lists the worksheet in their plan's
// material, and what it downloads is the teacher's file, byte for byte.
func TestBrowserPlanWorksheetNoteAndPupil(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	la, _ := a.people.CreateLA(bg, people.System, "Plan LA")
	sys := people.System
	sys.LAID = la.ID
	school, _ := a.people.CreateSchool(bg, sys, la.ID, "Plan School")
	class, _ := a.people.CreateClassroom(bg, sys, school.ID, "6 Birch")
	const pw = "plan test password"
	ewo, err := a.people.CreateStaff(bg, sys, people.StaffInput{Role: people.RoleEWO, Email: "ewo@plan.test", Name: "Eve EWO", SchoolID: school.ID, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	teacher, err := a.people.CreateStaff(bg, sys, people.StaffInput{Role: people.RoleTeacher, Email: "teacher@plan.test", Name: "Tia Teacher", SchoolID: school.ID, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.people.AssignClassroom(bg, sys, teacher.ID, class.ID); err != nil {
		t.Fatal(err)
	}
	year := 6
	pupil, _ := a.people.CreatePupil(bg, sys, people.PupilInput{SchoolID: school.ID, ClassroomID: class.ID, PupilNumber: "PL1", DisplayName: "Robin", YearGroup: &year})
	if err := a.people.AssignCaseload(bg, sys, ewo.ID, pupil.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.devices.ProvisionRobot(bg, sys, "Robin's robot", school.ID, class.ID, pupil.ID); err != nil {
		t.Fatal(err)
	}
	_, invite, err := a.people.InviteParent(bg, sys, people.ParentInput{Email: "parent@plan.test", Name: "Pat", PupilIDs: []string{pupil.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.people.AcceptInvite(bg, invite, pw); err != nil {
		t.Fatal(err)
	}
	jl, err := a.people.IssueJoinLink(bg, sys, pupil.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	worksheet := append([]byte("%PDF-1.4\n% Fractions worksheet\n"), []byte(strings.Repeat("1/2 + 1/4 = ?\n", 2000))...)
	wsPath := filepath.Join(t.TempDir(), "fractions.pdf")
	if err := os.WriteFile(wsPath, worksheet, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(worksheet)

	waitText := func(sel, want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			s, _ := chromedp.Run(ctx, chromedp.Text(sel))
			if strings.Contains(s, want) {
				return
			}
			if time.Now().After(deadline) {
				status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`((document.getElementById('status')||{}).textContent||'') + ' ' + ((document.getElementById('plan-errors')||{}).textContent||'')`))
				t.Fatalf("%s says %q, want %q (status %q)", sel, s, want, status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	signIn := func(page, email, visible string) {
		t.Helper()
		if err := browsertest.Do(ctx, 30*time.Second, chromedp.Navigate(a.baseURL()+page), chromedp.WaitVisible("#signin-form"),
			chromedp.SetValue("#signin-form [name=email]", email), chromedp.SetValue("#signin-form [name=password]", pw),
			chromedp.Click("#signin-form button"), chromedp.WaitVisible(visible)); err != nil {
			t.Fatal(err)
		}
	}
	d := func(days int) string { return time.Now().AddDate(0, 0, days).Format(time.DateOnly) }

	// The EWO writes the plan: three phases.
	signIn("/plan?pupil="+pupil.ID, "ewo@plan.test", "#new-plan")
	if err := chromedp.Do(ctx, chromedp.Click("#new-plan"), chromedp.WaitVisible("#plan-form"),
		chromedp.SetValue("#plan-form [name=status]", "active"),
		chromedp.SetValue("#plan-form [name=plan_starts]", d(-7)), chromedp.SetValue("#plan-form [name=plan_ends]", d(60)),
		chromedp.SetValue("#plan-form [name=summary]", "Robin comes back to class a little more each week."),
		chromedp.Click("#add-phase"), chromedp.Click("#add-phase")); err != nil {
		t.Fatal(err)
	}
	phases := [][]string{{"Robot mornings", d(-7), d(13), "2", "6"}, {"Half days in class", d(14), d(34), "5", "3"}, {"Back in class", d(35), d(60), "9", "0"}}
	for i, ph := range phases {
		row := "#phase-rows tr:nth-child(" + string(rune('1'+i)) + ") "
		if err := chromedp.Do(ctx, chromedp.SetValue(row+"[name=name]", ph[0]), chromedp.SetValue(row+"[name=starts_on]", ph[1]),
			chromedp.SetValue(row+"[name=ends_on]", ph[2]), chromedp.SetValue(row+"[name=school_sessions]", ph[3]),
			chromedp.SetValue(row+"[name=robot_sessions]", ph[4])); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click("#add-review"), chromedp.SetValue("#review-rows tr:first-child [name=on]", d(20)),
		chromedp.Click("#plan-form button[type=submit]")); err != nil {
		t.Fatal(err)
	}
	waitText("#plan-meta", "version 1")
	waitText("#plan-phases", "Back in class")
	plans, err := a.people.DB().Q().Query(bg, `SELECT id FROM plans WHERE pupil_id = ?`, pupil.ID)
	if err != nil {
		t.Fatal(err)
	}
	var planID string
	for plans.Next() {
		_ = plans.Scan(&planID)
	}
	plans.Close()
	if planID == "" {
		t.Fatal("no plan saved")
	}
	// The EWO's caseload shows the pupil's active plan.
	if err := browsertest.Do(ctx, 30*time.Second, chromedp.Navigate(a.baseURL()+"/ewo"), chromedp.WaitVisible("#caseload-table")); err != nil {
		t.Fatal(err)
	}
	waitText("#caseload-rows", "active plan")
	if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}

	// The teacher uploads the worksheet to phase one.
	signIn("/plan#"+planID, "teacher@plan.test", "#upload-form")
	if err := chromedp.Do(ctx, chromedp.SetValue("#upload-form [name=title]", "Fractions worksheet"),
		chromedp.SetValue("#upload-form [name=subject]", "Maths"), chromedp.SetValue("#upload-form [name=lesson_date]", d(-1)),
		chromedp.SetValue("#upload-phase", mustPhase(t, a, planID, 0)),
		chromedp.SetUploadFiles("#upload-form [name=file]", []string{wsPath}), chromedp.Click("#upload-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#plan-materials", "Fractions worksheet")
	if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}

	// The parent adds their view.
	signIn("/parent", "parent@plan.test", "#child-plans .note-form")
	waitText("#child-plans", "Robot mornings")
	if err := chromedp.Do(ctx, chromedp.SetValue("#child-plans .note-form textarea", "Robin is nervous about assemblies."),
		chromedp.Click("#child-plans .note-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#child-plans .notes", "Robin is nervous about assemblies.")
	waitText("#child-plans .materials", "Fractions worksheet")

	// The pupil's page (on the pupil's device: the parent's session is
	// not kept) lists the worksheet, and the download is the file.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Do(ctx, 30*time.Second, chromedp.Navigate(a.baseURL()+"/join#"+jl.Token),
		chromedp.WaitVisible("#open-plan"), chromedp.Click("#open-plan"), chromedp.WaitVisible("#my-plan")); err != nil {
		t.Fatal(err)
	}
	waitText("#my-plan-body", "this is where you are now")
	waitText("#my-materials", "Fractions worksheet")
	// The pupil's own note: the page says, beside it, that it was sent.
	if err := chromedp.Do(ctx, chromedp.SetValue("#my-plan .note-form textarea", "Assembly was loud but OK."),
		chromedp.Click("#my-plan .note-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#status", "Your note is sent. Your school will read it.")
	// Before the review the pupil says what they want to say; it is kept
	// for the review.
	if err := chromedp.Do(ctx, chromedp.SetValue("#voice-words", "Mornings first, please."),
		chromedp.Click("#my-plan .voice-form button")); err != nil {
		t.Fatal(err)
	}
	waitText("#voice-status", "Sent. Your words will be read at the meeting.")
	waitText("#voice-last", "You said: Mornings first, please.")
	if c, err := a.casework.CaseOf(bg, sys, pupil.ID); err != nil || len(c.Voices) != 1 || c.Voices[0].Words != "Mornings first, please." ||
		c.Voices[0].ReviewOn != d(20) {
		t.Errorf("the pupil's words for the review: %+v %v", c.Voices, err)
	}
	for _, v := range browsertest.Axe(ctx, t) {
		t.Errorf("the pupil's plan sheet: %s", v)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const id = document.querySelector('#my-materials li[data-material]').dataset.material;
		const l = await (await fetch('/api/v1/materials/' + id + '/link')).json();
		const body = await (await fetch(l.url)).arrayBuffer();
		const d = await crypto.subtle.digest('SHA-256', body);
		return Array.from(new Uint8Array(d)).map(b => b.toString(16).padStart(2, '0')).join('');
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != hex.EncodeToString(sum[:]) {
		t.Fatalf("the pupil downloaded sha256 %s, the teacher uploaded %x", got, sum)
	}
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "pupil-plan.png"))
	}
}

func mustPhase(t *testing.T, a *app, planID string, ordinal int) string {
	t.Helper()
	var id string
	if err := a.people.DB().Q().QueryRow(context.Background(), `SELECT id FROM plan_phases WHERE plan_id = ? AND ordinal = ?`, planID, ordinal).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
