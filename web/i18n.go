package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/language"
)

// Every page, message and error is in English and in Welsh (Cymraeg).
// The words live in one catalogue per language, static/i18n/<lang>.json:
// a flat map from key to text, with {name} placeholders, or to an object
// of CLDR plural forms ("one", "two", "few", "many", "other", "zero") for
// a text with a count {n}. The key "@meta" is the catalogue's header.
//
// A page's fixed words are marked in its HTML (data-i18n="key" for an
// element's text, data-i18n-attr="aria-label:key;placeholder:key" for its
// attributes) and put in place on the server, so a page arrives whole in
// its language; the page's scripts get the catalogue in the page
// (script#i18n, read by static/i18n.js) for the words they make.

// Languages are the languages served, the default first.
var Languages = []string{"en", "cy"}

// LangCookie remembers a person's choice on their device.
const LangCookie = "seatlink_lang"

var matcher = language.NewMatcher([]language.Tag{language.English, language.MustParse("cy")})

// Negotiate picks the language for a request: ?lang= (a switch on the
// page), then the device's remembered choice, then the browser's
// Accept-Language, then English.
func Negotiate(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); Supported(l) {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && Supported(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No {
				return Languages[i]
			}
		}
	}
	return Languages[0]
}

// Supported says whether l is a language served.
func Supported(l string) bool {
	for _, s := range Languages {
		if l == s {
			return true
		}
	}
	return false
}

// Catalogue is one language's words.
type Catalogue struct {
	Lang    string
	entries map[string]json.RawMessage
	raw     []byte
}

// Words is the embedded catalogue for lang (nil if it is not served).
func Words(lang string) *Catalogue {
	cats, err := embedded()
	if err != nil {
		return nil
	}
	return cats[lang]
}

var embedded = sync.OnceValues(Catalogues)

// Catalogues reads the embedded catalogues, by language.
func Catalogues() (map[string]*Catalogue, error) {
	out := make(map[string]*Catalogue, len(Languages))
	for _, l := range Languages {
		c, err := LoadCatalogue(Static(), l)
		if err != nil {
			return nil, err
		}
		out[l] = c
	}
	return out, nil
}

// LoadCatalogue reads static/i18n/<lang>.json from fsys.
func LoadCatalogue(fsys fs.FS, lang string) (*Catalogue, error) {
	b, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("i18n/%s.json: %w", lang, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return nil, err
	}
	return &Catalogue{Lang: lang, entries: m, raw: compact.Bytes()}, nil
}

// Keys are the catalogue's keys, sorted, without its header.
func (c *Catalogue) Keys() []string {
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Forms are an entry's texts: one for a plain text, or its plural forms.
func (c *Catalogue) Forms(key string) (map[string]string, bool) {
	raw, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return map[string]string{"": s}, true
	}
	var forms map[string]string
	if json.Unmarshal(raw, &forms) == nil {
		return forms, true
	}
	return nil, false
}

// Has says whether the catalogue has key.
func (c *Catalogue) Has(key string) bool {
	_, ok := c.entries[key]
	return ok
}

// Text is the plain text for key with {name} placeholders filled from
// vars, and ok false when the catalogue lacks it.
func (c *Catalogue) Text(key string, vars map[string]string) (string, bool) {
	forms, ok := c.Forms(key)
	if !ok {
		return "", false
	}
	s, ok := forms[""]
	if !ok {
		s, ok = forms["other"]
	}
	if !ok {
		return "", false
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	}), true
}

