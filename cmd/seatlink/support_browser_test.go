package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"seatlink/internal/browsertest"
	"seatlink/people"
	"seatlink/plans"
)

// Listen and understand, in a real browser: the caseload's EWO records a
// barrier (and resolves another), a support action (overdue, said in
// words) and moves it on, and a contact on the staff's view of a pupil;
// the standing barrier and the open action are on the printed summary,
// which is still one A4 landscape page. The pupil says what they want to
// say before their plan's review from their own device's session; the EWO
// sees those words on the plan's review form before recording the review,
// and the record keeps them with the barriers and support as they stood.
// Each new state: axe-core in English and Welsh; the filled pages no
// wider than the window at every screen.
func TestBrowserCaseBarriersSupportReview(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	w := newDeviceWorld(t, a)
	const pw = "case worker password"
	ewo, err := a.people.CreateStaff(bg, w.sys, people.StaffInput{Role: people.RoleEWO, Email: "ewo@case.test", Name: "Elin EWO",
		SchoolID: w.school, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.people.AssignCaseload(bg, w.sys, ewo.ID, w.pupil); err != nil {
		t.Fatal(err)
	}
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) }
	review := day(3)
	pl, err := a.plans.Create(bg, w.sys, w.pupil, plans.Input{Status: plans.Active, StartsOn: day(-14), EndsOn: day(40),
		Phases:  []plans.Phase{{Name: "Mornings", StartsOn: day(-14), EndsOn: day(40), SchoolSessions: 3, RobotSessions: 4}},
		Reviews: []plans.Review{{On: review}}})
	if err != nil {
		t.Fatal(err)
	}
	p := pageTool{t: t, ctx: ctx, a: a}
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := browsertest.Do(ctx, 20*time.Second, actions...); err != nil {
			t.Fatal(err)
		}
	}
	// each opens path in Welsh and English (English last), waits for
	// ready, runs before (opening a form, say), then axe-core and, if
	// asked, the screens.
	each := func(path, ready, where string, before func(), screens bool) {
		t.Helper()
		hash := ""
		if i := strings.Index(path, "#"); i >= 0 {
			path, hash = path[:i], path[i:]
		}
		for _, lang := range []string{"cy", "en"} {
			p.open(path+"?lang="+lang+hash, "main")
			p.wait(where+" in "+lang, ready)
			if before != nil {
				before()
			}
			if screens {
				p.screens(where + "-" + lang)
			}
			p.axe(where + " in " + lang)
		}
	}
	pupilPage := "/ewo#pupil=" + w.pupil
	ready := `document.body.dataset.ready === '1' && !document.getElementById('pupil').hidden && !document.getElementById('support-panel').hidden`
	openForms := func() {
		do(chromedp.Click("#barrier-add summary"), chromedp.Click("#support-add summary"), chromedp.Click("#contact-add summary"))
	}

	// 1. Nothing yet: the part is there, its forms open.
	p.signIn("/ewo?lang=en#pupil="+w.pupil, "ewo@case.test", pw, "#support-panel")
	p.wait("the pupil page", ready)
	if got := p.eval(`['barriers-none', 'support-none', 'contacts-none'].map(id => document.getElementById(id).textContent).join('|')`); got !=
		"No barriers recorded yet.|No support agreed yet.|No contacts recorded yet." {
		t.Errorf("an empty case: %q", got)
	}
	each(pupilPage, ready, "case, empty, forms open", openForms, false)

	// 2. A barrier as the pupil named it; another, resolved.
	const words = "The corridors are too loud at change-over."
	do(chromedp.SetValue("#barrier-form [name=kind]", "anxiety"), chromedp.SetValue("#barrier-form [name=named_by]", "pupil"),
		chromedp.SetValue("#barrier-form [name=words]", words), chromedp.Click("#barrier-form button"))
	p.wait("the barrier added", `document.getElementById('barrier-status').textContent === 'Barrier added: Anxiety or emotionally based school avoidance.' &&
		document.activeElement === document.getElementById('barrier-status')`)
	do(chromedp.SetValue("#barrier-form [name=kind]", "transport"), chromedp.SetValue("#barrier-form [name=named_by]", "parent"),
		chromedp.Click("#barrier-form button"))
	p.wait("the second barrier", `document.querySelectorAll('#barrier-list li.standing').length === 2`)
	do(chromedp.Click(`#barrier-list li.standing:nth-child(2) button.resolve`))
	p.wait("the barrier resolved", `document.getElementById('barrier-list-status').textContent === 'Transport: marked resolved.' &&
		document.activeElement === document.getElementById('barrier-list-status')`)
	if got := p.eval(`Array.from(document.querySelectorAll('#barrier-list li')).map(li => li.querySelector('.case-head').textContent + '/' +
		li.querySelector('.meta').textContent.replace(/, .*$/, '') + '/' + (li.querySelector('.words') || {}).textContent + '/' + !!li.querySelector('button')).join('|')`); !strings.HasPrefix(got,
		"Anxiety or emotionally based school avoidance Standing/Named by the pupil/“"+words+"”/true|Transport Resolved ") || !strings.HasSuffix(got, "/Named by a parent/undefined/false") {
		t.Errorf("the barriers: %q", got)
	}

	// 3. A support action, due yesterday: overdue, in words.
	const action = "Quiet room pass for change-over"
	do(chromedp.SetValue("#support-form [name=action]", action), chromedp.SetValue("#support-form [name=owner]", "Mrs Evans, key adult"),
		chromedp.SetValue("#support-form [name=due_on]", day(-1)), chromedp.Click("#support-form button"))
	p.wait("the action added", `document.getElementById('support-status').textContent.startsWith('Action added: “`+action+`”, due ') &&
		document.activeElement === document.getElementById('support-status')`)
	if got := p.eval(`document.querySelector('#support-list li').className + '|' + document.querySelector('#support-list li .chip.overdue').textContent`); got !=
		"support overdue open|Overdue" {
		t.Errorf("the overdue action: %q", got)
	}
	// An action with no owner is refused beside the form, the field marked.
	do(chromedp.SetValue("#support-form [name=action]", "Lift to school"), chromedp.Click("#support-form button"))
	p.wait("the missing owner", `document.getElementById('support-status').textContent === 'Say who does it.' &&
		document.querySelector('#support-form [name=owner]').getAttribute('aria-invalid') === 'true'`)
	p.eval(`document.querySelector('#support-form [name=action]').value = ''`)
	// Moved on: in progress (still open, still overdue).
	do(chromedp.SetValue("#support-list li select", "in_progress"), chromedp.Click("#support-list li form button"))
	p.wait("the status saved", `document.getElementById('support-list-status').textContent === '“`+action+`” is now: In progress.' &&
		document.activeElement === document.getElementById('support-list-status')`)

	// 4. A contact: a home visit today with the pupil and a parent.
	do(chromedp.SetValue("#contact-form [name=kind]", "home_visit"), chromedp.SetValue("#contact-form [name=held_on]", day(0)),
		chromedp.Click(`#contact-form input[value=pupil]`), chromedp.Click(`#contact-form input[value=parent]`),
		chromedp.SetValue("#contact-form [name=notes]", "Talked about mornings."), chromedp.Click("#contact-form button"))
	p.wait("the contact", `document.getElementById('contact-status').textContent.startsWith('Contact recorded: Home visit, ') &&
		document.querySelectorAll('#contact-list li').length === 1`)
	if got := p.eval(`document.querySelector('#contact-list li .meta').textContent`); got != "With: Pupil and Parent" {
		t.Errorf("the contact's people: %q", got)
	}
	each(pupilPage, ready+` && document.querySelectorAll('#barrier-list li').length === 2`, "case, filled", openForms, true)
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "case-filled-page.png"))
	}

	// 5. The printed summary: the standing barrier and the open action,
	// not the resolved one; one A4 landscape page.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := p.eval(`[getComputedStyle(document.getElementById('support-print')).display, getComputedStyle(document.getElementById('support-panel')).display,
		document.getElementById('print-barriers').innerText, document.getElementById('print-support').innerText].join('|')`); !strings.HasPrefix(got,
		"block|none|Anxiety or emotionally based school avoidance (named by the pupil) “"+words+"”|"+action+" (Mrs Evans, key adult, due ") ||
		!strings.HasSuffix(got, ", In progress) OVERDUE") || strings.Contains(got, "Transport") {
		t.Errorf("printed: %q", got)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""}); err != nil {
		t.Fatal(err)
	}
	if n := p.printedPages("case-print"); n != 1 {
		t.Errorf("the summary with barriers and support prints on %d pages, want 1", n)
	}

	// 6. The pupil says what they want to say, from their own device.
	const said = "I want to start with mornings and sit near the door."
	pupilAPI := pupilSession(t, a, w.sys, w.pupil)
	if status, out := pupilAPI.do("POST", "/api/v1/plans/"+pl.ID+"/reviews/"+review+"/voice", map[string]any{"words": said}); status != 201 {
		t.Fatalf("the pupil's words: %d %s", status, out)
	}

	// 7. The plan's review: the pupil's words before the form; recorded.
	planReady := `document.body.dataset.ready === '1' && !!document.querySelector('#plan-reviews details.record-review')`
	openReview := func() { do(chromedp.Click("#plan-reviews details.record-review summary")) }
	each("/plan#"+pl.ID, planReady, "plan review form", openReview, true)
	if got := p.eval(`[document.querySelector('#plan-reviews .pupil-voice h4').textContent, document.querySelector('#plan-reviews .voice-words').textContent,
		document.getElementById('plan-case-link').getAttribute('href')].join('|')`); got != "What Dev wants to say|“"+said+"”|/ewo#pupil="+w.pupil {
		t.Errorf("the review form: %q", got)
	}
	do(chromedp.Click(`#plan-reviews input[value=pupil]`), chromedp.Click(`#plan-reviews input[value=parent]`),
		chromedp.Click(`#plan-reviews input[value=ewo]`), chromedp.Click("#plan-reviews .review-form button"))
	p.wait("what was decided is asked for", `document.querySelector('#plan-reviews .review-form .result').textContent === 'Say what was decided.'`)
	const decided = "Mornings in class from Monday; the quiet room pass stays."
	do(chromedp.SetValue("#plan-reviews .review-form textarea", decided), chromedp.Click("#plan-reviews .review-form button"))
	p.wait("the review recorded", `!!document.querySelector('#plan-reviews .review-record') &&
		document.activeElement === document.getElementById('review-status') && /^The review of .* is recorded\.$/.test(document.getElementById('review-status').textContent)`)
	if got := p.eval(`Array.from(document.querySelectorAll('#plan-reviews .review-record dd')).map(d => d.textContent).join('|')`); !strings.HasPrefix(got,
		"Pupil, Parent and EWO|“"+said+"”|Anxiety or emotionally based school avoidance (named by the pupil): “"+words+"”|"+action+": Mrs Evans, key adult, due ") ||
		!strings.HasSuffix(got, ", In progress|"+decided) {
		t.Errorf("the review's record: %q", got)
	}
	if c, err := a.casework.CaseOf(bg, w.sys, w.pupil); err != nil || len(c.Reviews) != 1 || c.Reviews[0].PupilWords != said || len(c.Reviews[0].Barriers) != 1 {
		t.Errorf("the stored record: %+v %v", c.Reviews, err)
	}
	each("/plan#"+pl.ID, `document.body.dataset.ready === '1' && !!document.querySelector('#plan-reviews .review-record')`, "plan review recorded", nil, true)
	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		_ = browsertest.Screenshot(ctx, filepath.Join(dir, "plan-review-recorded-page.png"))
	}

	// 8. The pupil's page links the recorded review to its plan.
	p.open("/ewo?lang=en#pupil="+w.pupil, "#case-review-list a")
	if got := p.eval(`document.querySelector('#case-review-list a').getAttribute('href') + '|' + document.querySelector('#case-review-list li').textContent`); !strings.HasPrefix(got,
		"/plan#"+pl.ID+"|Review of ") || !strings.HasSuffix(got, " with Pupil, Parent and EWO") {
		t.Errorf("the case's reviews: %q", got)
	}
	do(chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))

	// 9. A teacher of another school may not see the case, nor record.
	jar, _ := cookiejar.New(nil)
	other := &staffClient{t: t, base: a.baseURL(), c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	status, body := other.do("POST", "/api/v1/session", map[string]string{"email": "school-b@t.test", "password": "teacher password 1"})
	var v struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &v); status != 200 || err != nil {
		t.Fatalf("the other teacher's session: %d %s", status, body)
	}
	other.csrf = v.CSRF
	if status, out := other.do("GET", "/api/v1/pupils/"+w.pupil+"/case", nil); status != 404 && status != 403 || strings.Contains(string(out), "corridors") {
		t.Errorf("another school's teacher, the case: %d %s", status, out)
	}
	if status, _ := other.do("POST", "/api/v1/pupils/"+w.pupil+"/barriers", map[string]string{"kind": "other", "named_by": "school"}); status != 404 && status != 403 {
		t.Errorf("another school's teacher adds a barrier: %d", status)
	}
}
