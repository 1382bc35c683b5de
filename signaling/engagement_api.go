package signaling

// The measures' routes: timetables, terms and holidays, the register and
// its marks, attendance codes and the code policy, a pupil's week and
// history, and the caseload.

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/engagement"
	"seatlink/people"
)

// engagementRoutes are the measures: what the school records, and what the pages read back.
func (s *Server) engagementRoutes() []apiRoute {
	return []apiRoute{
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
		{Method: "GET", Path: "/api/v1/pupils/:pupil/overview",
			Summary: "A pupil's attendance and engagement this school week so far and this term to date, for the parent's page (a parent sees only their own children; audited; a through after today is refused: future_date)",
			Action:  people.ActPupilView, Query: []string{"through"}, handle: s.pupilOverview},
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
	}
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

func (s *Server) importRegister(c *gin.Context, a people.Actor) (any, error) {
	ct := c.GetHeader("Content-Type")
	if !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/csv") {
		return nil, apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send the register as text/csv")
	}
	n, err := s.deps.Registers.Import(c.Request.Context(), a, c.Param("school"), http.MaxBytesReader(c.Writer, c.Request.Body, maxCSVBody))
	return gin.H{"marks": n}, err
}

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
		if err := csvFile(c, downloadName("caseload", cl.From, cl.Through), cl.WriteCSV); err != nil {
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
		if err := csvFile(c, downloadName(h.Pupil.PupilNumber, firstMonday(h), h.Through), h.WriteCSV); err != nil {
			s.log.Warn("pupil csv", "err", err)
		}
		return nil, errHandled
	}
	return h, nil
}