// placeholder is a {name} in a text.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// Placeholders are the distinct {name}s in s, sorted.
func Placeholders(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range placeholder.FindAllString(s, -1) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// Render puts a page's fixed words in lang's place: <html lang>, each
// data-i18n element's text and each data-i18n-attr attribute, and adds
// the catalogue for the page's scripts (script#i18n) at the end of the
// head. A marked key the catalogue lacks is an error, so is a data-i18n
// element holding anything but text.
func Render(page []byte, c *Catalogue) ([]byte, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, err
	}
	var problems []string
	var head *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html:
				setAttr(n, "lang", c.Lang)
			case atom.Head:
				head = n
			}
			if key := attr(n, "data-i18n"); key != "" {
				text, ok := c.Text(key, nil)
				if !ok {
					problems = append(problems, "no text for "+key)
				} else if err := fill(n, text); err != nil {
					problems = append(problems, key+": "+err.Error())
				}
			}
			if spec := attr(n, "data-i18n-attr"); spec != "" {
				for _, pair := range strings.Split(spec, ";") {
					name, key, found := strings.Cut(strings.TrimSpace(pair), ":")
					if !found {
						problems = append(problems, "bad data-i18n-attr "+spec)
						continue
					}
					text, ok := c.Text(strings.TrimSpace(key), nil)
					if !ok {
						problems = append(problems, "no text for "+key)
						continue
					}
					setAttr(n, strings.TrimSpace(name), text)
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", c.Lang, strings.Join(problems, "; "))
	}
	if head == nil {
		return nil, fmt.Errorf("the page has no head")
	}
	script := &html.Node{Type: html.ElementNode, Data: "script", DataAtom: atom.Script,
		Attr: []html.Attribute{{Key: "id", Val: "i18n"}, {Key: "type", Val: "application/json"}}}
	// In a script element's text only "</" could end it early; JSON
	// escapes it as "<\/".
	script.AppendChild(&html.Node{Type: html.TextNode, Data: strings.ReplaceAll(string(c.raw), "</", `<\/`)})
	head.AppendChild(script)
	var out bytes.Buffer
	if err := html.Render(&out, doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func setAttr(n *html.Node, key, val string) {
	for i := range n.Attr {
		if n.Attr[i].Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// inline is a page element inside a text, <0>…</0> for its first.
var inline = regexp.MustCompile(`<(\d)>([^<]*)</(\d)>`)

// fill replaces n's content with text. An element inside the marked one
// (a <kbd>, a <code>, a link) stays, in the place and with the words the
// text gives it: "Press <0>H</0> for your hand" puts the first child
// element, holding "H", there. Each child element is used exactly once.
func fill(n *html.Node, text string) error {
	var kids []*html.Node
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode {
			if hasElementChild(ch) {
				return fmt.Errorf("<%s> inside holds elements", ch.Data)
			}
			kids = append(kids, ch)
		}
	}
	var out []*html.Node
	used := make([]bool, len(kids))
	rest := text
	for {
		m := inline.FindStringSubmatchIndex(rest)
		if m == nil {
			break
		}
		open, closing := rest[m[2]:m[3]], rest[m[6]:m[7]]
		i := int(open[0] - '0')
		if open != closing || i >= len(kids) || used[i] {
			return fmt.Errorf("<%s> in the text does not match the page's elements", open)
		}
		used[i] = true
		if m[0] > 0 {
			out = append(out, &html.Node{Type: html.TextNode, Data: rest[:m[0]]})
		}
		k := kids[i]
		for k.FirstChild != nil {
			k.RemoveChild(k.FirstChild)
		}
		k.AppendChild(&html.Node{Type: html.TextNode, Data: rest[m[4]:m[5]]})
		out = append(out, k)
		rest = rest[m[1]:]
	}
	if strings.ContainsAny(rest, "<>") {
		return fmt.Errorf("the text has markup that is not <0>…</0>")
	}
	if rest != "" {
		out = append(out, &html.Node{Type: html.TextNode, Data: rest})
	}
	for i, u := range used {
		if !u {
			return fmt.Errorf("the text leaves out the page's <%s> (<%d>)", kids[i].Data, i)
		}
	}
	for n.FirstChild != nil {
		n.RemoveChild(n.FirstChild)
	}
	for _, o := range out {
		if o.Parent != nil {
			o.Parent.RemoveChild(o)
		}
		n.AppendChild(o)
	}
	return nil
}

func hasElementChild(n *html.Node) bool {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode {
			return true
		}
	}
	return false
}

// RememberLang sets the device's remembered language when the request
// chose one with ?lang=.
func RememberLang(w http.ResponseWriter, r *http.Request, secure bool) {
	if l := r.URL.Query().Get("lang"); Supported(l) {
		SetLangCookie(w, l, secure)
	}
}

// SetLangCookie remembers lang on the device (a page's switch, or a
// person signing in who chose one before).
func SetLangCookie(w http.ResponseWriter, lang string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: int((400 * 24 * time.Hour).Seconds()),
		SameSite: http.SameSiteLaxMode, Secure: secure})
}
