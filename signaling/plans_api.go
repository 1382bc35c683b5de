package signaling

import (
	"github.com/gin-gonic/gin"

	"seatlink/people"
	"seatlink/plans"
)

// planRoutes are the re-integration plans: writing and changing them,
// their progress, history and notes.
func (s *Server) planRoutes() []apiRoute {
	return []apiRoute{
		{Method: "POST", Path: "/api/v1/pupils/:pupil/plans", Summary: "Write a re-integration plan for a pupil (phases, a mandatory end date, reviews)",
			Action: people.ActPlanEdit, Body: "PlanInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in plans.Input
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.Plans.Create(c.Request.Context(), a, c.Param("pupil"), in)
			}},
		{Method: "GET", Path: "/api/v1/pupils/:pupil/plans", Summary: "A pupil's plans, newest first",
			Action: people.ActPlanView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Plans.ForPupil(c.Request.Context(), a, c.Param("pupil"))
			}},
		{Method: "GET", Path: "/api/v1/plans/:plan", Summary: "A plan with its phases, reviews and notes",
			Action: people.ActPlanView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Plans.Get(c.Request.Context(), a, c.Param("plan"))
			}},
		{Method: "PUT", Path: "/api/v1/plans/:plan", Summary: "Change a plan (send the version you read; 409 if it changed since)",
			Action: people.ActPlanEdit, Body: "PlanInput", handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in plans.Input
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.Plans.Update(c.Request.Context(), a, c.Param("plan"), in)
			}},
		{Method: "GET", Path: "/api/v1/plans/:plan/progress", Summary: "Each week's actual against the phase's targets, and the plan's flags",
			Action: people.ActPlanView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Plans.Progress(c.Request.Context(), a, c.Param("plan"))
			}},
		{Method: "GET", Path: "/api/v1/plans/:plan/history", Summary: "Every saved version of a plan",
			Action: people.ActPlanView, handle: func(c *gin.Context, a people.Actor) (any, error) {
				return s.deps.Plans.History(c.Request.Context(), a, c.Param("plan"))
			}},
		{Method: "POST", Path: "/api/v1/plans/:plan/notes", Summary: "Add a note to a plan in your own voice (pupil, parent, school or EWO)",
			Action: people.ActPlanNote, Body: "NoteInput", Status: 201, handle: func(c *gin.Context, a people.Actor) (any, error) {
				var in struct {
					Text string `json:"text"`
				}
				if err := decodeJSON(c, &in); err != nil {
					return nil, err
				}
				return s.deps.Plans.AddNote(c.Request.Context(), a, c.Param("plan"), in.Text)
			}},
	}
}
