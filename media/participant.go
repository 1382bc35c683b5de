package media

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"seatlink/internal/wire"
)

// Errors from a participant's negotiation.
var (
	ErrBadSDP       = errors.New("media: bad SDP")
	ErrBadCandidate = errors.New("media: bad ICE candidate")
	ErrNoOffer      = errors.New("media: no offer outstanding")
	ErrPeerFailed   = errors.New("media: peer connection failed")
	ErrLeft         = errors.New("media: participant left")
)

// Signaler carries what the SFU has to tell one client. Its methods must not
// block: the signaling session queues them.
type Signaler interface {
	SendOffer(sdp string)
	SendCandidate(c webrtc.ICECandidateInit)
	PeerJoined(role Role)
	PeerLeft(role Role)
	// Closed reports that the SFU closed the participant (shutdown, a
	// failed connection, replaced by a resumed session).
	Closed(reason error)
}

// JoinOptions say what a joining client publishes.
type JoinOptions struct {
	PublishAudio bool
	PublishVideo bool
	// Resume is the key from an earlier join of the same client.
	Resume string
	// Subject is who the participant is (a pupil's id), carried in events.
	Subject string
	// ingest: the client offers and only publishes (WHIP); see SFU.Ingest.
	ingest bool
}

type subscription struct {
	dt     *downTrack
	sender *webrtc.RTPSender
}

// Participant is one robot or pupil in a room, with its peer connection.
type Participant struct {
	id        string
	resumeKey string
	role      Role
	subject   string
	joinedAt  time.Time
	act       activity
	room      *Room
	pc        *webrtc.PeerConnection
	sig       Signaler
	log       *slog.Logger
	control   *webrtc.DataChannel
	// ingest: a publisher that offered (WHIP). Nothing is forwarded to
	// it and the server never offers to it.
	ingest bool

	commandLimit *rate.Limiter

	// Guarded by room.mu.
	tracks []*upTrack
	subs   map[*upTrack]*subscription

	negMu          sync.Mutex
	started        bool // Start was called: offers may go out
	awaitingAnswer bool
	pending        bool
	wantRestart    bool
	earlyCands     []webrtc.ICECandidateInit

	// Local candidates are held while an offer is being made, so that none
	// overtakes its offer (the client would drop it as belonging to an
	// unknown ICE generation).
	candMu   sync.Mutex
	holdCand bool
	heldCand []webrtc.ICECandidateInit

	closing   atomic.Bool
	closeOnce sync.Once
	// statsMu keeps GetStats and Close apart (see closeWith).
	statsMu sync.Mutex
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newParticipant(r *Room, role Role, opts JoinOptions, sig Signaler) (*Participant, error) {
	api := r.sfu.api
	if role == RolePupil {
		api = r.sfu.subAPI
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		Certificates: r.sfu.certificates(),
		BundlePolicy: webrtc.BundlePolicyMaxBundle,
	})
	if err != nil {
		return nil, fmt.Errorf("media: new peer connection: %w", err)
	}
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	p := &Participant{
		id:           string(role[0]) + "-" + randomID(4),
		resumeKey:    base64.RawURLEncoding.EncodeToString(key),
		role:         role,
		subject:      opts.Subject,
		joinedAt:     time.Now(),
		room:         r,
		pc:           pc,
		sig:          sig,
		subs:         make(map[*upTrack]*subscription),
		commandLimit: rate.NewLimiter(20, 20),
		ingest:       opts.ingest,
	}
	p.log = r.log.With("peer", p.id, "role", string(role))
	if !p.ingest {
		if err := p.prepareOffers(opts); err != nil {
			return nil, err
		}
	}
	p.watch()
	return p, nil
}

