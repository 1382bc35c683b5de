package signaling

import (
	"strconv"

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

// auditView is an audit entry with the names of whom and what it refers
// to (empty where there is none: an erased pupil, a device), so that the
// console shows names, not ids.
type auditView struct {
	people.AuditEntry
	ActorName  string `json:"actor_name,omitempty"`
	TargetName string `json:"target_name,omitempty"`
	PupilName  string `json:"pupil_name,omitempty"`
}

func (s *Server) listAudit(c *gin.Context, a people.Actor) (any, error) {
	ctx := c.Request.Context()
	limit, _ := strconv.Atoi(c.Query("limit"))
	entries, err := s.deps.People.ListAudit(ctx, a, c.Query("pupil"), limit)
	if err != nil {
		return nil, err
	}
	names, err := s.deps.People.AuditNames(ctx, a, entries)
	if err != nil {
		return nil, err
	}
	out := make([]auditView, 0, len(entries))
	for _, e := range entries {
		v := auditView{AuditEntry: e, ActorName: names[e.ActorKind+"/"+e.ActorID], TargetName: names[e.TargetKind+"/"+e.TargetID]}
		if e.PupilID != "" {
			v.PupilName = names["pupil/"+e.PupilID]
		}
		out = append(out, v)
	}
	return out, nil
}
