package signaling

// The REST API's shared machinery: the route table, how a route is
// served (origin, session, CSRF, the role check, refusals counted), and
// what every room's handlers use. The routes and their handlers are in a
// file per room: session_api.go, people_api.go, engagement_api.go,
// devices_api.go, plans_api.go, materials_api.go.

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"seatlink/people"
)

// sessionCookie holds the session token; HttpOnly, SameSite=Lax, Secure
// when served over TLS.
const sessionCookie = "seatlink_session"

// csrfHeader carries the session's CSRF token on state-changing requests.
const csrfHeader = "X-CSRF-Token"

// apiRoute is one REST route: the table (apiRoutes, each room's routes in
// its own file) is what is served, what the OpenAPI document lists, and
// what the permissions test walks.
type apiRoute struct {
	Method  string
	Path    string // Gin syntax (:param)
	Summary string
	// Action is checked by the people store for the caller; Public routes
	// need no session.
	Action people.Action
	Public bool
	// Query parameters the route reads (documented).
	Query []string
	// Body names the request body's JSON shape, for the document.
	Body   string
	Status int // success status (200 if 0)
	handle func(c *gin.Context, a people.Actor) (any, error)
}

// apiRoutes is the whole table: this document, then each room's routes
// (session_api.go, people_api.go, engagement_api.go, devices_api.go,
// plans_api.go, materials_api.go, today_api.go, casework_api.go). Routes are registered in this order;
// the OpenAPI document is a map of paths, so its text does not depend on it.
func (s *Server) apiRoutes() []apiRoute {
	routes := []apiRoute{
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document", Public: true,
			handle: func(c *gin.Context, _ people.Actor) (any, error) { return s.openAPI(), nil }},
	}
	for _, room := range [][]apiRoute{s.sessionRoutes(), s.peopleRoutes(), s.engagementRoutes(), s.deviceRoutes(),
		s.planRoutes(), s.materialRoutes(), s.todayRoutes(), s.caseworkRoutes()} {
		routes = append(routes, room...)
	}
	return routes
}

// routeAPI registers the REST API.
func (s *Server) routeAPI(e *gin.Engine) {
	if s.deps.People == nil {
		return
	}
	for _, r := range s.apiRoutes() {
		r := r
		e.Handle(r.Method, r.Path, func(c *gin.Context) { s.serveAPI(c, r) })
	}
}

func (s *Server) serveAPI(c *gin.Context, r apiRoute) {
	c.Header("Cache-Control", "no-store")
	unsafe := c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead
	if unsafe && !sameOrigin(c.Request) {
		s.renderError(c, errCrossOrigin)
		return
	}
	var a people.Actor
	if !r.Public {
		token, _ := c.Cookie(sessionCookie)
		actor, sess, err := s.deps.People.Authenticate(c.Request.Context(), token)
		if errors.Is(err, people.ErrStoreUnavailable) {
			s.renderError(c, err) // an outage, not "sign in first"
			return
		}
		if err != nil {
			s.renderError(c, errNeedsSession)
			return
		}
		if unsafe && !people.CheckCSRF(sess, c.GetHeader(csrfHeader)) {
			s.renderError(c, errCSRF)
			return
		}
		if r.Action != "" {
			if _, ok := people.ScopeOf(actor.Role, r.Action); !ok {
				s.noteRefusal(r, actor, people.ErrForbidden)
				s.renderError(c, people.ErrForbidden)
				return
			}
		}
		a = actor
		a.Remote = c.ClientIP()
	}
	body, err := r.handle(c, a)
	if unsafe {
		// Read what the client is still sending (a refused import stops
		// reading at its first bad line) so that it gets the answer, not a
		// reset connection; bounded, and under the body's deadline.
		_, _ = io.CopyN(io.Discard, c.Request.Body, maxDrain)
	}
	if err == nil && unsafe && !r.Public {
		// Any change may have taken someone's right to a link away: it is
		// gone before the change is reported done.
		s.recheckAccess(c.Request.Context())
	}
	if errors.Is(err, errHandled) {
		return
	}
	if err != nil {
		s.noteRefusal(r, a, err)
		s.renderError(c, err)
		return
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	c.JSON(status, body)
}

// noteRefusal logs and counts a request the permission check refused: a
// role that may never do the action, or a record outside the caller's
// scope (answered as not found, so its existence is not revealed, but not
// without trace). Ids only, never names.
func (s *Server) noteRefusal(r apiRoute, a people.Actor, err error) {
	reason := ""
	switch {
	case errors.Is(err, people.ErrOutOfScope):
		reason = "scope"
	case errors.Is(err, people.ErrForbidden):
		reason = "role"
	default:
		return
	}
	s.refused.WithLabelValues(reason).Inc()
	s.log.Info("refused", "reason", reason, "method", r.Method, "route", r.Path, "actor", a.ID, "role", a.Role, "la", a.LAID)
}

// sameOrigin refuses a browser request whose Origin is another site (the
// CSRF token covers signed-in requests; this also covers sign-in itself).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser, or a same-origin request of an old browser
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// baseURL is the configured public URL, or the request's own host.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// maxCSVBody bounds an import upload.
const maxCSVBody = 5 << 20

// maxDrain bounds what is read and thrown away of a body the handler did
// not read to its end (past it, the connection is closed instead).
const maxDrain = 8 << 20
