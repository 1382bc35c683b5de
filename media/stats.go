package media

import "github.com/pion/webrtc/v4"

// PeerStats is the live network quality of one participant's connection,
// from its peer connection's statistics.
type PeerStats struct {
	Connected bool    `json:"connected"`
	RTTMs     float64 `json:"rtt_ms"`
	// LossPct is the share of the participant's packets lost on the way to
	// the SFU, over the connection's life.
	LossPct float64 `json:"loss_pct"`
}

// LinkStats is who is in a link and how their connections are.
type LinkStats struct {
	Robot *PeerStats `json:"robot,omitempty"`
	Pupil *PeerStats `json:"pupil,omitempty"`
}

// Stats returns the link's participants and their network quality (zero
// value when nobody is in it).
func (s *SFU) Stats(link string) LinkStats {
	s.mu.Lock()
	r := s.rooms[link]
	s.mu.Unlock()
	if r == nil {
		return LinkStats{}
	}
	r.mu.Lock()
	robot, pupil := r.parts[RoleRobot], r.parts[RolePupil]
	r.mu.Unlock()
	var out LinkStats
	if robot != nil {
		st := robot.stats()
		out.Robot = &st
	}
	if pupil != nil {
		st := pupil.stats()
		out.Pupil = &st
	}
	return out
}

func (p *Participant) stats() PeerStats {
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	if p.closing.Load() {
		return PeerStats{}
	}
	st := PeerStats{Connected: p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected}
	var received, lost int64
	for _, s := range p.pc.GetStats() {
		switch s := s.(type) {
		case webrtc.ICECandidatePairStats:
			if s.Nominated && s.State == webrtc.StatsICECandidatePairStateSucceeded && s.CurrentRoundTripTime > 0 {
				st.RTTMs = s.CurrentRoundTripTime * 1000
			}
		case webrtc.InboundRTPStreamStats:
			received += int64(s.PacketsReceived)
			lost += int64(max(s.PacketsLost, 0))
		}
	}
	if received+lost > 0 {
		st.LossPct = 100 * float64(lost) / float64(received+lost)
	}
	return st
}
