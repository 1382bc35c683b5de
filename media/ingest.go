package media

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Ingest is WHIP (RFC 9725) as the SFU sees it: the client offers, the
// server answers, and the client only publishes. A hardware encoder or a
// robot maker's pipeline that speaks WHIP sits in the room like any robot:
// its tracks are forwarded to the other side as a robot's are. Nothing is
// forwarded to it (WHIP carries one direction), so the server never needs
// to offer it anything.

// Errors of an ingest offer.
var (
	ErrNothingToPublish = errors.New("media: the offer publishes no audio or video")
	ErrNotIngest        = errors.New("media: not an ingest session")
)

// maxIngestSections bounds the media sections of an ingest offer: a robot
// publishes a camera and a microphone, perhaps a second camera.
const maxIngestSections = 4

// gatherWait bounds how long the answer waits for the server's candidates
// (host candidates on the shared ports come at once).
const gatherWait = 2 * time.Second

// CheckIngestOffer reads an offer before any peer connection is made:
// well-formed SDP, at most a few sections, and at least one audio or
// video section that the client sends.
func CheckIngestOffer(offer string) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return fmt.Errorf("%w: no media sections", ErrBadSDP)
	}
	if len(sd.MediaDescriptions) > maxIngestSections {
		return fmt.Errorf("%w: %d media sections, at most %d", ErrBadSDP, len(sd.MediaDescriptions), maxIngestSections)
	}
	for _, md := range sd.MediaDescriptions {
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue
		}
		if _, recvonly := md.Attribute("recvonly"); recvonly {
			continue
		}
		if _, inactive := md.Attribute("inactive"); inactive {
			continue
		}
		return nil
	}
	return ErrNothingToPublish
}

// ingestSignaler is the Signaler of an ingest participant: it has no
// channel to the client but the HTTP answers, so it only reports closing.
type ingestSignaler struct{ closed func(error) }

func (ingestSignaler) SendOffer(string)                      {}
func (ingestSignaler) SendCandidate(webrtc.ICECandidateInit) {}
func (ingestSignaler) PeerJoined(Role)                       {}
func (ingestSignaler) PeerLeft(Role)                         {}
func (s ingestSignaler) Closed(reason error) {
	if s.closed != nil {
		s.closed(reason)
	}
}

// Ingest joins a publisher that offered into the room of link in role and
// returns the participant and the server's answer (with its candidates,
// as WHIP clients expect). closed is called if the SFU closes the
// participant (eviction, shutdown, failed connection). A second publisher
// in the same role gets ErrRoleTaken.
func (s *SFU) Ingest(ctx context.Context, link string, role Role, offer string, subject string, closed func(error)) (*Participant, string, error) {
	if err := CheckIngestOffer(offer); err != nil {
		return nil, "", err
	}
	p, err := s.Join(link, role, JoinOptions{Subject: subject, ingest: true}, ingestSignaler{closed: closed})
	if err != nil {
		return nil, "", err
	}
	answer, err := p.answer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer})
	if err != nil {
		p.Close()
		return nil, "", err
	}
	return p, answer, nil
}

// answer applies an offer and returns the answer once the server's
// candidates are in it (or gatherWait has passed).
func (p *Participant) answer(ctx context.Context, offer webrtc.SessionDescription) (string, error) {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if err := p.pc.SetRemoteDescription(offer); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("media: answer: %w", err)
	}
	t := time.NewTimer(gatherWait)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	early := p.earlyCands
	p.earlyCands = nil
	for _, c := range early {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Debug("early candidate refused", "err", err)
		}
	}
	return p.pc.LocalDescription().SDP, nil
}

// Patch is a WHIP PATCH (RFC 9725, section 4.3): the client's trickled
// candidates, and, when its ICE credentials are new, an ICE restart. It
// returns the server's SDP fragment after a restart ("" when there was
// none to make).
func (p *Participant) Patch(ctx context.Context, frag IceFragment) (string, error) {
	if !p.ingest {
		return "", ErrNotIngest
	}
	cur := p.pc.RemoteDescription()
	if cur == nil {
		return "", ErrNoOffer
	}
	oldUfrag, oldPwd := iceCredentials(cur.SDP)
	restart := frag.Ufrag != "" && (frag.Ufrag != oldUfrag || frag.Pwd != oldPwd)
	if restart {
		if frag.Pwd == "" {
			return "", fmt.Errorf("%w: an ICE restart needs ice-pwd", ErrBadSDP)
		}
		offer := withICECredentials(cur.SDP, frag.Ufrag, frag.Pwd)
		if _, err := p.answer(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
			return "", err
		}
	} else if frag.Ufrag != "" && frag.Ufrag != oldUfrag {
		return "", fmt.Errorf("%w: candidates for another ICE session", ErrBadCandidate)
	}
	for _, c := range frag.Candidates {
		mid := c.Mid
		if err := p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: &mid}); err != nil {
			return "", fmt.Errorf("%w: %v", ErrBadCandidate, err)
		}
	}
	if !restart {
		return "", nil
	}
	return localFragment(p.pc.LocalDescription().SDP), nil
}

