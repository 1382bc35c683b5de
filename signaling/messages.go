package signaling

import (
	"context"
	"errors"

	"github.com/gorilla/websocket"

	"seatlink/internal/wire"
	"seatlink/media"
	"seatlink/people"
)

// handle processes one client message and reports whether the session
// goes on.
func (ss *session) handle(data []byte) bool {
	m, err := wire.DecodeClient(data)
	if err != nil {
		var we *wire.Error
		if !errors.As(err, &we) {
			we = wire.Errorf(wire.CodeBadMessage, "invalid message")
		}
		if ss.part == nil && m.Type == wire.TypeJoin {
			ss.fail(we) // a join that cannot be read ends the attempt
			return false
		}
		ss.reply(we)
		return true
	}
	if m.Type == wire.TypePing {
		ss.send(wire.Message{Type: wire.TypePong, ID: m.ID})
		return true
	}
	if ss.part == nil {
		if m.Type != wire.TypeJoin {
			ss.fail(wire.Errorf(wire.CodeNotJoined, "send join first"))
			return false
		}
		return ss.join(m)
	}
	return ss.handleJoined(m)
}

// join admits the client to its link: a robot by its token, a pupil by
// their session (the remembered-device cookie) or by a join link token.
func (ss *session) join(m wire.Message) bool {
	ctx := context.Background()
	badToken := wire.Errorf(wire.CodeBadToken, "this link or token is not valid for a %s", m.Role)
	g := grant{role: m.Role, token: m.Token}
	switch m.Role {
	case wire.RoleRobot:
		var err error
		if g.link, err = ss.srv.deps.Links.ResolveRobot(ctx, m.Token); err != nil {
			ss.fail(badToken)
			return false
		}
	case wire.RolePupil:
		if ss.srv.notHeldByStaff(ctx, ss.cookie) != nil {
			ss.fail(wire.Errorf(wire.CodeForbidden, "this browser is signed in as staff or a parent; a pupil's class opens on the pupil's own device"))
			return false
		}
		a, token, byLink, err := ss.pupilActor(ctx, m.Token)
		if err != nil {
			ss.fail(badToken)
			return false
		}
		g.byLink = byLink
		if err := ss.srv.deps.People.Authorize(ctx, a, people.ActLinkJoin, people.Target{PupilID: a.ID}); err != nil {
			ss.fail(badToken)
			return false
		}
		if g.link, err = ss.srv.deps.Links.ForPupil(ctx, a.ID); err != nil {
			ss.fail(wire.Errorf(wire.CodeNoRobot, "no classroom robot is paired with this pupil yet"))
			return false
		}
		ss.actor = &a
		g.token, g.pupilID = token, a.ID
	}
	// Live from here: a revocation from now on ends this session, and
	// admit decides, as it will for every recheck, that it may be here.
	ss.srv.live.add(ss, g)
	if err := ss.srv.admit(ctx, g); err != nil {
		ss.srv.live.remove(ss)
		ss.fail(badToken)
		return false
	}
	link := g.link
	role := m.Role
	opts := media.JoinOptions{PublishAudio: m.Publish.Audio, PublishVideo: m.Publish.Video, Resume: m.Resume}
	if ss.actor != nil {
		opts.Subject = ss.actor.ID // the pupil, for engagement events
	}
	p, err := ss.srv.deps.SFU.Join(link, media.Role(role), opts, ss)
	if err != nil {
		ss.srv.live.remove(ss)
	}
	switch {
	case errors.Is(err, media.ErrRoleTaken):
		ss.fail(wire.Errorf(wire.CodeRoleTaken, "a %s is already connected to this link", role))
		return false
	case errors.Is(err, media.ErrClosed):
		ss.fail(wire.Errorf(wire.CodeShuttingDown, "the server is stopping; rejoin in a moment"))
		return false
	case err != nil:
		ss.log.Error("join failed", "err", err)
		ss.fail(wire.Errorf(wire.CodeInternal, "could not join; try again"))
		return false
	}
	ss.part = p
	ss.log = ss.log.With("link", link, "peer", p.ID(), "role", role)
	peers := []string{}
	for _, r := range p.Peers() {
		peers = append(peers, string(r))
	}
	ss.send(wire.Message{Type: wire.TypeJoined, Peer: p.ID(), Role: role, Peers: peers, ICEServers: ss.iceServers(),
		Resume: p.ResumeKey()})
	ss.log.Info("joined", "client", m.Client != "")
	p.Start()
	if ss.actor != nil {
		go ss.watchRobot(ss.actor.ID)
	}
	return true
}

