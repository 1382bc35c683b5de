package media

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"seatlink/internal/wire"
)

var errRoomGone = errors.New("media: room closed")

// ErrReplaced closes a participant whose client rejoined with its resume key.
var ErrReplaced = errors.New("media: replaced by a resumed session")

// Room is one link: at most one robot and one pupil, each subscribed to the
// other's tracks.
type Room struct {
	sfu  *SFU
	link string
	log  *slog.Logger

	mu     sync.Mutex
	parts  map[Role]*Participant
	closed bool
}

func newRoom(s *SFU, link string) *Room {
	return &Room{sfu: s, link: link, log: s.log.With("link", link), parts: make(map[Role]*Participant, 2)}
}

func other(role Role) Role {
	if role == RoleRobot {
		return RolePupil
	}
	return RoleRobot
}

func (r *Room) join(role Role, opts JoinOptions, sig Signaler) (*Participant, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, errRoomGone
		}
		old := r.parts[role]
		if old == nil {
			r.mu.Unlock()
			break
		}
		r.mu.Unlock()
		if opts.Resume == "" || subtle.ConstantTimeCompare([]byte(old.resumeKey), []byte(opts.Resume)) != 1 {
			return nil, ErrRoleTaken
		}
		old.close(ErrReplaced)
	}

	p, err := newParticipant(r, role, opts, sig)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.closed || r.parts[role] != nil {
		closed := r.closed
		r.mu.Unlock()
		_ = p.pc.Close()
		if closed {
			return nil, errRoomGone
		}
		return nil, ErrRoleTaken
	}
	r.parts[role] = p
	r.sfu.metrics.Peers.Inc()
	q := r.parts[other(role)]
	if q != nil {
		for _, up := range q.tracks {
			r.subscribe(up, p)
		}
	}
	r.mu.Unlock()
	if q != nil {
		q.sig.PeerJoined(role)
	}
	p.log.Info("participant joined", "publish_audio", opts.PublishAudio, "publish_video", opts.PublishVideo)
	if role == RolePupil {
		r.sfu.emit(p, EventSessionUp, p.joinedAt, 0)
	}
	return p, nil
}

// peerRoles lists the roles present other than p's.
func (r *Room) peerRoles(p *Participant) []Role {
	r.mu.Lock()
	defer r.mu.Unlock()
	var roles []Role
	for role, q := range r.parts {
		if q != p {
			roles = append(roles, role)
		}
	}
	return roles
}

// addTrack registers a track p publishes and subscribes the other side.
// It returns false when p has already left.
func (r *Room) addTrack(p *Participant, up *upTrack) bool {
	r.mu.Lock()
	if r.parts[p.role] != p {
		r.mu.Unlock()
		return false
	}
	p.tracks = append(p.tracks, up)
	r.sfu.metrics.PublishedTracks.Inc()
	q := r.parts[other(p.role)]
	if q != nil && !q.ingest {
		r.subscribe(up, q)
	}
	r.mu.Unlock()
	if q != nil {
		q.negotiate(false)
	}
	return true
}

// removeTrack is called when a published track ends.
func (r *Room) removeTrack(p *Participant, up *upTrack) {
	r.mu.Lock()
	found := false
	for i, t := range p.tracks {
		if t == up {
			p.tracks = append(p.tracks[:i], p.tracks[i+1:]...)
			found = true
			break
		}
	}
	var renegotiate *Participant
	if found {
		r.sfu.metrics.PublishedTracks.Dec()
		if q := r.parts[other(p.role)]; q != nil && r.unsubscribe(up, q) {
			renegotiate = q
		}
	}
	r.mu.Unlock()
	up.close()
	if renegotiate != nil {
		renegotiate.negotiate(false)
	}
}

// subscribe sends up's packets to q. Called with r.mu held. An ingest
// publisher (WHIP) receives nothing: its connection carries its own media
// only, and the server cannot offer it more.
func (r *Room) subscribe(up *upTrack, q *Participant) {
	if _, ok := q.subs[up]; ok || q.ingest {
		return
	}
	dt := newDownTrack(up, string(up.owner.role))
	dt.sub = q
	sender, err := q.pc.AddTrack(dt)
	if err != nil {
		q.log.Warn("cannot add forwarded track", "kind", up.kind.String(), "err", err)
		return
	}
	for _, t := range q.pc.GetTransceivers() {
		if t.Sender() == sender {
			// Offer the subscriber only the publisher's codec: the SFU
			// does not transcode.
			if err := t.SetCodecPreferences([]webrtc.RTPCodecParameters{up.codec}); err != nil {
				q.log.Debug("codec preferences not set", "err", err)
			}
		}
	}
	q.subs[up] = &subscription{dt: dt, sender: sender}
	up.addSubscriber(dt)
	r.sfu.metrics.ForwardedTracks.Inc()
	go readSubscriberRTCP(sender, dt, r.sfu.metrics)
}

