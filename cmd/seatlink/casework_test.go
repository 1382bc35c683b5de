package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"seatlink/casework"
	"seatlink/internal/browsertest"
	"seatlink/internal/config"
	"seatlink/internal/mail/mailtest"
	"seatlink/people"
	"seatlink/web"
)

// signInAt signs in on a sign-in route (staff or parent) as the pages do.
func signInAt(t testing.TB, a *app, route, email, password string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	sc := &staffClient{t: t, base: a.baseURL(), c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	status, body := sc.do("POST", route, map[string]string{"email": email, "password": password})
	var v struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &v); status != 200 || err != nil {
		t.Fatalf("sign-in at %s: %d %s", route, status, body)
	}
	sc.csrf = v.CSRF
	return sc
}

// A parent writes to the pupil's key adult, who is told by e-mail at a
// real SMTP server (STARTTLS, the server's own CA) with a link and none of
// the words; the key adult answers, and the parent, who chose Welsh, is
// told in Welsh. Another family cannot read the thread.
func TestMessagesNotifyByMailWithoutTheWords(t *testing.T) {
	smtp := mailtest.Start(t)
	a := testAppWith(t, func(c *config.Serve) {
		c.SMTPAddr, c.SMTPFrom, c.SMTPCA = smtp.SMTPAddr, "seatlink@la.test", smtp.CAFile
	})
	ctx := context.Background()
	w := newDeviceWorld(t, a)
	if _, err := a.casework.SetKeyAdult(ctx, w.sys, w.pupil, w.teacher.ID, "Ring the school office"); err != nil {
		t.Fatal(err)
	}
	_, invite, err := a.people.InviteParent(ctx, w.sys, people.ParentInput{Email: "mam@home.test", Name: "Mam", PupilIDs: []string{w.pupil}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.people.AcceptInvite(ctx, invite, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	parent := signInAt(t, a, "/api/v1/parent/session", "mam@home.test", "a long enough password")
	if status, out := parent.do("PUT", "/api/v1/session/language", map[string]string{"lang": "cy"}); status != 200 {
		t.Fatalf("parent chooses Welsh: %d %s", status, out)
	}
	if status, out := parent.do("GET", "/api/v1/pupils/"+w.pupil+"/key-adult", nil); status != 200 ||
		!strings.Contains(string(out), "Ring the school office") {
		t.Errorf("the parent sees the key adult: %d %s", status, out)
	}
	const secret = "Dai cried before school today"
	if status, out := parent.do("POST", "/api/v1/pupils/"+w.pupil+"/messages", map[string]string{"body": secret}); status != 201 {
		t.Fatalf("parent writes: %d %s", status, out)
	}
	got := smtp.WaitFor(t, 1, 15*time.Second)
	m := got[0]
	if len(m.To) != 1 || m.To[0] != "school-a@t.test" || m.Subject != "A family has written to you" {
		t.Errorf("the key adult's notice: to %v, subject %q", m.To, m.Subject)
	}
	if !strings.Contains(m.Text, a.baseURL()+"/ewo#pupil="+w.pupil) {
		t.Errorf("the notice has no link to the staff pages: %q", m.Text)
	}
	if strings.Contains(m.Text, "cried") || strings.Contains(m.Subject, "cried") || strings.Contains(m.Text, "Dev") {
		t.Errorf("the notice carries the message or the pupil's name: %q", m.Text)
	}

	teacher := signInAt(t, a, "/api/v1/session", "school-a@t.test", "teacher password 1")
	status, out := teacher.do("GET", "/api/v1/pupils/"+w.pupil+"/messages", nil)
	var th casework.Thread
	if status != 200 || json.Unmarshal(out, &th) != nil || len(th.Messages) != 1 || th.Messages[0].Body != secret || th.Unread != 1 {
		t.Fatalf("the key adult reads: %d %s", status, out)
	}
	if status, out := teacher.do("POST", "/api/v1/pupils/"+w.pupil+"/messages", map[string]string{"body": "Thank you. I will ring at 4."}); status != 201 {
		t.Fatalf("the key adult answers: %d %s", status, out)
	}
	got = smtp.WaitFor(t, 2, 15*time.Second)
	var toParent *mailtest.Mail
	for i := range got {
		if len(got[i].To) == 1 && got[i].To[0] == "mam@home.test" {
			toParent = &got[i]
		}
	}
	want, _ := web.Words("cy").Text("mail.family_message.subject", nil)
	if toParent == nil || toParent.Subject != want || !strings.Contains(toParent.Text, a.baseURL()+"/parent") ||
		strings.Contains(toParent.Text, "ring at 4") {
		t.Fatalf("the parent's notice (in Welsh, a link, no words): %+v", toParent)
	}

	// Another family, and a teacher who is not the key adult, see nothing.
	other := signInStaff(t, a, w.sys.LAID, w.school, people.RoleTeacher)
	if status, _ := other.do("GET", "/api/v1/pupils/"+w.pupil+"/messages", nil); status != 404 {
		t.Errorf("a teacher who is not the key adult reads the thread: %d", status)
	}
	year := 6
	p2, err := a.people.CreatePupil(ctx, w.sys, people.PupilInput{SchoolID: w.school, ClassroomID: w.classroom, PupilNumber: "D2",
		DisplayName: "Other", YearGroup: &year})
	if err != nil {
		t.Fatal(err)
	}
	_, invite2, err := a.people.InviteParent(ctx, w.sys, people.ParentInput{Email: "other@home.test", Name: "Other", PupilIDs: []string{p2.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.people.AcceptInvite(ctx, invite2, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	otherParent := signInAt(t, a, "/api/v1/parent/session", "other@home.test", "a long enough password")
	if status, _ := otherParent.do("GET", "/api/v1/pupils/"+w.pupil+"/messages", nil); status != 404 {
		t.Errorf("another family reads the thread: %d", status)
	}
	if status, _ := otherParent.do("POST", "/api/v1/pupils/"+w.pupil+"/messages", map[string]string{"body": "hi"}); status != 404 {
		t.Errorf("another family writes in the thread: %d", status)
	}
	if n := len(smtp.Messages(t)); n != 2 {
		t.Errorf("%d e-mails, want 2", n)
	}
}

// Every kind of notice has its words in every language.
func TestNoticesHaveWordsInEveryLanguage(t *testing.T) {
	for _, kind := range []string{casework.NoticeFamilyMessage, casework.NoticeStaffMessage} {
		for _, l := range web.Languages {
			for _, part := range []string{"subject", "body"} {
				s, ok := web.Words(l).Text("mail."+kind+"."+part, map[string]string{"link": "https://x.test/p"})
				if !ok || s == "" || (part == "body" && !strings.Contains(s, "https://x.test/p")) {
					t.Errorf("%s: mail.%s.%s is %q", l, kind, part, s)
				}
			}
		}
	}
}

// A key adult's Today view lists the families' threads they follow, new
// messages first and counted, each leading to the pupil's page with the
// thread; in English and Welsh, with no accessibility failures.
func TestBrowserKeyAdultSeesFamilyMessagesOnToday(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	bg := context.Background()
	w := newDeviceWorld(t, a)
	ka, err := a.people.CreateStaff(bg, w.sys, people.StaffInput{Role: people.RoleTeacher, Email: "ka@msg.test", Name: "Ms Key",
		SchoolID: w.school, Password: consolePassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.casework.SetKeyAdult(bg, w.sys, w.pupil, ka.ID, ""); err != nil {
		t.Fatal(err)
	}
	pa, invite, err := a.people.InviteParent(bg, w.sys, people.ParentInput{Email: "mum@msg.test", Name: "Mum", PupilIDs: []string{w.pupil}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.people.AcceptInvite(bg, invite, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.casework.Post(bg, people.Actor{Kind: "parent", ID: pa.ID, Role: people.RoleParent}, w.pupil, "Can we talk?"); err != nil {
		t.Fatal(err)
	}
	item := `#threads-list li[data-pupil="` + w.pupil + `"]`
	for lang, want := range map[string]string{"en": "Dev 1 new message", "cy": "Dev 1 neges newydd"} {
		consoleSignIn(t, ctx, a, "ka@msg.test", lang)
		if err := browsertest.Do(ctx, 10*time.Second, chromedp.WaitVisible(item)); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if got, _ := chromedp.Run(ctx, chromedp.Text(item)); strings.TrimSpace(got) != want {
			t.Errorf("%s: the thread says %q, want %q", lang, got, want)
		}
		if href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+item+` a').getAttribute('href')`)); href != "/ewo#pupil="+w.pupil {
			t.Errorf("%s: the thread leads to %q", lang, href)
		}
		for _, v := range browsertest.Axe(ctx, t) {
			t.Errorf("%s: %s", lang, v)
		}
		if err := chromedp.Do(ctx, chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form")); err != nil {
			t.Fatal(err)
		}
	}
}