// pupilActor finds the pupil and what they hold: the join link token, if
// one is given (checked, not redeemed: a device joining with the token
// holds no session row), otherwise the session cookie, which must be a
// pupil's.
func (ss *session) pupilActor(ctx context.Context, token string) (a people.Actor, held string, byLink bool, err error) {
	if ss.srv.deps.People == nil {
		return people.Actor{}, "", false, people.ErrUnauthenticated
	}
	if token != "" {
		a, err := ss.srv.deps.People.CheckJoinToken(ctx, token)
		return a, token, true, err
	}
	a, _, err = ss.srv.deps.People.Authenticate(ctx, ss.cookie)
	if err != nil {
		return people.Actor{}, "", false, err
	}
	if a.Role != people.RolePupil {
		return people.Actor{}, "", false, people.ErrForbidden
	}
	return a, ss.cookie, false, nil
}

func (ss *session) handleJoined(m wire.Message) bool {
	// Every message after join is checked against the caller's role.
	if ss.actor != nil {
		if _, ok := people.ScopeOf(ss.actor.Role, people.ActLinkSignal); !ok {
			ss.fail(wire.Errorf(wire.CodeForbidden, "your role may not do this"))
			return false
		}
	}
	switch m.Type {
	case wire.TypeJoin:
		ss.reply(wire.Errorf(wire.CodeAlreadyJoined, "this connection has already joined"))
	case wire.TypeAnswer:
		err := ss.part.HandleAnswer(m.SDP)
		switch {
		case errors.Is(err, media.ErrNoOffer):
			ss.reply(wire.Errorf(wire.CodeUnexpectedMessage, "no offer is waiting for an answer"))
		case err != nil:
			ss.reply(wire.Errorf(wire.CodeBadSDP, "the answer could not be applied"))
			ss.log.Info("bad answer", "err", err)
		}
	case wire.TypeCandidate:
		if err := ss.part.AddICECandidate(*m.Candidate); err != nil {
			ss.reply(wire.Errorf(wire.CodeBadCandidate, "the ICE candidate could not be applied"))
		}
	case wire.TypeRestartICE:
		// A new path may need a new relay, and the join's TURN credential
		// may have expired: a fresh one first, then the restart's offer.
		if ice := ss.iceServers(); len(ice) > 0 {
			ss.send(wire.Message{Type: wire.TypeICEServers, ICEServers: ice})
		}
		ss.part.RestartICE()
	case wire.TypeLeave:
		// Leave the room before saying bye, so a client that rejoins at
		// once finds its role free.
		ss.part.Close()
		ss.part = nil
		ss.send(wire.Message{Type: wire.TypeBye, Reason: "left"})
		ss.shutdown(websocket.CloseNormalClosure, "left")
		return false
	}
	return true
}

// iceServers are the STUN/TURN servers for this session's participant,
// with a TURN credential minted now.
func (ss *session) iceServers() []wire.ICEServer {
	var ice []wire.ICEServer
	for _, s := range ss.srv.deps.SFU.ICEServersFor(ss.part.ID()) {
		cred, _ := s.Credential.(string)
		ice = append(ice, wire.ICEServer{URLs: s.URLs, Username: s.Username, Credential: cred})
	}
	return ice
}
