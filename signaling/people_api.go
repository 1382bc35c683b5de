package signaling

// The people room's routes: schools, classrooms, staff, pupils (and their
// import, export and erasure), parents, join links and the audit log.

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/casework"
	"seatlink/people"
)

// peopleRoutes are the records of people and places, and who may do what to them.
func (s *Server) peopleRoutes() []apiRoute {
	return []apiRoute{
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
				ex, err := s.deps.People.ExportPupil(c.Request.Context(), a, c.Param("pupil"))
				if err != nil || s.deps.Casework == nil {
					return ex, err
				}
				cw, err := s.deps.Casework.ExportPupil(c.Request.Context(), a, c.Param("pupil"))
				return struct {
					people.PupilExport
					Casework casework.Export `json:"casework"`
				}{ex, cw}, err
			}},
		{Method: "DELETE", Path: "/api/v1/pupils/:pupil", Summary: "Erase a pupil (the audit log keeps bare ids)",
			Action: people.ActPupilErase, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return gin.H{"ok": true}, s.deps.People.ErasePupil(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/parents", Summary: "Invite a parent of pupils", Action: people.ActParentCreate,
			Body: "ParentInput", Status: 201, handle: s.inviteParent},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/join-links",
			Summary: "A pupil's join links, newest first, each with the devices it signed in, when it last did, and whether the pupil is in class through it now",
			Action:  people.ActJoinLinkList, handle: s.listJoinLinks},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/join-links", Summary: "Issue a join link and code for a pupil",
			Action: people.ActJoinLinkIssue, Body: "JoinLinkInput", Status: 201, handle: s.issueJoinLink},
		{Method: "DELETE", Path: "/api/v1/join-links/:link", Summary: "Revoke a join link (signs its devices out)",
			Action: people.ActJoinLinkRevoke, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return gin.H{"ok": true}, s.deps.People.RevokeJoinLink(c.Request.Context(), a, c.Param("link"))
			}},
		{Method: "GET", Path: "/api/v1/audit", Summary: "The LA's audit log, newest first, with the names of the people and places each entry refers to",
			Action: people.ActAuditRead, Query: []string{"pupil", "limit"}, handle: s.listAudit},
	}
}

func (s *Server) importPupils(c *gin.Context, a people.Actor) (any, error) {
	ct := c.GetHeader("Content-Type")
	if !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/csv") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the MIS export as text/csv")
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxCSVBody)
	rep, err := s.deps.People.ImportPupils(c.Request.Context(), a, c.Param("school"), body)
	return rep, err
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
