package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

var pluralForms = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true}

// The catalogues have the same keys, each a text or plural forms with
// "other", with the same placeholders in every language.
func TestCataloguesMatch(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	en := cats["en"]
	if len(en.Keys()) < 40 {
		t.Fatalf("the English catalogue has %d keys", len(en.Keys()))
	}
	placeholdersOf := func(c *Catalogue, key string) string {
		forms, _ := c.Forms(key)
		var all []string
		for _, s := range forms {
			all = append(all, Placeholders(s)...)
		}
		sort.Strings(all)
		return strings.Join(dedupe(all), ",")
	}
	for _, l := range Languages {
		c := cats[l]
		for _, k := range c.Keys() {
			forms, ok := c.Forms(k)
			if !ok {
				t.Errorf("%s: %s is neither a text nor plural forms", l, k)
				continue
			}
			if _, plain := forms[""]; !plain {
				if _, ok := forms["other"]; !ok {
					t.Errorf("%s: %s has plural forms without \"other\"", l, k)
				}
				for f := range forms {
					if !pluralForms[f] {
						t.Errorf("%s: %s has a plural form %q", l, k, f)
					}
				}
			}
			for f, s := range forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: %s%s is empty", l, k, f)
				}
			}
			if l == "en" {
				continue
			}
			if !en.Has(k) {
				t.Errorf("%s has %s, English does not", l, k)
			} else if a, b := placeholdersOf(en, k), placeholdersOf(c, k); a != b {
				t.Errorf("%s: %s has placeholders %q, English %q", l, k, b, a)
			}
		}
		for _, k := range en.Keys() {
			if !c.Has(k) {
				t.Errorf("%s lacks %s", l, k)
			}
		}
	}
	var meta map[string]string
	if raw, ok := cats["cy"].entries["@meta"]; !ok || json.Unmarshal(raw, &meta) != nil || !strings.Contains(meta["review"], "Welsh speaker") {
		t.Error("the Welsh catalogue's header does not mark it for review by a Welsh speaker")
	}
}

// Every page renders in every language: <html lang> set, each marked
// text and attribute in place, and nothing a person reads left unmarked.
func TestPagesAreMarkedAndRender(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := fs.Glob(Static(), "*.html")
	if err != nil || len(pages) < 6 {
		t.Fatalf("pages %v: %v", pages, err)
	}
	for _, p := range pages {
		b, err := fs.ReadFile(Static(), p)
		if err != nil {
			t.Fatal(err)
		}
		if problems := unmarked(t, b); notYetMarked[p] {
			t.Logf("%s: not yet in Welsh (%d texts unmarked)", p, len(problems))
			continue
		} else {
			for _, problem := range problems {
				t.Errorf("%s: %s", p, problem)
			}
		}
		for _, l := range Languages {
			out, err := Render(b, cats[l])
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			if !bytes.Contains(out, []byte(`<html lang="`+l+`"`)) {
				t.Errorf("%s in %s: no <html lang=%q>", p, l, l)
			}
			if !bytes.Contains(out, []byte(`<script id="i18n" type="application/json">`)) {
				t.Errorf("%s in %s: no catalogue for the scripts", p, l)
			}
		}
	}
}

// notYetMarked are the pages still being put into Welsh (issue 17): it is
// empty when every page is.
var notYetMarked = map[string]bool{}

// readable are the attributes a person reads or hears.
var readable = []string{"aria-label", "placeholder", "title", "alt", "aria-description"}

// unmarked lists the text and readable attributes of a page that are not
// marked for translation (translate="no" keeps an element as it is).
func unmarked(t *testing.T, page []byte) []string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *html.Node, marked bool)
	walk = func(n *html.Node, marked bool) {
		if n.Type == html.ElementNode {
			if n.DataAtom == atom.Script || n.DataAtom == atom.Style || attr(n, "translate") == "no" {
				return
			}
			if attr(n, "data-i18n") != "" {
				marked = true
			}
			spec := attr(n, "data-i18n-attr")
			for _, a := range readable {
				if attr(n, a) != "" && !strings.Contains(spec, a+":") {
					out = append(out, "<"+n.Data+" "+a+"="+attr(n, a)+"> is not marked")
				}
			}
		}
		if n.Type == html.TextNode && !marked && strings.TrimSpace(n.Data) != "" && !symbols.MatchString(strings.TrimSpace(n.Data)) {
			out = append(out, "text "+strings.TrimSpace(n.Data)+" is not marked")
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch, marked)
		}
	}
	walk(doc, false)
	return out
}

