package signaling

// Signing in and out over REST: staff, parents (and accepting an
// invitation), a pupil's device with a join link or code, who is signed
// in, and the session cookie. The pupil's live WebSocket session is
// session.go.

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/people"
	"seatlink/web"
)

// sessionRoutes sign people in and out.
func (s *Server) sessionRoutes() []apiRoute {
	return []apiRoute{
		{Method: "POST", Path: "/api/v1/session", Summary: "Staff sign-in (sets the session cookie)", Public: true,
			Body: "SignIn", handle: s.staffSignIn},
		{Method: "GET", Path: "/api/v1/session", Summary: "Who is signed in, and the CSRF token",
			handle: s.whoAmI},
		{Method: "DELETE", Path: "/api/v1/session", Summary: "Sign out", handle: s.signOut},
		{Method: "POST", Path: "/api/v1/parent/session", Summary: "Parent sign-in", Public: true, Body: "SignIn",
			handle: s.parentSignIn},
		{Method: "POST", Path: "/api/v1/parent/invitation", Summary: "Accept a parent invitation and set a password",
			Public: true, Body: "AcceptInvite", handle: s.acceptInvite},
		{Method: "POST", Path: "/api/v1/pupil/session", Summary: "A pupil's device joins with a link token or code (remembered)",
			Public: true, Body: "PupilJoin", handle: s.pupilSession},
		{Method: "PUT", Path: "/api/v1/session/language", Summary: "Keep the signed-in person's language for the pages (en or cy)",
			Body: "Language", handle: s.setLanguage},
	}
}

// rememberLanguage puts a signed-in person's chosen language on the
// device, so that the pages open in it.
func (s *Server) rememberLanguage(c *gin.Context, a people.Actor) {
	if web.Supported(a.Lang) {
		web.SetLangCookie(c.Writer, a.Lang, c.Request.TLS != nil || s.cfg.SecureCookies)
	}
}

func (s *Server) setLanguage(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		Lang string `json:"lang"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if !web.Supported(in.Lang) {
		return nil, &people.FieldError{Field: "lang", Code: "bad_lang", Message: "lang must be one of " + strings.Join(web.Languages, ", ")}
	}
	if err := s.deps.People.SetLanguage(c.Request.Context(), a, in.Lang); err != nil {
		return nil, err
	}
	a.Lang = in.Lang
	s.rememberLanguage(c, a)
	return gin.H{"lang": in.Lang}, nil
}

func (s *Server) setSessionCookie(c *gin.Context, sess people.Session) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil || s.cfg.SecureCookies,
	})
}

func cookieOf(c *gin.Context) string {
	v, _ := c.Cookie(sessionCookie)
	return v
}

type sessionView struct {
	Kind     string      `json:"kind"`
	ID       string      `json:"id"`
	Role     people.Role `json:"role"`
	Name     string      `json:"name"`
	SchoolID string      `json:"school_id,omitempty"`
	Lang     string      `json:"lang,omitempty"`
	CSRF     string      `json:"csrf_token"`
	Expires  time.Time   `json:"expires_at"`
}

func viewOf(a people.Actor, sess people.Session) sessionView {
	return sessionView{Kind: a.Kind, ID: a.ID, Role: a.Role, Name: a.Name, SchoolID: a.SchoolID, Lang: a.Lang, CSRF: sess.CSRF,
		Expires: sess.ExpiresAt.UTC()}
}

type signInInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) staffSignIn(c *gin.Context, _ people.Actor) (any, error) {
	var in signInInput
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	sess, a, err := s.deps.People.StaffSignIn(c.Request.Context(), in.Email, in.Password, c.ClientIP())
	if err != nil {
		return nil, err
	}
	s.setSessionCookie(c, sess)
	s.rememberLanguage(c, a)
	return viewOf(a, sess), nil
}

func (s *Server) parentSignIn(c *gin.Context, _ people.Actor) (any, error) {
	var in signInInput
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	sess, a, err := s.deps.People.ParentSignIn(c.Request.Context(), in.Email, in.Password, c.ClientIP())
	if err != nil {
		return nil, err
	}
	s.setSessionCookie(c, sess)
	s.rememberLanguage(c, a)
	return viewOf(a, sess), nil
}

func (s *Server) acceptInvite(c *gin.Context, _ people.Actor) (any, error) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	sess, err := s.deps.People.AcceptInvite(c.Request.Context(), in.Token, in.Password)
	if err != nil {
		return nil, err
	}
	s.setSessionCookie(c, sess)
	return gin.H{"ok": true, "csrf_token": sess.CSRF}, nil
}

func (s *Server) pupilSession(c *gin.Context, _ people.Actor) (any, error) {
	var in struct {
		Token string `json:"token"`
		Code  string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if err := s.notHeldByStaff(c.Request.Context(), cookieOf(c)); err != nil {
		return nil, err
	}
	var (
		sess people.Session
		a    people.Actor
		err  error
	)
	switch {
	case in.Token != "" && in.Code == "":
		// A device already signed in as this pupil keeps its session:
		// opening the link again adds no session row.
		if cur, cs, cerr := s.deps.People.Authenticate(c.Request.Context(), cookieOf(c)); cerr == nil && cur.Role == people.RolePupil {
			if la, lerr := s.deps.People.CheckJoinToken(c.Request.Context(), in.Token); lerr == nil && la.ID == cur.ID {
				return viewOf(cur, cs), nil
			}
		}
		err = s.redeeming(c.ClientIP(), "join_token", func() (e error) {
			sess, a, e = s.deps.People.RedeemJoinToken(c.Request.Context(), in.Token)
			return e
		})
	case in.Code != "" && in.Token == "":
		err = s.redeeming(c.ClientIP(), "join_code", func() (e error) {
			sess, a, e = s.deps.People.RedeemJoinCode(c.Request.Context(), in.Code)
			return e
		})
	default:
		return nil, &people.FieldError{Field: "token", Code: "required", Message: "send a token or a code"}
	}
	if err != nil {
		return nil, err
	}
	s.setSessionCookie(c, sess)
	s.rememberLanguage(c, a)
	return viewOf(a, sess), nil
}

// errStaffHolder refuses a pupil's link to a browser signed in as staff or
// a parent: a pupil's class opens on the pupil's device, and no adult may
// hold a pupil's session (and so speak, or write plan notes, as the pupil).
var errStaffHolder = apiErr(http.StatusConflict, "signed_in_as_staff",
	"this browser is signed in as staff or a parent; a pupil's class opens on the pupil's own device")

// notHeldByStaff is errStaffHolder when token is a staff or parent session.
func (s *Server) notHeldByStaff(ctx context.Context, token string) error {
	if token == "" || s.deps.People == nil {
		return nil
	}
	if a, _, err := s.deps.People.Authenticate(ctx, token); err == nil && a.Role != people.RolePupil {
		return errStaffHolder
	}
	return nil
}

func (s *Server) whoAmI(c *gin.Context, _ people.Actor) (any, error) {
	token, _ := c.Cookie(sessionCookie)
	a, sess, err := s.deps.People.Authenticate(c.Request.Context(), token)
	if err != nil {
		return nil, err
	}
	return viewOf(a, sess), nil
}

func (s *Server) signOut(c *gin.Context, _ people.Actor) (any, error) {
	token, _ := c.Cookie(sessionCookie)
	if err := s.deps.People.SignOut(c.Request.Context(), token); err != nil {
		return nil, err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil || s.cfg.SecureCookies})
	return gin.H{"ok": true}, nil
}
