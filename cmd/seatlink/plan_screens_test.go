package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/people"
	"seatlink/plans"
)

// The plan view and editor (an EWO) and the parent's page, in English and
// in Welsh: no sideways scrolling at any screen, the timeline with its
// legend, 0 axe-core violations. The parent reads their child's week and
// term in words, sees only their own child, and is refused another
// family's.
func TestBrowserPlanParentScreensAxe(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	const pw = "generated test password"
	gen, err := engagement.GenerateLA(bg, a.db, a.people, engagement.LAOptions{Schools: 1, Pupils: 3, Password: pw,
		GenOptions: engagement.GenOptions{Seed: 5, Until: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, err := a.people.DB().Q().Query(bg, `SELECT id FROM pupils ORDER BY pupil_number`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < 2 {
		t.Fatalf("pupils %v", ids)
	}
	sys := people.System
	sys.LAID = gen.LAID
	d := func(days int) string { return time.Now().AddDate(0, 0, days).Format(time.DateOnly) }
	plan, err := a.plans.Create(bg, sys, ids[0], plans.Input{Status: "active", StartsOn: d(-21), EndsOn: d(60),
		Summary: "Back to class a little more each week.", Phases: []plans.Phase{
			{Name: "Robot mornings", StartsOn: d(-21), EndsOn: d(6), SchoolSessions: 2, RobotSessions: 6, OtherHours: 1.5, RobotUse: "Maths and English"},
			{Name: "Half days in class", StartsOn: d(7), EndsOn: d(34), SchoolSessions: 5, RobotSessions: 3},
			{Name: "Back in class", StartsOn: d(35), EndsOn: d(60), SchoolSessions: 9}},
		Reviews: []plans.Review{{On: d(20)}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, email := range []string{"parent@family1.test", "parent@family2.test"} {
		_, invite, err := a.people.InviteParent(bg, sys, people.ParentInput{Email: email, Name: "Parent", PupilIDs: []string{ids[i]}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.people.AcceptInvite(bg, invite, pw); err != nil {
			t.Fatal(err)
		}
	}
	p := pageTool{t: t, ctx: ctx, a: a}

	// The EWO's plan view and editor.
	p.signIn("/plan#"+plan.ID, gen.EWOEmails[0], pw, "#edit-plan")
	for _, lang := range []string{"en", "cy"} {
		// The pupil's list of plans, then the plan.
		p.open("/plan?lang="+lang+"&pupil="+ids[0], "#plan-list a")
		p.axe("list of plans in " + lang)
		p.open("/plan?lang="+lang+"#"+plan.ID, "#edit-plan")
		p.wait("the plan", `document.body.dataset.ready === '1' && document.querySelectorAll('#plan-phases li').length === 3`)
		if got := p.eval(`[document.querySelectorAll('#plan-chart svg.timeline').length, document.querySelectorAll('#plan-legend ul.legend li').length].join(' ')`); got != "1 6" {
			t.Errorf("%s plan: timeline and legend items %q", lang, got)
		}
		if lang == "cy" {
			if got := p.eval(`document.documentElement.lang + ' ' + document.querySelector('#plan-legend li').textContent`); got != "cy Sesiynau yn yr ysgol (tywyll)" {
				t.Errorf("Welsh legend: %q", got)
			}
			if got := p.eval(`document.getElementById('plan-phases').textContent`); !strings.Contains(got, "hanner diwrnod yr wythnos yn yr ysgol") {
				t.Errorf("Welsh phases: %q", got)
			}
		}
		p.screens("plan-" + lang)
		p.axe("plan view in " + lang)
		if err := chromedp.Do(ctx, chromedp.Click("#edit-plan"), chromedp.WaitVisible("#plan-form")); err != nil {
			t.Fatal(err)
		}
		if got := p.eval(`String(document.querySelectorAll('#phase-rows tr').length)`); got != "3" {
			t.Errorf("editor: %s phase rows", got)
		}
		p.screens("plan-editor-" + lang)
		p.axe("plan editor in " + lang)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#cancel-edit"), chromedp.WaitVisible("#signout"), chromedp.Click("#signout"),
		chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}

	// The parent's sign-in, then the parent of the first child.
	for _, lang := range []string{"cy", "en"} {
		p.open("/parent?lang="+lang, "#signin-form")
		p.screens("parent-signin-" + lang)
		p.axe("parent sign-in in " + lang)
	}
	p.signIn("/parent", "parent@family1.test", pw, "#child-plans .progress")
	for _, lang := range []string{"en", "cy"} {
		p.open("/parent?lang="+lang, "#child-plans .progress")
		p.wait("the child's plan", `document.body.dataset.ready === '1' && !!document.querySelector('#child-plans ul.legend')`)
		if got := p.eval(`String(document.querySelectorAll('#child-plans section.child').length)`); got != "1" {
			t.Errorf("the parent sees %s children, want their one", got)
		}
		words := p.eval(`document.querySelector('#child-plans .progress').innerText`)
		want := map[string][]string{"en": {"This week", "This term so far", "half-day"}, "cy": {"Yr wythnos hon", "Y tymor hwn hyd yma", "hanner diwrnod"}}[lang]
		for _, w := range want {
			if !strings.Contains(words, w) {
				t.Errorf("%s: the child's progress says %q, without %q", lang, words, w)
			}
		}
		p.screens("parent-" + lang)
		p.axe("parent page in " + lang)
	}
	// Another family's child is refused, with nothing of theirs.
	if got := p.eval(`Promise.all(['overview', 'plans', 'history'].map(k => fetch('/api/v1/pupils/` + ids[1] + `/' + k).then(r => r.status))).then(s => s.join(' '))`); got != "404 404 404" {
		t.Errorf("another family's child: %s, want 404s", got)
	}
}
