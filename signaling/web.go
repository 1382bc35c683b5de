package signaling

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"seatlink/web"
)

// routeWeb serves the embedded pages (the pupil's at /join: its token
// travels in the URL fragment, so it never reaches this server's logs) in
// the person's language, and their files under /static/.
func (s *Server) routeWeb(e *gin.Engine) {
	if s.deps.Web == nil {
		return
	}
	cats := map[string]*web.Catalogue{}
	for _, l := range web.Languages {
		c, err := web.LoadCatalogue(s.deps.Web, l)
		if err != nil {
			s.log.Error("embedded UI has no catalogue", "lang", l, "err", err)
			return
		}
		cats[l] = c
	}
	e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/join") })
	for route, file := range map[string]string{"/join": "join.html", "/staff": "staff.html", "/ewo": "ewo.html", "/plan": "plan.html",
		"/parent": "parent.html", "/parent/invite": "parent.html", "/station": "station.html"} {
		b, err := fs.ReadFile(s.deps.Web, file)
		if err != nil {
			s.log.Error("embedded UI lacks a page", "file", file, "err", err)
			continue
		}
		byLang := map[string][]byte{}
		for l, cat := range cats {
			page, err := web.Render(b, cat)
			if err != nil {
				s.log.Error("embedded page does not render", "file", file, "err", err)
				continue
			}
			byLang[l] = page
		}
		e.GET(route, func(c *gin.Context) {
			l := web.Negotiate(c.Request)
			page, ok := byLang[l]
			if !ok {
				writeHTTPError(c, http.StatusInternalServerError, "internal", "the page is missing")
				return
			}
			web.RememberLang(c.Writer, c.Request, c.Request.TLS != nil || s.cfg.SecureCookies)
			c.Header("Cache-Control", "no-store")
			c.Header("Content-Language", l)
			c.Header("Vary", "Accept-Language, Cookie")
			c.Data(http.StatusOK, "text/html; charset=utf-8", page)
		})
	}
	static := http.StripPrefix("/static/", http.FileServer(http.FS(s.deps.Web)))
	e.GET("/static/*file", func(c *gin.Context) {
		// Files only: no directory listings.
		if strings.HasSuffix(c.Param("file"), "/") {
			writeHTTPError(c, http.StatusNotFound, "not_found", "no such page")
			return
		}
		c.Header("Cache-Control", "no-cache")
		static.ServeHTTP(c.Writer, c.Request)
	})
}

// localize is an error's message in the request's language: the
// catalogue's words for its code ("error.<code>"), or the English message
// when the request asks for English or the catalogue has none.
func localize(c *gin.Context, code, msg string) string {
	l := web.Negotiate(c.Request)
	if l == web.Languages[0] {
		return msg
	}
	if w := web.Words(l); w != nil {
		if t, ok := w.Text("error."+code, nil); ok {
			return t
		}
	}
	return msg
}
