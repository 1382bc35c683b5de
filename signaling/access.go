package signaling

import (
	"context"
	"errors"
	"sync"
	"time"

	"seatlink/internal/wire"
	"seatlink/people"
)

// Safeguarding: when a person's right to a link is taken away (a join link
// revoked or expired, a pupil erased or moved, a robot re-paired, moved or
// revoked), their live session ends at once. One function, admit, decides
// whether a media session may join and whether it may stay; join calls it
// once, and every state-changing API request, and a ticker for expiries
// and changes made elsewhere, call it again for every live session.

// accessRecheckEvery bounds how long a right that lapses by itself (a join
// link or session expiring) or is removed on another node outlives its
// removal.
const accessRecheckEvery = 5 * time.Second

// grant is what a media session was admitted on.
type grant struct {
	role    string
	link    string
	token   string // the robot's device token, the pupil's session token, or their join link token
	byLink  bool   // token is a join link token (the device holds no session)
	pupilID string
}

// errAccessRemoved is why a live session is ended.
var errAccessRemoved = errors.New("access removed")

// admit decides whether g may be on g.link: the robot's token still
// resolves to the link; the pupil's session is still valid, is still that
// pupil's, the pupil may still join, and the robot paired with them is
// still on that link.
func (s *Server) admit(ctx context.Context, g grant) error {
	switch g.role {
	case wire.RoleRobot:
		link, err := s.deps.Links.ResolveRobot(ctx, g.token)
		if err != nil || link != g.link {
			return errAccessRemoved
		}
		return nil
	case wire.RolePupil:
		if s.deps.People == nil {
			return errAccessRemoved
		}
		var a people.Actor
		var err error
		if g.byLink {
			a, err = s.deps.People.CheckJoinToken(ctx, g.token)
		} else {
			a, _, err = s.deps.People.Authenticate(ctx, g.token)
		}
		if err != nil || a.Role != people.RolePupil || a.ID != g.pupilID {
			return errAccessRemoved
		}
		if err := s.deps.People.Authorize(ctx, a, people.ActLinkJoin, people.Target{PupilID: a.ID}); err != nil {
			return errAccessRemoved
		}
		link, err := s.deps.Links.ForPupil(ctx, a.ID)
		if err != nil || link != g.link {
			return errAccessRemoved
		}
		return nil
	}
	return errAccessRemoved
}

// revoker is a live media session that can be ended: a WebSocket session
// or a WHIP ingest. revoke must not block.
type revoker interface{ revoke() }

// liveSessions are the joined media sessions of this node.
type liveSessions struct {
	mu   sync.Mutex
	byID map[revoker]grant
	// recheck serialises rechecks, so two revocations at once do not
	// both walk every session.
	recheck sync.Mutex
}

func (l *liveSessions) add(ss revoker, g grant) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byID == nil {
		l.byID = map[revoker]grant{}
	}
	l.byID[ss] = g
}

func (l *liveSessions) remove(ss revoker) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byID, ss)
}

// grantOf is what a live session was admitted on (false: not live).
func (l *liveSessions) grantOf(ss revoker) (grant, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g, ok := l.byID[ss]
	return g, ok
}

func (l *liveSessions) snapshot() map[revoker]grant {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[revoker]grant, len(l.byID))
	for ss, g := range l.byID {
		out[ss] = g
	}
	return out
}

// recheckAccess asks admit again for every live session and ends those
// no longer admitted: the signaling is closed with access_removed, the
// media evicted, and nothing more is recorded for them. A store error
// ends nothing (an outage is not a revocation).
func (s *Server) recheckAccess(ctx context.Context) int {
	s.live.recheck.Lock()
	defer s.live.recheck.Unlock()
	ended := 0
	for ss, g := range s.live.snapshot() {
		err := s.admit(ctx, g)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if s.deps.People != nil && s.deps.People.Ping(ctx) != nil {
			return ended // the store is down: that is no revocation
		}
		ss.revoke()
		s.live.remove(ss)
		ended++
	}
	if ended > 0 {
		s.log.Info("live sessions ended: access removed", "sessions", ended)
	}
	return ended
}

// watchAccess rechecks every accessRecheckEvery until the server stops.
func (s *Server) watchAccess() {
	t := time.NewTicker(accessRecheckEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), accessRecheckEvery)
			s.recheckAccess(ctx)
			cancel()
		case <-s.stopping:
			return
		}
	}
}