// prepareOffers sets up what the server offers a client it negotiates
// with: a receive-only transceiver for each kind it publishes, and the
// control channel.
func (p *Participant) prepareOffers(opts JoinOptions) error {
	pc, r := p.pc, p.room
	for kind, on := range map[webrtc.RTPCodecType]bool{
		webrtc.RTPCodecTypeAudio: opts.PublishAudio, webrtc.RTPCodecTypeVideo: opts.PublishVideo,
	} {
		if !on {
			continue
		}
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{
			Direction: webrtc.RTPTransceiverDirectionRecvonly,
		}); err != nil {
			_ = pc.Close()
			return fmt.Errorf("media: add %s transceiver: %w", kind, err)
		}
	}
	ordered := true
	dc, err := pc.CreateDataChannel("control", &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		_ = pc.Close()
		return fmt.Errorf("media: control channel: %w", err)
	}
	p.control = dc
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { r.handleControl(p, msg.Data) })
	return nil
}

// watch follows the peer connection: candidates, its state and the
// tracks the client publishes.
func (p *Participant) watch() {
	pc, r := p.pc, p.room
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil || p.closing.Load() {
			return
		}
		p.candMu.Lock()
		defer p.candMu.Unlock()
		if p.holdCand {
			p.heldCand = append(p.heldCand, c.ToJSON())
			return
		}
		p.sig.SendCandidate(c.ToJSON())
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug("peer connection state", "state", s.String())
		switch s {
		case webrtc.PeerConnectionStateFailed:
			go p.close(ErrPeerFailed)
		case webrtc.PeerConnectionStateConnected:
			// SRTP works from now on. The keyframe asked for when the
			// track was bound went out before it did (a resumed pupil's
			// track binds at the answer, 0.2 s earlier) and was lost; ask
			// again so the picture starts now rather than when the
			// browser asks for one itself.
			go p.requestKeyframes()
		}
	})
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		up := newUpTrack(p, remote, recv)
		if !r.addTrack(p, up) {
			up.close()
			return
		}
		p.log.Info("publishing", "kind", remote.Kind().String(), "codec", remote.Codec().MimeType)
		up.run()
		r.removeTrack(p, up)
	})
}

// requestKeyframes asks the publishers of the video p receives for a
// keyframe.
func (p *Participant) requestKeyframes() {
	r := p.room
	r.mu.Lock()
	ups := make([]*upTrack, 0, len(p.subs))
	for up := range p.subs {
		ups = append(ups, up)
	}
	r.mu.Unlock()
	for _, up := range ups {
		up.requestKeyframe() // audio: a no-op
	}
}

// ID is the participant's id, for logs and the client.
func (p *Participant) ID() string { return p.id }

// ResumeKey lets the same client replace this participant on rejoin.
func (p *Participant) ResumeKey() string { return p.resumeKey }

// Role is the participant's role.
func (p *Participant) Role() Role { return p.role }

// Peers lists the roles already in the room.
func (p *Participant) Peers() []Role { return p.room.peerRoles(p) }

// Start sends the first offer. Until then no offer goes out: signaling
// tells the client it joined first, and a client drops an offer that
// comes before that. Subscriptions made in between are in the first offer.
func (p *Participant) Start() {
	p.negMu.Lock()
	p.started = true
	p.negMu.Unlock()
	p.negotiate(false)
}

// RestartICE sends a new offer with fresh ICE credentials.
func (p *Participant) RestartICE() { p.negotiate(true) }

// negotiate creates and sends an offer, or marks one pending while an
// earlier offer awaits its answer. The server is always the offerer, so
// there is no glare.
func (p *Participant) negotiate(restart bool) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.closing.Load() {
		return
	}
	if p.ingest || !p.started {
		return // an ingest client offers; before Start, Start's offer will carry it
	}
	if restart {
		p.wantRestart = true
	}
	if p.awaitingAnswer {
		p.pending = true
		return
	}
	p.setHoldCandidates(true)
	defer p.setHoldCandidates(false)
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: p.wantRestart})
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.log.Error("cannot create offer", "err", err)
		go p.close(fmt.Errorf("media: offer: %w", err))
		return
	}
	p.wantRestart = false
	p.pending = false
	p.awaitingAnswer = true
	p.sig.SendOffer(offer.SDP)
}