// symbols are texts with no words in them (punctuation, arrows).
var symbols = regexp.MustCompile(`^[\p{P}\p{S}\s\d]*$`)

// Every key a script names is in every catalogue; a name ending in "."
// or "_" is the start of keys the script completes (by a code), and some
// key must start with it.
func TestScriptsKeysExist(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := fs.Glob(Static(), "*.js")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`'((?:pupil|staff|station|console|ewo|plan|parent|casework|common|error|lang|date|mail)\.[a-z0-9_.]*)'`)
	found := 0
	for _, s := range scripts {
		b, err := fs.ReadFile(Static(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllSubmatch(b, -1) {
			found++
			key := string(m[1])
			for _, l := range Languages {
				c := cats[l]
				if strings.HasSuffix(key, ".") || strings.HasSuffix(key, "_") {
					if !hasPrefix(c.Keys(), key) {
						t.Errorf("%s completes keys starting %s, which %s has none of", s, key, l)
					}
				} else if !c.Has(key) {
					t.Errorf("%s asks for %s, which %s lacks", s, key, l)
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no script asks for a text by key")
	}
}

func hasPrefix(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		url, cookie, accept, want string
	}{
		{"/join", "", "", "en"},
		{"/join", "", "cy-GB,cy;q=0.9,en;q=0.5", "cy"},
		{"/join", "", "en-GB,en;q=0.9,cy;q=0.5", "en"},
		{"/join", "", "fr-FR", "en"},
		{"/join", "cy", "en-GB", "cy"},
		{"/join?lang=en", "cy", "cy", "en"},
		{"/join?lang=xx", "cy", "", "cy"},
		{"/join", "xx", "", "en"},
		{"/join", "", "garbage;;q=", "en"},
	} {
		r := httptest.NewRequest("GET", c.url, nil)
		if c.cookie != "" {
			r.Header.Set("Cookie", LangCookie+"="+c.cookie)
		}
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		if got := Negotiate(r); got != c.want {
			t.Errorf("%s cookie %q accept %q: %s, want %s", c.url, c.cookie, c.accept, got, c.want)
		}
	}
}

func TestRenderRefusesUnknownKeysAndMarkup(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{
		`<html><head></head><body><p data-i18n="no.such.key">x</p></body></html>`,
		`<html><head></head><body><p data-i18n="common.close">x <b>y</b></p></body></html>`, // the text has no <0>,
		`<html><head></head><body><input data-i18n-attr="placeholder:no.such.key"></body></html>`,
		`<html><head></head><body><input data-i18n-attr="placeholder"></body></html>`,
	} {
		if _, err := Render([]byte(page), cats["cy"]); err == nil {
			t.Errorf("%s rendered", page)
		}
	}
	out, err := Render([]byte(`<!doctype html><html lang="en"><head><title data-i18n="common.close">Close</title></head>`+
		`<body><button data-i18n-attr="aria-label:common.cancel">x</button></body></html>`), cats["cy"])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<html lang="cy">`, `<title data-i18n="common.close">Cau</title>`, `aria-label="Canslo"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rendered page lacks %s:\n%s", want, out)
		}
	}
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func TestRenderKeepsInlineElements(t *testing.T) {
	c := &Catalogue{Lang: "cy", entries: map[string]json.RawMessage{
		"k":   json.RawMessage(`"Pwyswch <0>H</0> am eich llaw, <1>saethau</1> i edrych"`),
		"bad": json.RawMessage(`"Pwyswch <0>H</0>"`),
	}, raw: []byte(`{}`)}
	out, err := Render([]byte(`<html><head></head><body><p data-i18n="k">Press <kbd>H</kbd> for your hand, <em>arrows</em> to look</p></body></html>`), c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<p data-i18n="k">Pwyswch <kbd>H</kbd> am eich llaw, <em>saethau</em> i edrych</p>`; !bytes.Contains(out, []byte(want)) {
		t.Errorf("got %s, want %s", out, want)
	}
	if _, err := Render([]byte(`<html><head></head><body><p data-i18n="bad">Press <kbd>H</kbd>, <em>arrows</em></p></body></html>`), c); err == nil {
		t.Error("a text leaving out one of the page's elements rendered")
	}
}
