package signaling

import (
	"github.com/gin-gonic/gin"

	"seatlink/internal/wire"
	"seatlink/people"
)

// joinLinkView is a join link as the staff console lists it: with the
// devices it signed in, and whether the pupil is in class through it now.
type joinLinkView struct {
	people.JoinLinkUse
	InClass bool `json:"in_class"`
}

// listJoinLinks lists a pupil's join links for the staff console, so a
// teacher sees which to revoke (a revocation ends a live session at once:
// serveAPI rechecks every live session after the change).
func (s *Server) listJoinLinks(c *gin.Context, a people.Actor) (any, error) {
	ctx := c.Request.Context()
	pupil := c.Param("pupil")
	links, err := s.deps.People.ListJoinLinkUse(ctx, a, pupil)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, g := range s.live.snapshot() {
		if g.role == wire.RolePupil && g.pupilID == pupil {
			if id := s.deps.People.JoinLinkOf(ctx, g.token, g.byLink); id != "" {
				in[id] = true
			}
		}
	}
	out := make([]joinLinkView, 0, len(links))
	for _, l := range links {
		out = append(out, joinLinkView{JoinLinkUse: l, InClass: in[l.ID]})
	}
	return out, nil
}
