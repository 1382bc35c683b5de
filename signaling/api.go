package signaling

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/internal/wire"
	"seatlink/media"
	"seatlink/people"
)

// sessionCookie holds the session token; HttpOnly, SameSite=Lax, Secure
// when served over TLS.
const sessionCookie = "seatlink_session"

// csrfHeader carries the session's CSRF token on state-changing requests.
const csrfHeader = "X-CSRF-Token"

// apiRoute is one REST route: the table below is what is served, what the
// OpenAPI document lists, and what the permissions test walks.
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

func (s *Server) apiRoutes() []apiRoute {
	return append([]apiRoute{
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document", Public: true,
			handle: func(c *gin.Context, _ people.Actor) (any, error) { return s.openAPI(), nil }},
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

		{Method: "GET", Path: "/api/v1/schools", Summary: "List schools", Action: people.ActSchoolList,
			handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.ListSchools(c.Request.Context(), a)
			}},
		{Method: "POST", Path: "/api/v1/schools", Summary: "Create a school", Action: people.ActSchoolCreate,
			Body: "School", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Name string `json:"name"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.People.CreateSchool(c.Request.Context(), a, "", in.Name)
			}},
		{Method: "GET", Path: "/api/v1/schools/:school/classrooms", Summary: "List a school's classrooms",
			Action: people.ActClassroomList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.ListClassrooms(c.Request.Context(), a, c.Param("school"))
			}},
		{Method: "POST", Path: "/api/v1/schools/:school/classrooms", Summary: "Create a classroom",
			Action: people.ActClassroomCreate, Body: "Classroom", Status: 201,
			handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Name string `json:"name"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.People.CreateClassroom(c.Request.Context(), a, c.Param("school"), in.Name)
			}},
		{Method: "GET", Path: "/api/v1/staff", Summary: "List the LA's staff", Action: people.ActStaffList,
			handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.ListStaff(c.Request.Context(), a)
			}},
		{Method: "POST", Path: "/api/v1/staff", Summary: "Create a staff member", Action: people.ActStaffCreate,
			Body: "StaffInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in people.StaffInput
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.People.CreateStaff(c.Request.Context(), a, in)
			}},
		{Method: "POST", Path: "/api/v1/staff/:staff/password", Summary: "Reset a staff member's password",
			Action: people.ActStaffReset, Body: "Password", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Password string `json:"password"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.People.ResetStaffPassword(c.Request.Context(), a, c.Param("staff"), in.Password)
			}},
		{Method: "POST", Path: "/api/v1/staff/:staff/caseload", Summary: "Put a pupil on an EWO's caseload",
			Action: people.ActCaseloadAssign, Body: "PupilRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					PupilID string `json:"pupil_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.People.AssignCaseload(c.Request.Context(), a, c.Param("staff"), in.PupilID)
			}},
		{Method: "POST", Path: "/api/v1/staff/:staff/classrooms", Summary: "Give a teacher a classroom",
			Action: people.ActTeacherClassroom, Body: "ClassroomRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					ClassroomID string `json:"classroom_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.People.AssignClassroom(c.Request.Context(), a, c.Param("staff"), in.ClassroomID)
			}},
		{Method: "POST", Path: "/api/v1/schools/:school/pupils/import",
			Summary: "Import pupils and classes from a MIS export (text/csv); all rows or none",
			Action:  people.ActPupilImport, Body: "CSV", handle: s.importPupils},
		{Method: "POST", Path: "/api/v1/schools/:school/timetable",
			Summary: "Replace a school's timetable from CSV (weekday,start,end,kind,session[,name,classroom]); all rows or none",
			Action:  people.ActTimetableEdit, Body: "CSV", handle: s.importTimetable},
		{Method: "GET", Path: "/api/v1/schools/:school/timetable", Summary: "A day's timetable for a classroom",
			Action: people.ActClassroomList, Query: []string{"date", "classroom"}, handle: s.timetableDay},
		{Method: "POST", Path: "/api/v1/schools/:school/register",
			Summary: "Import attendance marks from a MIS export (text/csv: UPN,date,session,code); all rows or none",
			Action:  people.ActRegisterEdit, Body: "CSV", handle: s.importRegister},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/marks", Summary: "Enter one attendance mark",
			Action: people.ActRegisterEdit, Body: "Mark", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Day     string `json:"day"`
					Session string `json:"session"`
					Code    string `json:"code"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Registers.Set(c.Request.Context(), a,
					engagement.Mark{PupilID: c.Param("pupil"), Day: in.Day, Session: in.Session, Code: in.Code})
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/marks", Summary: "A pupil's attendance marks between two days",
			Action: people.ActPupilView, Query: []string{"from", "to"}, handle: func(c *gin.Context, a people.Actor) (any, error) {
				from, to := c.DefaultQuery("from", "0000-01-01"), c.DefaultQuery("to", "9999-12-31")
				return s.deps.Registers.Marks(c.Request.Context(), a, c.Param("pupil"), from, to)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/week",
			Summary: "A pupil's attendance beside engagement for one week, counting only sessions that have ended (audited; a day after today is refused: future_date)",
			Action:  people.ActPupilView, Query: []string{"day"}, handle: func(c *gin.Context, a people.Actor) (any, error) {
				day := time.Now()
				if d := c.Query("day"); d != "" {
					var err error
					if day, err = time.Parse(time.DateOnly, d); err != nil || day.Before(earliestReportDay) {
						return nil, &people.FieldError{Field: "day", Code: "bad_date", Message: "day is like 2026-11-23, from 2000-01-01"}
					}
					day = day.Add(12 * time.Hour)
				}
				return s.deps.Reports.PupilWeek(c.Request.Context(), a, c.Param("pupil"), day)
			}},
		{Method: "GET", Path: "/api/v1/attendance-codes", Summary: "The DfE attendance codes (2024) with each one's meaning and category",
			handle: func(c *gin.Context, _ people.Actor) (any, error) { return engagement.Codes, nil }},
		{Method: "GET", Path: "/api/v1/schools/:school/periods", Summary: "A school's whole timetable (for the edit page)",
			Action: people.ActClassroomList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Timetables.Periods(c.Request.Context(), a, c.Param("school"))
			}},
		{Method: "GET", Path: "/api/v1/caseload",
			Summary: "Your caseload: each pupil's weekly trend, term and year to date, last complete week, unmarked sessions and robot usage, with classroom, school and caseload figures; windows end at the last session that has ended (format=csv for the table; a through after today is refused: future_date)",
			Action:  people.ActPupilList, Query: []string{"through", "weeks", "format"}, handle: s.caseload},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/history",
			Summary: "A pupil's weeks: register marks beside engagement per session, term and year to date (audited; format=csv for the grid; a through after today is refused: future_date)",
			Action:  people.ActPupilView, Query: []string{"through", "weeks", "format"}, handle: s.pupilHistory},
		{Method: "GET", Path: "/api/v1/schools/:school/terms", Summary: "A school's terms, each with its holidays (half terms, INSET days, bank holidays)",
			Action: people.ActClassroomList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Timetables.Terms(c.Request.Context(), a, c.Param("school"))
			}},
		{Method: "POST", Path: "/api/v1/schools/:school/terms",
			Summary: "Replace a school's terms and holidays from CSV (kind,name,starts_on,ends_on; kind term, holiday, half term, INSET or bank holiday); all rows or none",
			Action:  people.ActTimetableEdit, Body: "CSV", handle: s.importTerms},
		{Method: "PUT", Path: "/api/v1/schools/:school/terms", Summary: "Replace a school's terms with their holidays (all or none; no overlaps; holidays inside their term)",
			Action: people.ActTimetableEdit, Body: "Terms", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Terms []engagement.Term `json:"terms"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"terms": len(in.Terms)}, s.deps.Timetables.SetTerms(c.Request.Context(), a, c.Param("school"), in.Terms)
			}},
		{Method: "GET", Path: "/api/v1/schools/:school/code-policy", Summary: "The school's code-suggestion policy",
			Action: people.ActClassroomList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				code, err := s.deps.Reports.SuggestCode(c.Request.Context(), a, c.Param("school"))
				return gin.H{"suggest_code": code}, err
			}},
		{Method: "PUT", Path: "/api/v1/schools/:school/code-policy",
			Summary: "The code the school agrees to be suggested for a session a pupil engaged in remotely (\"\" for none); never written as a mark",
			Action:  people.ActTimetableEdit, Body: "CodePolicy", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					SuggestCode string `json:"suggest_code"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Reports.SetSuggestCode(c.Request.Context(), a, c.Param("school"), in.SuggestCode)
			}},
		{Method: "GET", Path: "/api/v1/pupils", Summary: "List the pupils you may see", Action: people.ActPupilList,
			Query: []string{"school"}, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.ListPupils(c.Request.Context(), a, c.Query("school"))
			}},
		{Method: "POST", Path: "/api/v1/pupils", Summary: "Create a pupil", Action: people.ActPupilCreate,
			Body: "PupilInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in people.PupilInput
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.People.CreatePupil(c.Request.Context(), a, in)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil", Summary: "One pupil (audited)", Action: people.ActPupilView,
			handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.GetPupil(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/export", Summary: "All data held on a pupil (JSON)",
			Action: people.ActPupilExport, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.ExportPupil(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "DELETE", Path: "/api/v1/pupils/:pupil", Summary: "Erase a pupil (the audit log keeps bare ids)",
			Action: people.ActPupilErase, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return gin.H{"ok": true}, s.deps.People.ErasePupil(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/parents", Summary: "Invite a parent of pupils", Action: people.ActParentCreate,
			Body: "ParentInput", Status: 201, handle: s.inviteParent},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/join-links", Summary: "A pupil's join links",
			Action: people.ActJoinLinkList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.People.ListJoinLinks(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/join-links", Summary: "Issue a join link and code for a pupil",
			Action: people.ActJoinLinkIssue, Body: "JoinLinkInput", Status: 201, handle: s.issueJoinLink},
		{Method: "DELETE", Path: "/api/v1/join-links/:link", Summary: "Revoke a join link (signs its devices out)",
			Action: people.ActJoinLinkRevoke, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return gin.H{"ok": true}, s.deps.People.RevokeJoinLink(c.Request.Context(), a, c.Param("link"))
			}},
		{Method: "POST", Path: "/api/v1/devices/enroll", Summary: "A device exchanges its enrollment code for a credential",
			Public: true, Body: "Enroll", handle: s.enrollDevice},
		{Method: "GET", Path: "/api/v1/devices", Summary: "Devices you may see, with live status",
			Action: people.ActDeviceList, handle: s.listDevices},
		{Method: "GET", Path: "/api/v1/devices/alerts", Summary: "Alerts of the devices you may see",
			Action: people.ActDeviceList, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Hub.Alerts(c.Request.Context(), a)
			}},
		{Method: "GET", Path: "/api/v1/devices/events", Summary: "Server-sent events: a device's status changed",
			Action: people.ActDeviceList, handle: s.deviceEvents},
		{Method: "POST", Path: "/api/v1/devices", Summary: "Register a device and get its enrollment code",
			Action: people.ActDeviceCreate, Body: "DeviceInput", Status: 201, handle: s.createDevice},
		{Method: "POST", Path: "/api/v1/devices/:device/enrollment-code", Summary: "A new enrollment code for a device",
			Action: people.ActDeviceCreate, Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				code, err := s.deps.Devices.NewEnrollmentCode(c.Request.Context(), a, c.Param("device"))
				if err != nil {
					return nil, err
				}
				return gin.H{"enrollment_code": code, "expires_in_s": int(devices.EnrollmentLifetime.Seconds()),
					"enrollment_qr": s.enrollmentQR(c, code)}, nil
			}},
		{Method: "GET", Path: "/api/v1/devices/:device/loans", Summary: "A device's loan history",
			Action: people.ActDeviceManage, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Devices.Loans(c.Request.Context(), a, c.Param("device"))
			}},
		{Method: "POST", Path: "/api/v1/devices/:device/loan", Summary: "Lend a device to a school",
			Action: people.ActDeviceManage, Body: "Loan", handle: s.lendDevice},
		{Method: "POST", Path: "/api/v1/devices/:device/classroom", Summary: "Place a device in a classroom",
			Action: people.ActDeviceManage, Body: "ClassroomRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					ClassroomID string `json:"classroom_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Devices.Place(c.Request.Context(), a, c.Param("device"), in.ClassroomID)
			}},
		{Method: "POST", Path: "/api/v1/devices/:device/pupil", Summary: "Pair a robot with its one pupil",
			Action: people.ActDeviceManage, Body: "PupilRef", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					PupilID string `json:"pupil_id"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, s.deps.Devices.Pair(c.Request.Context(), a, c.Param("device"), in.PupilID)
			}},
		{Method: "DELETE", Path: "/api/v1/devices/:device/credential", Summary: "Revoke a device (disconnects it at once)",
			Action: people.ActDeviceManage, handle: s.revokeDevice},
		{Method: "POST", Path: "/api/v1/devices/:device/commands", Summary: "Send a command and wait for the device's answer",
			Action: people.ActDeviceCommand, Body: "DeviceCommand", handle: s.commandDevice},
		{Method: "GET", Path: "/api/v1/audit", Summary: "The LA's audit log, newest first", Action: people.ActAuditRead,
			Query: []string{"pupil", "limit"}, handle: func(c *gin.Context, a people.Actor) (any, error) {
				limit, _ := strconv.Atoi(c.Query("limit"))
				return s.deps.People.ListAudit(c.Request.Context(), a, c.Query("pupil"), limit)
			}},
	}, s.planRoutes()...)
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

func (s *Server) setSessionCookie(c *gin.Context, sess people.Session) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil || s.cfg.SecureCookies,
	})
}

type sessionView struct {
	Kind     string      `json:"kind"`
	ID       string      `json:"id"`
	Role     people.Role `json:"role"`
	Name     string      `json:"name"`
	SchoolID string      `json:"school_id,omitempty"`
	CSRF     string      `json:"csrf_token"`
	Expires  time.Time   `json:"expires_at"`
}

func viewOf(a people.Actor, sess people.Session) sessionView {
	return sessionView{Kind: a.Kind, ID: a.ID, Role: a.Role, Name: a.Name, SchoolID: a.SchoolID, CSRF: sess.CSRF,
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

func cookieOf(c *gin.Context) string {
	v, _ := c.Cookie(sessionCookie)
	return v
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

func (s *Server) inviteParent(c *gin.Context, a people.Actor) (any, error) {
	var in people.ParentInput
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	p, token, err := s.deps.People.InviteParent(c.Request.Context(), a, in)
	if err != nil {
		return nil, err
	}
	return gin.H{"parent": p, "invitation_url": s.baseURL(c) + "/parent/invite#" + token}, nil
}

func (s *Server) issueJoinLink(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		LifetimeHours int `json:"lifetime_hours"`
	}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &in); err != nil {
			return nil, err
		}
	}
	l, err := s.deps.People.IssueJoinLink(c.Request.Context(), a, c.Param("pupil"), time.Duration(in.LifetimeHours)*time.Hour)
	if err != nil {
		return nil, err
	}
	return gin.H{"join_link": l.JoinLinkInfo, "url": s.baseURL(c) + "/join#" + l.Token, "code": l.Code}, nil
}

type deviceView struct {
	devices.Device
	Live  devices.Status   `json:"live"`
	Media *media.LinkStats `json:"media,omitempty"`
}

func (s *Server) enrollDevice(c *gin.Context, _ people.Actor) (any, error) {
	var in struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	var id, cred string
	err := s.redeeming(c.ClientIP(), "enrollment_code", func() (e error) {
		id, cred, e = s.deps.Devices.Enroll(c.Request.Context(), in.Code)
		return e
	})
	if err != nil {
		return nil, err
	}
	return gin.H{"device_id": id, "credential": cred}, nil
}

func (s *Server) listDevices(c *gin.Context, a people.Actor) (any, error) {
	list, err := s.deps.Devices.List(c.Request.Context(), a)
	if err != nil {
		return nil, err
	}
	out := make([]deviceView, 0, len(list))
	for _, d := range list {
		v := deviceView{Device: d, Live: s.deps.Hub.Status(d.ID)}
		if d.Kind == devices.KindRobot {
			st := s.deps.SFU.Stats(d.ID)
			v.Media = &st
		}
		out = append(out, v)
	}
	return out, nil
}

// deviceEvents streams (server-sent events) the id of each visible device
// whose status changes, and a tick every 5 s for the media statistics, so
// consoles update without reloading.
func (s *Server) deviceEvents(c *gin.Context, a people.Actor) (any, error) {
	ch := s.deps.Hub.Subscribe()
	defer s.deps.Hub.Unsubscribe(ch)
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	ctx := c.Request.Context()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, errHandled
		case <-s.stopping:
			return nil, errHandled
		case id := <-ch:
			if _, err := s.deps.Devices.Get(ctx, a, id); err != nil {
				continue // not this caller's to see
			}
			if _, err := w.WriteString("event: device\ndata: " + id + "\n\n"); err != nil {
				return nil, errHandled
			}
		case <-tick.C:
			if _, err := w.WriteString("event: tick\ndata: {}\n\n"); err != nil {
				return nil, errHandled
			}
		}
		w.Flush()
	}
}

func (s *Server) createDevice(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	d, code, err := s.deps.Devices.Create(c.Request.Context(), a, in.Kind, in.Name)
	if err != nil {
		return nil, err
	}
	return gin.H{"device": d, "enrollment_code": code, "expires_in_s": int(devices.EnrollmentLifetime.Seconds()),
		"enrollment_qr": s.enrollmentQR(c, code)}, nil
}

// enrollmentQR is a PNG data URL of a QR code holding the server's address
// and the code, for a device with a camera to scan instead of typing.
func (s *Server) enrollmentQR(c *gin.Context, code string) string {
	png, err := qrcode.Encode("seatlink-enroll:"+s.baseURL(c)+"#"+code, qrcode.Medium, 256)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

func (s *Server) lendDevice(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		SchoolID string `json:"school_id"`
		From     string `json:"from"`
		To       string `json:"to"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	from, err1 := time.Parse(time.DateOnly, in.From)
	to, err2 := time.Parse(time.DateOnly, in.To)
	if err1 != nil || err2 != nil {
		return nil, &people.FieldError{Field: "from", Code: "bad_date", Message: "from and to are dates like 2026-09-01"}
	}
	return gin.H{"ok": true}, s.deps.Devices.Lend(c.Request.Context(), a, c.Param("device"), in.SchoolID, from, to.Add(24*time.Hour))
}