// setHoldCandidates starts holding local candidates, or stops and sends
// the held ones in order.
func (p *Participant) setHoldCandidates(hold bool) {
	p.candMu.Lock()
	defer p.candMu.Unlock()
	p.holdCand = hold
	if !hold {
		for _, c := range p.heldCand {
			p.sig.SendCandidate(c)
		}
		p.heldCand = nil
	}
}

// HandleAnswer applies the client's answer to the outstanding offer. A bad
// answer leaves the offer outstanding, so the client may answer again.
func (p *Participant) HandleAnswer(sdp string) error {
	p.negMu.Lock()
	if !p.awaitingAnswer {
		p.negMu.Unlock()
		return ErrNoOffer
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		p.negMu.Unlock()
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	p.awaitingAnswer = false
	early := p.earlyCands
	p.earlyCands = nil
	again := p.pending
	p.negMu.Unlock()
	for _, c := range early {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Debug("early candidate refused", "err", err)
		}
	}
	if again {
		p.negotiate(false)
	}
	return nil
}

// AddICECandidate adds a trickled client candidate. Candidates that arrive
// before the answer to the outstanding offer are kept until it is applied.
func (p *Participant) AddICECandidate(c wire.Candidate) error {
	if c.Candidate == "" {
		return nil // end of candidates
	}
	// Parse before queueing, so a bad candidate is refused at once even
	// when it arrives before the answer.
	if _, err := ice.UnmarshalCandidate(c.Candidate); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment}
	p.negMu.Lock()
	// Hold candidates that arrive while an offer awaits its answer: after
	// an ICE restart they belong to the new generation, which starts only
	// when the answer is applied.
	if p.pc.RemoteDescription() == nil || p.awaitingAnswer {
		if len(p.earlyCands) >= 64 {
			p.negMu.Unlock()
			return fmt.Errorf("%w: too many candidates before the answer", ErrBadCandidate)
		}
		p.earlyCands = append(p.earlyCands, init)
		p.negMu.Unlock()
		return nil
	}
	p.negMu.Unlock()
	if err := p.pc.AddICECandidate(init); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	return nil
}

// sendControl sends a control message to this participant's client and
// reports whether it could.
func (p *Participant) sendControl(c wire.Control) bool {
	if p.control == nil || p.control.ReadyState() != webrtc.DataChannelStateOpen {
		return false
	}
	b, err := marshalControl(c)
	if err != nil {
		return false
	}
	return p.control.SendText(string(b)) == nil
}

// Close removes the participant from its room and closes its peer
// connection. It is called by signaling when the client leaves.
func (p *Participant) Close() { p.closeWith(ErrLeft, false) }

// close is the SFU's own close, which tells signaling.
func (p *Participant) close(reason error) { p.closeWith(reason, true) }

func (p *Participant) closeWith(reason error, notify bool) {
	p.closeOnce.Do(func() {
		p.closing.Store(true)
		p.room.leave(p)
		// Pion's GetStats reads ICE state that Close writes without a
		// lock of theirs (a data race seen under -race): stats waits.
		p.statsMu.Lock()
		if err := p.pc.Close(); err != nil {
			p.log.Debug("close peer connection", "err", err)
		}
		p.statsMu.Unlock()
		p.log.Info("participant left", "reason", reason.Error())
		if p.role == RolePupil {
			s := p.room.sfu
			p.act.mu.Lock()
			if p.act.flowing {
				p.act.flowing = false
				s.emit(p, EventMediaStopped, time.Now(), 0)
			}
			if p.act.speaking {
				p.act.speaking = false
				s.emit(p, EventVoiceStop, time.Now(), 0)
			}
			p.act.mu.Unlock()
			s.emit(p, EventSessionDown, time.Now(), 0)
		}
		if notify {
			p.sig.Closed(reason)
		}
	})
}
