package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// Media-level event kinds, named as engagement records them.
const (
	EventSessionUp    = "session_up"
	EventSessionDown  = "session_down"
	EventMediaStarted = "media_started"
	EventMediaStopped = "media_stopped"
	EventMediaAlive   = "media_alive"
	EventVoiceStart   = "voice_start"
	EventVoiceStop    = "voice_stop"
	EventHandRaised   = "hand_raised"
	EventHandLowered  = "hand_lowered"
	EventHeadTurn     = "head_turn"
	EventChat         = "chat" // the text is relayed to the robot, never recorded
)

// Event is something the SFU saw about a pupil's session. Subject is the
// pupil's id as signaling gave it at join; the SFU does not interpret it.
type Event struct {
	At      time.Time
	Link    string
	Subject string
	Kind    string
	Value   float64
}

// EventSink receives events. It must not block: it is called from the
// SFU's goroutines (engagement queues them).
type EventSink interface {
	MediaEvent(Event)
}

// Timing of media evidence.
const (
	// flowingWithin: classroom media counts as reaching the pupil while a
	// packet was forwarded to them this recently.
	flowingWithin = 1500 * time.Millisecond
	// aliveEvery: while media flows, evidence is recorded this often, so a
	// crash loses at most this much.
	aliveEvery = 5 * time.Second
	// voicedWithin: the pupil counts as speaking while a voiced packet
	// arrived this recently.
	voicedWithin = 400 * time.Millisecond
	// voiceLevel: an RFC 6464 level (−dBov) at or below this is voice.
	voiceLevel = 45
)

// activity is a pupil participant's media and voice state, kept by the
// monitor goroutine; the packet path only stores timestamps.
type activity struct {
	mu         sync.Mutex // guards all but lastVoiced: the monitor and closing both use them
	flowing    bool
	firstFlow  time.Time
	lastAlive  time.Time
	speaking   bool
	lastVoiced atomic.Int64 // unix nanoseconds, written by the pupil's audio reader
}

func (s *SFU) emit(p *Participant, kind string, at time.Time, value float64) {
	if s.cfg.Events == nil || p.subject == "" {
		return
	}
	s.cfg.Events.MediaEvent(Event{At: at, Link: p.room.link, Subject: p.subject, Kind: kind, Value: value})
}

// monitor turns packet timestamps into media and voice events, once a
// second, off the packet path.
func (s *SFU) monitor() {
	defer close(s.monitorDone)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stopMonitor:
			return
		case now := <-t.C:
			s.clock.Store(now.UnixNano())
			s.mu.Lock()
			rooms := make([]*Room, 0, len(s.rooms))
			for _, r := range s.rooms {
				rooms = append(rooms, r)
			}
			s.mu.Unlock()
			for _, r := range rooms {
				r.mu.Lock()
				p := r.parts[RolePupil]
				var last int64
				if p != nil {
					for _, sub := range p.subs {
						if w := sub.dt.lastWrite.Load(); w > last {
							last = w
						}
					}
				}
				r.mu.Unlock()
				if p != nil {
					s.observe(p, now, last)
				}
			}
		}
	}
}

func (s *SFU) observe(p *Participant, now time.Time, lastWrite int64) {
	a := &p.act
	a.mu.Lock()
	defer a.mu.Unlock()
	lw := time.Unix(0, lastWrite)
	flowing := lastWrite != 0 && now.Sub(lw) < flowingWithin
	switch {
	case flowing && !a.flowing:
		// The coarse clock may stamp a packet up to a tick before the
		// session began; media cannot start before its session.
		start := lw
		if start.Before(p.joinedAt) {
			start = p.joinedAt
		}
		a.flowing, a.lastAlive = true, start
		s.emit(p, EventMediaStarted, start, aliveEvery.Seconds())
	case !flowing && a.flowing:
		a.flowing = false
		s.emit(p, EventMediaStopped, lw, 0)
	case flowing && lw.Sub(a.lastAlive) >= aliveEvery:
		a.lastAlive = lw
		s.emit(p, EventMediaAlive, lw, aliveEvery.Seconds())
	}
	lv := a.lastVoiced.Load()
	voiced := lv != 0 && now.Sub(time.Unix(0, lv)) < voicedWithin
	switch {
	case voiced && !a.speaking:
		a.speaking = true
		start := time.Unix(0, lv)
		if start.Before(p.joinedAt) {
			start = p.joinedAt
		}
		s.emit(p, EventVoiceStart, start, 0)
	case !voiced && a.speaking:
		a.speaking = false
		s.emit(p, EventVoiceStop, time.Unix(0, lv), 0)
	}
}
