package signaling

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"seatlink/web"
)

// Pages come in the person's language, which a ?lang= switch remembers
// on the device; API errors come in it too, by their stable code.
func TestPagesAndErrorsInWelsh(t *testing.T) {
	srv := newFixture(t, Config{}).srv
	get := func(path string, header map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Body.Close() })
		return r
	}
	body := func(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

	r := get("/staff", map[string]string{"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.4"})
	if b := body(r); !strings.Contains(b, `<html lang="cy">`) || r.Header.Get("Content-Language") != "cy" {
		t.Errorf("Welsh browser got lang %q", r.Header.Get("Content-Language"))
	}
	r = get("/staff?lang=cy", nil)
	var remembered *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == web.LangCookie {
			remembered = c
		}
	}
	if remembered == nil || remembered.Value != "cy" || remembered.MaxAge < 86400*365 {
		t.Fatalf("?lang=cy remembered as %+v", remembered)
	}
	if b := body(get("/staff", map[string]string{"Cookie": web.LangCookie + "=cy", "Accept-Language": "en"})); !strings.Contains(b, `<html lang="cy">`) {
		t.Error("the remembered choice did not win over the browser's language")
	}
	if b := body(get("/staff", nil)); !strings.Contains(b, `<html lang="en">`) {
		t.Error("no language asked for: not English")
	}

	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	r = get("/api/v1/session", map[string]string{"Accept-Language": "cy"})
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("%d %v", r.StatusCode, err)
	}
	want, _ := web.Words("cy").Text("error."+e.Error.Code, nil)
	if e.Error.Code != "unauthenticated" || e.Error.Message != want || want == "" {
		t.Errorf("Welsh error %+v, want %q", e.Error, want)
	}
	r = get("/api/v1/session", nil)
	_ = json.NewDecoder(r.Body).Decode(&e)
	if e.Error.Message != "sign in first" {
		t.Errorf("English error %q", e.Error.Message)
	}
}

// Every error code the API can answer with has words in every language.
func TestEveryErrorCodeHasWords(t *testing.T) {
	code := regexp.MustCompile(`(?:apiErr\([^,]+,|writeHTTPError\([a-z]+, [^,]+,|"error": gin\.H\{"code":) "([a-z_]+)"`)
	files, _ := filepath.Glob("*.go")
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range code.FindAllSubmatch(b, -1) {
			seen[string(m[1])] = true
		}
	}
	for _, c := range []string{"invalid_plan", "future_date", "invalid", "conflict", "import_failed"} {
		seen[c] = true // set in toAPIError and renderError from domain errors
	}
	if len(seen) < 30 {
		t.Fatalf("found only %d error codes: %v", len(seen), seen)
	}
	for c := range seen {
		for _, l := range web.Languages {
			if !web.Words(l).Has("error." + c) {
				t.Errorf("%s has no words for error %s", l, c)
			}
		}
	}
}

// A person's chosen language is kept with them: signing in on another
// device (a shared school computer) opens the pages in it.
func TestLanguageKeptWithThePerson(t *testing.T) {
	w := newAPIWorld(t)
	cl := w.signIn(t, "teacher1")
	if status, out := cl.do("PUT", "/api/v1/session/language", map[string]string{"lang": "xx"}, nil); status != 400 ||
		!strings.Contains(string(out), "bad_lang") {
		t.Errorf("an unknown language: %d %s", status, out)
	}
	if status, out := cl.do("PUT", "/api/v1/session/language", map[string]string{"lang": "cy"}, nil); status != 200 {
		t.Fatalf("choosing Welsh: %d %s", status, out)
	}
	other := w.signIn(t, "teacher1") // another device
	status, out := other.do("GET", "/api/v1/session", nil, nil)
	if status != 200 || !strings.Contains(string(out), `"lang":"cy"`) {
		t.Errorf("the session on another device: %d %s", status, out)
	}
	if got := jarCookie(t, other, web.LangCookie); got != "cy" {
		t.Errorf("signing in on another device set the language cookie to %q, want cy", got)
	}
}

func jarCookie(t *testing.T, c *apiClient, name string) string {
	u, err := url.Parse(c.base)
	if err != nil || c.http.Jar == nil {
		t.Fatalf("client without a cookie jar: %v", err)
	}
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
