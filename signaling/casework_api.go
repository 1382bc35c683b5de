package signaling

import (
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/casework"
	"seatlink/people"
)

// caseworkRoutes are the people around the pupil: the key adult, the
// thread between family and school, and the pupil's check-ins.
func (s *Server) caseworkRoutes() []apiRoute {
	cw := func() *casework.Store { return s.deps.Casework }
	return []apiRoute{
		{Method: "GET", Path: "/api/v1/pupils/:pupil/key-adult", Summary: "The pupil's key adult: name, role and how to reach them (404: none yet)",
			Action: people.ActKeyAdultView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().KeyAdultOf(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "PUT", Path: "/api/v1/pupils/:pupil/key-adult", Summary: "Name the pupil's key adult (a member of staff) and how to reach them (audited)",
			Action: people.ActKeyAdultSet, Body: "KeyAdultInput", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					StaffID string `json:"staff_id"`
					Contact string `json:"contact"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return cw().SetKeyAdult(c.Request.Context(), a, c.Param("pupil"), in.StaffID, in.Contact)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/key-adult/candidates",
			Summary: "The staff who may be named the pupil's key adult (the pupil's school's staff, the LA's EWOs and admins), for who may name one",
			Action:  people.ActKeyAdultSet, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().KeyAdultCandidates(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/messages", Summary: "The thread between the pupil's family and school (reading marks it read)",
			Action: people.ActMessageRead, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().Read(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/messages", Summary: "Write in the thread; the other side is told by e-mail (a link, never the words)",
			Action: people.ActMessageWrite, Body: "MessageInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Body string `json:"body"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return cw().Post(c.Request.Context(), a, c.Param("pupil"), in.Body)
			}},
		{Method: "GET", Path: "/api/v1/messages/threads", Summary: "The threads you follow (as key adult, the caseload's EWO, or a parent), those with unread messages first",
			Action: people.ActMessageRead, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().UnreadThreads(c.Request.Context(), a)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/check-ins", Summary: "The pupil's check-ins, for the pupil and their key adult",
			Action: people.ActCheckInRead, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().CheckInsOf(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/check-ins", Summary: "The pupil's own \"How did today feel?\" (a face 1-5, words if they like)",
			Action: people.ActCheckInWrite, Body: "CheckInInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Feeling int    `json:"feeling"`
					Words   string `json:"words"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return cw().CheckIn(c.Request.Context(), a, c.Param("pupil"), in.Feeling, in.Words)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/case", Summary: "The pupil's barriers, support agreed, contacts, their words before reviews and the reviews' records",
			Action: people.ActCaseView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().CaseOf(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/barriers", Summary: "Record a barrier to attendance as someone named it (kind from the standard list)",
			Action: people.ActCaseEdit, Body: "BarrierInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Kind    string `json:"kind"`
					NamedBy string `json:"named_by"`
					Words   string `json:"words"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return cw().AddBarrier(c.Request.Context(), a, c.Param("pupil"), in.Kind, in.NamedBy, in.Words)
			}},
		{Method: "POST", Path: "/api/v1/barriers/:barrier/resolve", Summary: "Mark a barrier as no longer standing",
			Action: people.ActCaseEdit, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return gin.H{"ok": true}, cw().ResolveBarrier(c.Request.Context(), a, c.Param("barrier"))
			}},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/support", Summary: "Record an agreed action with its owner and due date",
			Action: people.ActCaseEdit, Body: "SupportInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Action string `json:"action"`
					Owner  string `json:"owner"`
					DueOn  string `json:"due_on"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return cw().AddSupport(c.Request.Context(), a, c.Param("pupil"), in.Action, in.Owner, in.DueOn)
			}},
		{Method: "PUT", Path: "/api/v1/support/:support/status", Summary: "Move an agreed action on (agreed, in_progress, done, dropped)",
			Action: people.ActCaseEdit, Body: "SupportStatus", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Status string `json:"status"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return gin.H{"ok": true}, cw().SetSupportStatus(c.Request.Context(), a, c.Param("support"), in.Status)
			}},
		{Method: "POST", Path: "/api/v1/pupils/:pupil/contacts", Summary: "Record a meeting, call or home visit and who took part",
			Action: people.ActCaseEdit, Body: "ContactInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Kind         string   `json:"kind"`
					HeldOn       string   `json:"held_on"`
					Participants []string `json:"participants"`
					Notes        string   `json:"notes"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return cw().AddContact(c.Request.Context(), a, c.Param("pupil"), in.Kind, in.HeldOn, in.Participants, in.Notes)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/voice", Summary: "What the pupil has said before their plan's reviews (the pupil's own list)",
			Action: people.ActPupilVoice, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return cw().VoicesFor(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "POST", Path: "/api/v1/plans/:plan/reviews/:on/voice", Summary: "The pupil's \"what I want to say\" before a review of their plan (today or ahead)",
			Action: people.ActPupilVoice, Body: "VoiceInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Words string `json:"words"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				pupilID, err := s.planReview(c, a, true)
				if err != nil {
					return nil, err
				}
				return cw().SayBeforeReview(c.Request.Context(), a, pupilID, c.Param("plan"), c.Param("on"), in.Words)
			}},
		{Method: "POST", Path: "/api/v1/plans/:plan/reviews/:on/record", Summary: "Record a review: who took part and what was decided; the pupil's words, barriers and support are kept as they stand",
			Action: people.ActCaseEdit, Body: "ReviewInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Participants []string `json:"participants"`
					Decided      string   `json:"decided"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				pupilID, err := s.planReview(c, a, false)
				if err != nil {
					return nil, err
				}
				return cw().RecordReview(c.Request.Context(), a, pupilID, c.Param("plan"), c.Param("on"), in.Participants, in.Decided)
			}},
	}
}

// planReview finds the plan of the route's :plan as the caller may see it
// and checks it has a review on :on (today or later, for the pupil's own
// words); it returns the plan's pupil.
func (s *Server) planReview(c *gin.Context, a people.Actor, ahead bool) (string, error) {
	pl, err := s.deps.Plans.Get(c.Request.Context(), a, c.Param("plan"))
	if err != nil {
		return "", err
	}
	on := c.Param("on")
	for _, r := range pl.Reviews {
		if r.On != on {
			continue
		}
		if ahead && on < time.Now().UTC().Format(time.DateOnly) {
			return "", &people.FieldError{Field: "on", Code: "review_past", Message: "this review has happened; say it at the next one"}
		}
		return pl.PupilID, nil
	}
	return "", people.ErrNotFound
}
