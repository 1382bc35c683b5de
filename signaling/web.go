package signaling

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// routeWeb serves the embedded pupil page at /join (the token travels in
// the URL fragment, so it never reaches this server's logs) and its files
// under /static/.
func (s *Server) routeWeb(e *gin.Engine) {
	if s.deps.Web == nil {
		return
	}
	page, err := fs.ReadFile(s.deps.Web, "join.html")
	if err != nil {
		s.log.Error("embedded UI has no join.html", "err", err)
		return
	}
	e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/join") })
	pages := map[string][]byte{"/join": page}
	for route, file := range map[string]string{"/staff": "staff.html", "/ewo": "ewo.html", "/plan": "plan.html", "/parent": "parent.html", "/parent/invite": "parent.html", "/station": "station.html"} {
		b, err := fs.ReadFile(s.deps.Web, file)
		if err != nil {
			s.log.Error("embedded UI lacks a page", "file", file, "err", err)
			continue
		}
		pages[route] = b
	}
	for route, b := range pages {
		b := b
		e.GET(route, func(c *gin.Context) {
			c.Header("Cache-Control", "no-store")
			c.Data(http.StatusOK, "text/html; charset=utf-8", b)
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
