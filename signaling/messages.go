package signaling

import (
	"errors"

	"github.com/gorilla/websocket"

	"seatlink/internal/wire"
	"seatlink/media"
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

// join admits the client to its link.
func (ss *session) join(m wire.Message) bool {
	link, role, err := ss.srv.deps.Links.Resolve(m.Token)
	if err != nil || role != m.Role {
		ss.fail(wire.Errorf(wire.CodeBadToken, "this link token is not valid for a %s", m.Role))
		return false
	}
	opts := media.JoinOptions{PublishAudio: m.Publish.Audio, PublishVideo: m.Publish.Video, Resume: m.Resume}
	p, err := ss.srv.deps.SFU.Join(link, media.Role(role), opts, ss)
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
	var ice []wire.ICEServer
	for _, s := range ss.srv.deps.SFU.ICEServers() {
		cred, _ := s.Credential.(string)
		ice = append(ice, wire.ICEServer{URLs: s.URLs, Username: s.Username, Credential: cred})
	}
	ss.send(wire.Message{Type: wire.TypeJoined, Peer: p.ID(), Role: role, Peers: peers, ICEServers: ice,
		Resume: p.ResumeKey()})
	ss.log.Info("joined", "client", m.Client != "")
	p.Start()
	return true
}

func (ss *session) handleJoined(m wire.Message) bool {
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
		ss.part.RestartICE()
	case wire.TypeLeave:
		ss.send(wire.Message{Type: wire.TypeBye, Reason: "left"})
		ss.shutdown(websocket.CloseNormalClosure, "left")
		return false
	}
	return true
}
