package signaling

import (
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
	}
}