// unsubscribe stops sending up's packets to q and reports whether q needs a
// new offer. Called with r.mu held.
func (r *Room) unsubscribe(up *upTrack, q *Participant) bool {
	sub, ok := q.subs[up]
	if !ok {
		return false
	}
	delete(q.subs, up)
	up.removeSubscriber(sub.dt)
	r.sfu.metrics.ForwardedTracks.Dec()
	if err := q.pc.RemoveTrack(sub.sender); err != nil {
		q.log.Debug("remove track", "err", err)
		return false
	}
	return true
}

// leave removes p from the room, unsubscribes everyone from its tracks and
// it from everyone's, and closes the room when it is empty.
func (r *Room) leave(p *Participant) {
	r.mu.Lock()
	if r.parts[p.role] != p {
		r.mu.Unlock()
		return
	}
	delete(r.parts, p.role)
	r.sfu.metrics.Peers.Dec()
	q := r.parts[other(p.role)]
	tracks := p.tracks
	p.tracks = nil
	renegotiate := false
	for _, up := range tracks {
		r.sfu.metrics.PublishedTracks.Dec()
		if q != nil && r.unsubscribe(up, q) {
			renegotiate = true
		}
	}
	for up, sub := range p.subs {
		up.removeSubscriber(sub.dt)
		r.sfu.metrics.ForwardedTracks.Dec()
		delete(p.subs, up)
	}
	empty := len(r.parts) == 0
	if empty {
		r.closed = true
	}
	r.mu.Unlock()

	for _, up := range tracks {
		up.close()
	}
	if q != nil {
		q.sig.PeerLeft(p.role)
		if renegotiate {
			q.negotiate(false)
		}
	}
	if empty {
		r.sfu.removeRoom(r)
	}
}

// close closes every participant (SFU shutdown).
func (r *Room) close(reason error) {
	r.mu.Lock()
	parts := make([]*Participant, 0, 2)
	for _, p := range r.parts {
		parts = append(parts, p)
	}
	r.mu.Unlock()
	for _, p := range parts {
		p.close(reason)
	}
}

// handleControl checks one control message from p and relays it to the
// other side, or answers p itself when it cannot.
func (r *Room) handleControl(p *Participant, data []byte) {
	m := r.sfu.metrics.ControlMessages
	c, err := wire.DecodeControl(data)
	if err != nil {
		m.WithLabelValues("invalid", "refused").Inc()
		if c.ID != "" {
			p.sendControl(wire.Ack(c.ID, false, wire.CtlBadCommand, nil))
		}
		p.log.Debug("bad control message", "err", err)
		return
	}
	wantType := wire.ControlCommand
	if p.role == RoleRobot {
		wantType = wire.ControlAck
	}
	if c.Type != wantType {
		m.WithLabelValues(c.Type, "not_allowed").Inc()
		if c.Type == wire.ControlCommand {
			p.sendControl(wire.Ack(c.ID, false, wire.CtlNotAllowed, nil))
		}
		return
	}
	if p.role == RolePupil && !p.commandLimit.Allow() {
		m.WithLabelValues(c.Command, "rate_limited").Inc()
		p.sendControl(wire.Ack(c.ID, false, wire.CtlRateLimited, nil))
		return
	}
	r.mu.Lock()
	q := r.parts[other(p.role)]
	r.mu.Unlock()
	kind := c.Command
	if kind == "" {
		kind = c.Type
	}
	if q == nil || !q.sendControl(c.Clean()) {
		m.WithLabelValues(kind, "no_peer").Inc()
		if p.role == RolePupil {
			p.sendControl(wire.Ack(c.ID, false, wire.CtlRobotNotConnected, nil))
		}
		return
	}
	m.WithLabelValues(kind, "relayed").Inc()
	if p.role == RolePupil {
		p.log.Info("pupil command relayed", "command", c.Command)
		switch c.Command {
		case wire.CmdRaiseHand:
			r.sfu.emit(p, EventHandRaised, time.Now(), 0)
		case wire.CmdLowerHand:
			r.sfu.emit(p, EventHandLowered, time.Now(), 0)
		case wire.CmdTurn:
			r.sfu.emit(p, EventHeadTurn, time.Now(), 0)
		case wire.CmdChat:
			r.sfu.emit(p, EventChat, time.Now(), 0)
		}
	}
}

// marshalControl is split out so that it can be tested without a channel.
func marshalControl(c wire.Control) ([]byte, error) { return json.Marshal(c) }