// IceFragment is what a trickle-ice-sdpfrag body carries (RFC 8840).
type IceFragment struct {
	Ufrag, Pwd string
	Candidates []FragmentCandidate
}

// FragmentCandidate is one trickled candidate and the media section it
// belongs to.
type FragmentCandidate struct {
	Mid       string
	Candidate string // without "a=": "candidate:…"
}

// maxFragmentCandidates bounds one PATCH.
const maxFragmentCandidates = 64

// ParseIceFragment reads an application/trickle-ice-sdpfrag body: ICE
// credentials, media sections with their mid, candidates and
// end-of-candidates. Other attributes are ignored, as RFC 8840 allows; a
// line that is not SDP, a candidate outside a media section or too many
// candidates are refused.
func ParseIceFragment(body string) (IceFragment, error) {
	var f IceFragment
	mid, inSection := "", false
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return IceFragment{}, fmt.Errorf("%w: %q is not an SDP line", ErrBadSDP, truncate(line, 40))
		}
		switch {
		case strings.HasPrefix(line, "m="):
			inSection, mid = true, ""
		case strings.HasPrefix(line, "a=mid:"):
			mid = strings.TrimPrefix(line, "a=mid:")
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			f.Ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			f.Pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=candidate:"):
			if !inSection {
				return IceFragment{}, fmt.Errorf("%w: a candidate outside a media section", ErrBadCandidate)
			}
			if len(f.Candidates) == maxFragmentCandidates {
				return IceFragment{}, fmt.Errorf("%w: more than %d candidates", ErrBadCandidate, maxFragmentCandidates)
			}
			c := strings.TrimPrefix(line, "a=")
			if _, err := ice.UnmarshalCandidate(c); err != nil {
				return IceFragment{}, fmt.Errorf("%w: %v", ErrBadCandidate, err)
			}
			f.Candidates = append(f.Candidates, FragmentCandidate{Mid: mid, Candidate: c})
		}
	}
	return f, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// withICECredentials is sdpText with every ice-ufrag and ice-pwd line
// replaced whole (a substring replace could touch a longer value that
// begins with the old one).
func withICECredentials(sdpText, ufrag, pwd string) string {
	lines := strings.Split(sdpText, "\n")
	for i, line := range lines {
		cr := strings.HasSuffix(line, "\r")
		switch t := strings.TrimSuffix(line, "\r"); {
		case strings.HasPrefix(t, "a=ice-ufrag:"):
			t = "a=ice-ufrag:" + ufrag
			lines[i] = t
		case strings.HasPrefix(t, "a=ice-pwd:"):
			t = "a=ice-pwd:" + pwd
			lines[i] = t
		default:
			continue
		}
		if cr {
			lines[i] += "\r"
		}
	}
	return strings.Join(lines, "\n")
}

// iceCredentials finds the first ice-ufrag and ice-pwd of an SDP.
func iceCredentials(sdpText string) (ufrag, pwd string) {
	for _, line := range strings.Split(sdpText, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && ufrag == "" {
			ufrag = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-pwd:"); ok && pwd == "" {
			pwd = v
		}
	}
	return ufrag, pwd
}

// localFragment is the server's side of an ICE restart as an SDP
// fragment: its new credentials and candidates, per media section.
func localFragment(sdpText string) string {
	var b strings.Builder
	ufrag, pwd := iceCredentials(sdpText)
	b.WriteString("a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\n")
	for _, line := range strings.Split(sdpText, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "m="), strings.HasPrefix(line, "a=mid:"), strings.HasPrefix(line, "a=candidate:"),
			strings.HasPrefix(line, "a=end-of-candidates"):
			b.WriteString(line + "\r\n")
		}
	}
	return b.String()
}