func (s *Server) revokeDevice(c *gin.Context, a people.Actor) (any, error) {
	id := c.Param("device")
	if err := s.deps.Devices.Revoke(c.Request.Context(), a, id); err != nil {
		return nil, err
	}
	// Disconnect at once: the control channel and, for a robot, its media.
	s.deps.Hub.Disconnect(id, devices.ReasonRevoked, "this device's credential was revoked")
	s.devConns.closeAll(id, wire.CodeRevoked, "this device's credential was revoked") // those that never said hello too
	s.deps.SFU.Evict(id, media.RoleRobot)
	return gin.H{"ok": true}, nil
}

func (s *Server) commandDevice(c *gin.Context, a people.Actor) (any, error) {
	var in struct {
		Command string            `json:"command"`
		Args    *wire.CommandArgs `json:"args"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	state, err := s.deps.Hub.Command(c.Request.Context(), a, c.Param("device"), in.Command, in.Args)
	if err != nil {
		return nil, err
	}
	return gin.H{"ok": true, "state": state}, nil
}

func (s *Server) importRegister(c *gin.Context, a people.Actor) (any, error) {
	ct := c.GetHeader("Content-Type")
	if !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/csv") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the register as text/csv")
	}
	n, err := s.deps.Registers.Import(c.Request.Context(), a, c.Param("school"), http.MaxBytesReader(c.Writer, c.Request.Body, maxCSVBody))
	return gin.H{"marks": n}, err
}

func (s *Server) importTimetable(c *gin.Context, a people.Actor) (any, error) {
	if s.deps.Timetables == nil {
		return nil, people.ErrNotFound
	}
	ct := c.GetHeader("Content-Type")
	if !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/csv") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the timetable as text/csv")
	}
	n, err := s.deps.Timetables.Import(c.Request.Context(), a, c.Param("school"), http.MaxBytesReader(c.Writer, c.Request.Body, maxCSVBody))
	return gin.H{"periods": n}, err
}

func (s *Server) importTerms(c *gin.Context, a people.Actor) (any, error) {
	if s.deps.Timetables == nil {
		return nil, people.ErrNotFound
	}
	ct := c.GetHeader("Content-Type")
	if !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/csv") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the calendar as text/csv")
	}
	terms, err := s.deps.Timetables.ImportTerms(c.Request.Context(), a, c.Param("school"), http.MaxBytesReader(c.Writer, c.Request.Body, maxCSVBody))
	return gin.H{"terms": terms}, err
}

func (s *Server) timetableDay(c *gin.Context, a people.Actor) (any, error) {
	if s.deps.Timetables == nil {
		return nil, people.ErrNotFound
	}
	ctx := c.Request.Context()
	school := c.Param("school")
	if err := s.deps.People.Authorize(ctx, a, people.ActClassroomList, people.Target{SchoolID: school}); err != nil {
		return nil, err
	}
	date := time.Now()
	if d := c.Query("date"); d != "" {
		var err error
		if date, err = time.Parse(time.DateOnly, d); err != nil {
			return nil, &people.FieldError{Field: "date", Code: "bad_date", Message: "date is like 2026-11-23"}
		}
		date = date.Add(12 * time.Hour)
	}
	slots, err := s.deps.Timetables.Day(ctx, school, c.Query("classroom"), date)
	if slots == nil {
		slots = []engagement.Slot{}
	}
	return slots, err
}

// maxCSVBody bounds an import upload.
const maxCSVBody = 5 << 20

func (s *Server) importPupils(c *gin.Context, a people.Actor) (any, error) {
	ct := c.GetHeader("Content-Type")
	if !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/csv") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the MIS export as text/csv")
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxCSVBody)
	rep, err := s.deps.People.ImportPupils(c.Request.Context(), a, c.Param("school"), body)
	return rep, err
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

// maxDrain bounds what is read and thrown away of a body the handler did
// not read to its end (past it, the connection is closed instead).
const maxDrain = 8 << 20

// earliestReportDay bounds report windows from below (and ErrFuture from
// above), so no request asks for centuries of sessions.
var earliestReportDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// reportRange reads ?through=YYYY-MM-DD (default yesterday) and ?weeks=N
// (1 to 60, default 6).
func reportRange(c *gin.Context) (engagement.Range, error) {
	var rg engagement.Range
	if d := c.Query("through"); d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil || t.Before(earliestReportDay) {
			return rg, &people.FieldError{Field: "through", Code: "bad_date", Message: "through is a day like 2026-11-23, from 2000-01-01"}
		}
		rg.Through = t.Add(12 * time.Hour)
	}
	if w := c.Query("weeks"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > 60 {
			return rg, &people.FieldError{Field: "weeks", Code: "bad_weeks", Message: "weeks is a number from 1 to 60"}
		}
		rg.Weeks = n
	}
	return rg, nil
}

// csvFile sends a CSV download named name.
func csvFile(c *gin.Context, name string, write func(w io.Writer) error) error {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	return write(c.Writer)
}

func (s *Server) caseload(c *gin.Context, a people.Actor) (any, error) {
	rg, err := reportRange(c)
	if err != nil {
		return nil, err
	}
	cl, err := s.deps.Reports.Caseload(c.Request.Context(), a, rg)
	if err != nil {
		return nil, err
	}
	if c.Query("format") == "csv" {
		if err := csvFile(c, "caseload-"+cl.Through+".csv", cl.WriteCSV); err != nil {
			s.log.Warn("caseload csv", "err", err)
		}
		return nil, errHandled
	}
	return cl, nil
}

func (s *Server) pupilHistory(c *gin.Context, a people.Actor) (any, error) {
	rg, err := reportRange(c)
	if err != nil {
		return nil, err
	}
	h, err := s.deps.Reports.PupilHistory(c.Request.Context(), a, c.Param("pupil"), rg)
	if err != nil {
		return nil, err
	}
	if c.Query("format") == "csv" {
		if err := csvFile(c, "pupil-"+h.Pupil.ID+".csv", h.WriteCSV); err != nil {
			s.log.Warn("pupil csv", "err", err)
		}
		return nil, errHandled
	}
	return h, nil
}
