package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"seatlink/internal/browsertest"
	"seatlink/internal/config"
	"seatlink/internal/mail/mailtest"
	"seatlink/people"
)

// The people around the pupil, in a real browser against a real server
// and a real SMTP server (mailpit). A teacher opens a pupil with no key
// adult on the staff's pupil page (/ewo#pupil=…), sees no check-ins and no
// thread (not theirs), and names themself with how to reach them; the
// check-ins and the thread appear. The parent sees them on /parent and
// writes; the key adult is told by e-mail (a link, not the words), reads
// it marked new and answers; the parent is told the same way and reads
// the answer, its count in the child's heading. Three low check-ins from
// the pupil's own device session raise the gentle note for the key adult,
// which is never printed. The caseload flags a pupil with no key adult.
// Each new state: axe-core in English and Welsh, and no page wider than
// the window from 320 to 1366 px.
func TestBrowserCaseworkParentKeyAdultCheckIns(t *testing.T) {
	smtp := mailtest.Start(t)
	a := testAppWith(t, func(c *config.Serve) {
		c.SMTPAddr, c.SMTPFrom, c.SMTPCA = smtp.SMTPAddr, "seatlink@la.test", smtp.CAFile
	})
	ctx, _ := browsertest.New(t)
	bg := context.Background()
	w := newDeviceWorld(t, a)
	const staffPW, parentPW = "key adult password", "a long enough password"
	ka, err := a.people.CreateStaff(bg, w.sys, people.StaffInput{Role: people.RoleTeacher, Email: "rhys@school-a.test", Name: "Ms Rhys",
		SchoolID: w.school, Password: staffPW})
	if err != nil {
		t.Fatal(err)
	}
	_, invite, err := a.people.InviteParent(bg, w.sys, people.ParentInput{Email: "mam@home.test", Name: "Mam", PupilIDs: []string{w.pupil}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.people.AcceptInvite(bg, invite, parentPW); err != nil {
		t.Fatal(err)
	}
	year := 6
	if _, err := a.people.CreatePupil(bg, w.sys, people.PupilInput{SchoolID: w.school, ClassroomID: w.classroom, PupilNumber: "D2",
		DisplayName: "Nia", YearGroup: &year}); err != nil {
		t.Fatal(err)
	}
	p := pageTool{t: t, ctx: ctx, a: a}
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := browsertest.Do(ctx, 20*time.Second, actions...); err != nil {
			t.Fatal(err)
		}
	}
	both := func(path, visible, ready, where string, screens bool) {
		t.Helper()
		hash := ""
		if i := strings.Index(path, "#"); i >= 0 {
			path, hash = path[:i], path[i:]
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		for _, lang := range []string{"cy", "en"} {
			p.open(path+sep+"lang="+lang+hash, visible)
			p.wait(where+" in "+lang, ready)
			if screens {
				p.screens(where + "-" + lang)
			}
			p.axe(where + " in " + lang)
		}
	}
	pupilPage := "/ewo#pupil=" + w.pupil
	staffReady := `document.body.dataset.ready === '1' && !document.getElementById('pupil').hidden`

	// 1. The teacher, not yet anyone's key adult: no check-ins, no thread.
	p.signIn(pupilPage, "rhys@school-a.test", staffPW, "#key-adult-form")
	p.wait("the pupil page", staffReady)
	if got := p.eval(`[document.getElementById('key-adult').textContent, document.getElementById('checkins-panel').hidden,
		document.getElementById('thread-panel').hidden, document.getElementById('key-adult-edit').open].join('|')`); got != "No key adult yet.|true|true|true" {
		t.Errorf("before a key adult: %q", got)
	}
	both(pupilPage, "#key-adult-form", staffReady, "staff pupil page, no key adult", false)
	// Names themself, with how to reach them.
	do(chromedp.SetValue("#key-adult-form select", ka.ID), chromedp.SetValue("#key-adult-form [name=contact]", "Ring 01234 567890 after 3"),
		chromedp.Click("#key-adult-form button"))
	p.wait("the key adult saved", `document.getElementById('key-adult-status').textContent === 'Ms Rhys is now the key adult.' &&
		document.activeElement === document.getElementById('key-adult-status')`)
	if got := p.eval(`[document.getElementById('key-adult').textContent, document.querySelector('#checkins-panel .empty').textContent,
		document.querySelector('#thread-panel .empty').textContent].join('|')`); got !=
		"Ms Rhys (teacher, school-a)How to reach them: Ring 01234 567890 after 3|No check-ins yet.|No messages yet." {
		t.Errorf("after naming the key adult: %q", got)
	}
	do(chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))

	// 2. The parent sees the key adult and writes.
	const secret = "Dev did not sleep and is worried about the maths test."
	p.signIn("/parent?lang=en", "mam@home.test", parentPW, "#child-plans .message-form")
	p.wait("the parent page", `document.body.dataset.ready === '1'`)
	if got := p.eval(`document.querySelector('#child-plans .key-adult').textContent`); got != "Ms Rhys (teacher, school-a)How to reach them: Ring 01234 567890 after 3" {
		t.Errorf("the parent's key adult: %q", got)
	}
	both("/parent", "#child-plans .message-form", `document.body.dataset.ready === '1'`, "parent page, empty thread", true)
	box := "#child-plans .message-form textarea"
	do(chromedp.SendKeys(box, secret))
	if got := p.eval(`document.querySelector('#child-plans .message-form .counter').textContent`); got != "3,946 characters left" {
		t.Errorf("counter: %q", got)
	}
	if got := p.eval(`String(document.querySelector('` + box + `').maxLength)`); got != "4000" {
		t.Errorf("the box takes %s characters, want 4000", got)
	}
	do(chromedp.Click("#child-plans .message-form button"))
	p.wait("the parent's message sent", `/^Sent at \d\d:\d\d\. The school will read it here\.$/.test(document.querySelector('#child-plans .message-form [role=status]').textContent)
		&& document.querySelector('#child-plans ol.messages li.mine .msg-body').textContent === '`+secret+`'`)
	p.axe("parent page, message sent")

	// 3. The key adult is told by e-mail: a link, none of the words.
	got := smtp.WaitFor(t, 1, 15*time.Second)
	if m := got[0]; len(m.To) != 1 || m.To[0] != "rhys@school-a.test" || !strings.Contains(m.Text, a.baseURL()+"/ewo#pupil=") ||
		strings.Contains(m.Text+m.Subject, "maths") || strings.Contains(m.Text+m.Subject, "Dev") {
		t.Errorf("the key adult's notice: to %v, %q: %q", m.To, m.Subject, m.Text)
	}
	do(chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))

	// 4. The key adult reads it, marked new, and answers.
	const answer = "Thank you for telling me. I will ring you at 4 and we can plan the test together."
	p.signIn(pupilPage, "rhys@school-a.test", staffPW, "#thread-panel .message-form")
	p.wait("the thread", staffReady)
	if got := p.eval(`Array.from(document.querySelectorAll('#thread-panel li.message')).map(li => [li.className,
		li.querySelector('strong').textContent, li.querySelector('.msg-body').textContent].join('/')).join('|')`); got != "message new/Mam (parent)/"+secret {
		t.Errorf("the key adult's thread: %q", got)
	}
	// Beside the key adult, a button says there is something new and goes to the thread.
	do(chromedp.Click("#thread-jump"))
	if got := p.eval(`document.getElementById('thread-jump').textContent + '|' + document.activeElement.textContent`); got !=
		"Messages with the family (1 new)|Messages with the family" {
		t.Errorf("the button to the thread: %q", got)
	}
	p.axe("staff pupil page, a new message")
	do(chromedp.SendKeys("#thread-panel textarea", answer), chromedp.Click("#thread-panel .message-form button"))
	p.wait("the answer sent", `/^Sent at \d\d:\d\d\. The family will read it here\.$/.test(document.querySelector('#thread-panel [role=status]').textContent)`)
	got = smtp.WaitFor(t, 2, 15*time.Second)
	var toParent *mailtest.Mail
	for i := range got {
		if len(got[i].To) == 1 && got[i].To[0] == "mam@home.test" {
			toParent = &got[i]
		}
	}
	if toParent == nil || !strings.Contains(toParent.Text, a.baseURL()+"/parent") || strings.Contains(toParent.Text+toParent.Subject, "ring you") ||
		strings.Contains(toParent.Text+toParent.Subject, "Dev") {
		t.Errorf("the parent's notice (a link, no words): %+v", toParent)
	}

	// 5. The pupil checks in three times, low, from their own device's
	// session; the key adult sees the check-ins and the gentle note.
	pupilAPI := pupilSession(t, a, w.sys, w.pupil)
	for i, c := range []struct {
		feeling int
		words   string
	}{{2, ""}, {1, "Too loud in class"}, {2, "tired"}} {
		if status, out := pupilAPI.do("POST", "/api/v1/pupils/"+w.pupil+"/check-ins", map[string]any{"feeling": c.feeling, "words": c.words}); status != 201 {
			t.Fatalf("check-in %d: %d %s", i, status, out)
		}
	}
	p.open("/ewo?lang=en#pupil="+w.pupil, "#checkins-panel ol.checkin-list") // a new address: a fresh load
	p.wait("three check-ins", staffReady+` && document.querySelectorAll('#checkins-panel ol.checkin-list li').length === 3`)
	if got := p.eval(`[document.querySelector('#checkins-panel .gentle').textContent,
		Array.from(document.querySelectorAll('#checkins-panel li')).map(li => li.querySelector('.feeling').textContent +
		(li.querySelector('.words') ? ' ' + li.querySelector('.words').textContent : '')).join(', ')].join('|')`); got !=
		"The last three check-ins were low. A quiet word may help.|Hard “tired”, Very hard “Too loud in class”, Hard" {
		t.Errorf("check-ins: %q", got)
	}
	both(pupilPage, "#checkins-panel .gentle", staffReady+` && !!document.querySelector('#checkins-panel .gentle')`, "staff pupil page, check-ins and note", true)
	if got := p.eval(`document.querySelector('#checkins-panel .gentle').textContent`); got != "The last three check-ins were low. A quiet word may help." {
		t.Errorf("the note in English: %q", got)
	}
	// Nothing of the casework is printed, and the pupil's CSV holds no check-in.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := p.eval(`['casework', 'checkins-panel', 'thread-panel'].map(id => document.getElementById(id).getClientRects().length).join(' ')`); got != "0 0 0" {
		t.Errorf("printed: %q", got)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""}); err != nil {
		t.Fatal(err)
	}
	if csv := p.eval(`fetch(document.getElementById('pupil-csv').href).then(r => r.text())`); strings.Contains(csv, "tired") || strings.Contains(csv, "low") ||
		strings.Contains(csv, "quiet word") {
		t.Errorf("the pupil's CSV carries check-ins: %q", csv)
	}

	// 6. The caseload names the key adult and flags the pupil with none.
	p.open("/ewo?lang=en", "#caseload-table")
	p.wait("two rows", `document.body.dataset.ready === '1' && document.querySelectorAll('#caseload-rows tr').length === 2`)
	if got := p.eval(`Array.from(document.querySelectorAll('#caseload-rows tr')).map(r => r.children[0].textContent + ':' +
		r.children[20].textContent + ':' + !!r.children[20].querySelector('.flag.nokey') + ':' + r.children[20].hidden).sort().join('|')`); got !=
		"D1:Ms Rhys:false:false|D2:no key adult:true:false" {
		t.Errorf("the caseload's key adult column: %q", got)
	}
	if csv := p.eval(`fetch(document.getElementById('caseload-csv').href).then(r => r.text())`); !strings.Contains(csv, ",Key adult\r\n") && !strings.Contains(csv, ",Key adult\n") ||
		strings.Contains(csv, "tired") || strings.Contains(csv, "quiet word") {
		t.Errorf("caseload CSV: %q", csv)
	}
	both("/ewo", "#caseload-table", `document.body.dataset.ready === '1' && !!document.querySelector('#caseload-rows .flag.nokey')`, "caseload, no key adult", true)
	do(chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))

	// The caseload's EWO reads the thread too, but not the check-ins (the
	// key adult's alone), and may name another key adult.
	if _, err := a.people.CreateStaff(bg, w.sys, people.StaffInput{Role: people.RoleEWO, Email: "ewo@la.test", Name: "Eifion EWO",
		SchoolID: w.school, Password: staffPW}); err != nil {
		t.Fatal(err)
	}
	var ewoID string
	if err := a.people.DB().Q().QueryRow(bg, `SELECT id FROM staff WHERE email = ?`, "ewo@la.test").Scan(&ewoID); err != nil {
		t.Fatal(err)
	}
	if err := a.people.AssignCaseload(bg, w.sys, ewoID, w.pupil); err != nil {
		t.Fatal(err)
	}
	p.signIn("/ewo?lang=en#pupil="+w.pupil, "ewo@la.test", staffPW, "#thread-panel .message-form")
	p.wait("the EWO's view", staffReady)
	if got := p.eval(`[document.querySelectorAll('#thread-panel li.message').length, document.getElementById('checkins-panel').hidden,
		!!document.querySelector('#checkins-panel .gentle'), document.getElementById('key-adult-edit').hidden,
		document.querySelectorAll('#key-adult-form option').length].join(' ')`); got != "2 true false false 3" {
		t.Errorf("the EWO's view (messages, check-ins hidden, note, form hidden, choices): %q", got)
	}
	p.axe("staff pupil page, the caseload's EWO")
	do(chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))

	// 7. The parent reads the answer, counted in the child's heading.
	p.signIn("/parent?lang=en", "mam@home.test", parentPW, "#child-plans .message-form")
	p.wait("the answer", `document.body.dataset.ready === '1' && document.querySelectorAll('#child-plans li.message').length === 2`)
	if got := p.eval(`[document.querySelector('#child-plans h2').textContent, Array.from(document.querySelectorAll('#child-plans li.message')).map(li =>
		[li.className, li.querySelector('strong').textContent, li.querySelector('.msg-body').textContent].join('/')).join('|')].join('|')`); got !=
		"Dev 1 new message|message mine/You/"+secret+"|message new/Ms Rhys/"+answer {
		t.Errorf("the parent's thread: %q", got)
	}
	p.axe("parent page, an answer")
	// Read now: the count is gone on the next visit; both languages.
	both("/parent", "#child-plans li.message", `document.body.dataset.ready === '1' && !document.querySelector('#child-plans .child-unread')`,
		"parent page, thread read", true)
	if got := p.eval(`document.querySelector('#child-plans .key-adult').textContent + '|' + document.querySelector('#child-plans .thread h3').textContent`); got !=
		"Ms Rhys (teacher, school-a)How to reach them: Ring 01234 567890 after 3|Messages with school" {
		t.Errorf("the parent page in English: %q", got)
	}
}

// pupilSession is an API client signed in as the pupil on their own
// device (their join link's session), as the pupil page is.
func pupilSession(t *testing.T, a *app, sys people.Actor, pupilID string) *staffClient {
	t.Helper()
	jl, err := a.people.IssueJoinLink(context.Background(), sys, pupilID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	sc := &staffClient{t: t, base: a.baseURL(), c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	status, body := sc.do("POST", "/api/v1/pupil/session", map[string]string{"token": jl.Token})
	var v struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &v); status != 200 || err != nil {
		t.Fatalf("the pupil's session: %d %s", status, body)
	}
	sc.csrf = v.CSRF
	return sc
}
