package media

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// The SFU's own estimate of a pupil's downlink, made send-side from the
// pupil's transport-wide congestion control feedback (TWCC), and the
// probes that let it climb.
//
// A pupil's browser used to estimate its line itself (receive-side, sent
// as REMB). Under a tbf cap that estimate sometimes fell to a third of the
// line and grew back slowly, and the robot, which could not see past it,
// probed a rung up blindly and froze the picture when the rung did not
// fit (docs/BENCHMARKS.md "Networks"). Now the video the SFU sends a pupil
// carries transport-wide sequence numbers; the pupil's browser says when
// each arrived (or that it did not), and the SFU, which knows when each
// left and how big it was, sees the line's queue and what it delivers:
//
//   - the queuing delay: each packet's one-way delay (arrival less send
//     time, the two clocks' offset unknown) over the least seen lately;
//   - the delivered rate: bytes received over their arrival span;
//   - the loss.
//
// A queue that stands over overuseDelay for overuseFor and is not
// draining from its peak (one big frame fills a capped line's queue for a
// moment too), or over lossCut of packets lost over fbLossWindow and at
// least lossPackets (random loss of 5 % shows over 10 % in about one
// one-second window of fifty, and the line is no fuller for it), means the
// line is full: the estimate is cut to cutFactor of what it delivered (a
// full line delivers what it carries; the fifth left over is for the
// robot's frames, which leave in bursts of up to 10 KB that a capped
// line's 100 ms queue must hold). The estimate
// never rises by itself: what is sent says nothing of what more the line
// could carry. Instead, while the estimate holds the publisher back (it
// sends at least probeWhenUsed of it), the line is clear and probeGap has
// passed, the SFU probes: for probeFor it adds padding to the pupil's video
// up to probeStep times the estimate. If the feedback on the probe shows no
// queue and under lossCut lost, the estimate takes what the probe
// delivered and the publisher is told it may send more, before it sends
// it; if a queue builds (over abortDelay in two feedbacks running, or
// twice that in one), the padding stops at once, long before a cap's
// queue overflows, and the estimate stays. Failed probes wait twice as
// long each time, up to probeGapMax, and ask for less (probeStepAfterFail).
// A publisher that does not use what a probe let it send sends all it
// has: the estimate lets go (no limit) until the next cut.
//
// This is GCC's design (draft-ietf-rmcat-gcc) reduced to what one
// publisher's rendition ladder needs, and its cost is on RTCP: the
// forwarding path stores one word a packet in the track's sendLog, adds
// an offset for each subscriber's number (twccSend.media), and pads only
// while a probe runs. pion/interceptor's pkg/gcc would take a lock, a map
// lookup and an allocation for every packet (estimator.go).
const (
	twccRing     = 1024 // packets remembered: 4 s at 2.5 Mbit/s
	overuseDelay = 40 * time.Millisecond
	overuseFor   = 250 * time.Millisecond
	drainMargin  = 5 * time.Millisecond
	lossCut      = 0.10
	fbLossWindow = 2 * time.Second
	lossPackets  = 100
	cutFactor    = 0.8
	cutEvery     = 2 * time.Second
	clearDelay   = 20 * time.Millisecond
	abortDelay   = 40 * time.Millisecond
	probeStep    = 1.5
	// probeStepAfterFail is the step after a probe that built a queue
	// (under a cap, probes keep failing: each fills the cap's queue less).
	probeStepAfterFail = 1.3
	probeFor           = time.Second
	probeAgain         = time.Second // after a probe that raised the estimate
	probeGapFirst      = 2 * time.Second
	probeGapMax        = 6 * time.Second
	// probeWhenUsed: probe only while the publisher sends at least this
	// share of the estimate (its rungs are up to 1.65 apart, and a rung
	// sends less than it is named for); one that sends less letGoAfter
	// after a probe raised the estimate sends all it has, and the
	// estimate lets go.
	probeWhenUsed = 0.45
	letGoAfter    = 3 * time.Second
	owdWindow     = 10 * time.Second
	rateWindow    = 500 * time.Millisecond
	// padSize is the padding in one probe packet (RTP padding counts in a
	// byte, so at most 255).
	padSize = 240
)

// sendLog is when each video packet of a track left and how big it was,
// for every subscriber's feedback: one record a packet, whatever the
// number of subscribers. Only the track's forwarding goroutine writes it;
// a subscriber's RTCP reader reads a record once published (the index
// after it, stored once per packet) says it is written, and only well
// within the ring.
type sendLog struct {
	next      uint16           // the index of the packet being forwarded
	rec       [twccRing]uint64 // index<<48 | size<<32 | the low 32 bits of µs
	published atomic.Uint32
}

// add records the packet with index next and publishes it.
func (l *sendLog) add(size int, us int64) {
	l.rec[l.next%twccRing] = uint64(l.next)<<48 | uint64(min(size, 0xffff))<<32 | uint64(uint32(us))
	l.next++
	l.published.Store(uint32(l.next))
}

// lookup returns the send time (µs, its low 32 bits) and size of the
// packet with index i; false when it is not published or too old.
func (l *sendLog) lookup(i uint16) (uint32, int, bool) {
	if back := uint16(l.published.Load()) - i; back == 0 || back > twccRing-64 {
		return 0, 0, false
	}
	v := l.rec[i%twccRing]
	if uint16(v>>48) != i {
		return 0, 0, false
	}
	return uint32(v), int(v >> 32 & 0xffff), true
}

// twccSend numbers the video sent to one subscriber with transport-wide
// sequence numbers. A media packet's number is its index in the track's
// sendLog plus an offset, so numbering costs the forwarding goroutine an
// addition; the offset changes only when the subscriber skips packets
// (video held back, not bound yet) or is sent probe padding, and each
// change is kept in a short history (under a lock: a few times a second
// at most) through which feedback finds each number's packet.
// Retransmissions answering NACKs carry no number (the browser then makes
// a REMB of them alone, which is why a subscriber's REMB is not taken
// beside its feedback: adapt.go).
type twccSend struct {
	// The forwarding goroutine's own: the last index and number sent,
	// the offset, and the probe padding owed.
	lastIdx, lastSeq, off uint16
	started               bool
	padAt, budget         int64
	// probe is the padding wanted, bit/s (0: none); set by the estimator.
	probe atomic.Int64

	histMu sync.Mutex
	hist   [64]twShift
	nHist  int

	est sendSide
}

// twShift: numbers from from on are media with off added to their index,
// but the first pad of them, probe padding sent at us.
type twShift struct {
	from, off, pad uint16
	us             uint32
}

func (t *twccSend) shift(c twShift) {
	t.histMu.Lock()
	t.hist[t.nHist%len(t.hist)] = c
	t.nHist++
	t.histMu.Unlock()
}

// media numbers the media packet with index idx.
func (t *twccSend) media(idx uint16) uint16 {
	if !t.started || idx != t.lastIdx+1 {
		seq := t.lastSeq + 1
		if !t.started {
			seq = 0
		}
		t.off, t.started = seq-idx, true
		t.shift(twShift{from: seq, off: t.off})
	}
	t.lastIdx, t.lastSeq = idx, idx+t.off
	return t.lastSeq
}

// padded numbers n padding packets sent at us after the last media
// packet; it returns the first number.
func (t *twccSend) padded(n int, us int64) uint16 {
	from := t.lastSeq + 1
	t.lastSeq += uint16(n)
	t.off += uint16(n)
	t.shift(twShift{from: from, off: t.off, pad: uint16(n), us: uint32(us)})
	return from
}

// padding is how many bytes of padding to send now, at us, for the
// probe; the forwarding goroutine calls it after each frame.
func (t *twccSend) padding(us int64) int {
	bps := t.probe.Load()
	if bps <= 0 {
		t.budget, t.padAt = 0, us
		return 0
	}
	dt := min(us-t.padAt, int64(100*time.Millisecond/time.Microsecond)) // no burst for a gap
	t.padAt = us
	t.budget += bps * max(dt, 0) / 8 / 1_000_000
	n := t.budget / padSize * padSize
	n = min(n, 8*padSize) // a few packets at a time; the rest with the next
	t.budget -= n
	return int(n)
}

// find returns the send time (µs, low 32 bits) and size of the packet
// numbered seq. Called with histMu held.
func (t *twccSend) find(seq uint16, log *sendLog) (uint32, int, bool) {
	for i := 0; i < min(t.nHist, len(t.hist)); i++ {
		c := t.hist[(t.nHist-1-i)%len(t.hist)]
		if int16(seq-(c.from+c.pad)) >= 0 {
			return log.lookup(seq - c.off)
		}
		if int16(seq-c.from) >= 0 {
			return c.us, padSize + 12 + 4, true
		}
	}
	return 0, 0, false
}

// fbPacket is one packet as the feedback reports it.
type fbPacket struct {
	sent    int64 // µs, SFU clock
	size    int
	arrived int64 // µs, the receiver's clock; meaningless when lost
	lost    bool
}

// feedback turns one TWCC feedback packet into what happened to each
// packet it reports that the ring still knows, appended to out. now is
// the SFU clock in µs (send times in the ring are its low 32 bits).
func (t *twccSend) feedback(fb *rtcp.TransportLayerCC, log *sendLog, now int64, out []fbPacket) []fbPacket {
	t.histMu.Lock()
	defer t.histMu.Unlock()
	seq := fb.BaseSequenceNumber
	arrived := int64(fb.ReferenceTime) * 64_000
	deltas := fb.RecvDeltas
	left := int(fb.PacketStatusCount)
	one := func(symbol uint16) {
		if left <= 0 {
			return
		}
		left--
		got := symbol == rtcp.TypeTCCPacketReceivedSmallDelta || symbol == rtcp.TypeTCCPacketReceivedLargeDelta
		if got {
			if len(deltas) == 0 {
				got = false
			} else {
				arrived += deltas[0].Delta
				deltas = deltas[1:]
			}
		}
		if sent, size, ok := t.find(seq, log); ok {
			out = append(out, fbPacket{sent: now - int64(uint32(now)-sent), size: size, arrived: arrived, lost: !got})
		}
		seq++
	}
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range min(int(c.RunLength), left) {
				one(c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, s := range c.SymbolList {
				one(s)
			}
		}
	}
	return out
}

// sendSide is the estimate from feedback. Its methods are called from the
// subscriber's RTCP reader (onFeedback) and the adapt ticker (tick,
// estimate); times are µs of the SFU clock.
type sendSide struct {
	mu sync.Mutex

	est int64 // video bit/s the line carries; 0: no limit seen

	// The least one-way delay of this window and the last one.
	minOWD   [2]int64
	minAt    int64
	queue    int64 // µs: the last feedback's queuing delay
	lastQ    int64 // the one before
	highFrom int64 // when the queue rose over overuseDelay (0: it is under)
	highQ    int64 // the highest queue since
	lastCut  int64
	// drained: the queue has gone under overuseDelay since the last cut
	// (a queue still draining after one is no reason for another)
	drained bool
	// raised is when a probe last raised the estimate (0: a cut since)
	raised int64
	fbAt   int64 // when feedback last came

	// The delivered rate over the last rateWindow of arrivals.
	winFrom, winLast, winBytes int64
	delivered                  int64
	// Loss over at least a second.
	lossFrom           int64
	lossPkts, lossLost int
	lossy              bool // the last window lost over lossCut
	clearFrom          int64

	// The probe: padding up to target from probeFrom to probeUntil
	// (send times); what came back of it.
	probing               bool
	probeEnd              int64
	target                int64
	probeFrom, probeUntil int64
	pBytes, pFirst, pLast int64
	pPkts, pLost          int
	aborted               bool // a queue built: the padding stopped
	probeGap              time.Duration
	failed                bool // the last probe built a queue
	nextProbe             int64
}

func us(d time.Duration) int64 { return int64(d / time.Microsecond) }

// onFeedback takes what one feedback says about packets; stop says a
// probe's padding must stop at once.
func (s *sendSide) onFeedback(pkts []fbPacket, now int64) (stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(pkts) == 0 {
		return false
	}
	s.fbAt = now
	var qSum int64
	n := 0
	for _, p := range pkts {
		if s.probing && p.sent >= s.probeFrom && p.sent <= s.probeUntil {
			s.pPkts++
			if p.lost {
				s.pLost++
			} else {
				s.pBytes += int64(p.size)
				if s.pFirst == 0 {
					s.pFirst = p.arrived
				}
				s.pLast = p.arrived
			}
		}
		s.lossPkts++
		if p.lost {
			s.lossLost++
			continue
		}
		owd := p.arrived - p.sent
		if s.minAt == 0 || now-s.minAt > us(owdWindow) {
			s.minOWD[1], s.minOWD[0], s.minAt = s.minOWD[0], owd, now
		}
		s.minOWD[0] = min(s.minOWD[0], owd)
		base := s.minOWD[0]
		if s.minOWD[1] != 0 {
			base = min(base, s.minOWD[1])
		}
		qSum += owd - base
		n++
		if s.winFrom == 0 || p.arrived < s.winFrom {
			s.winFrom, s.winBytes = p.arrived, 0
		}
		s.winBytes += int64(p.size)
		s.winLast = max(s.winLast, p.arrived)
		if span := s.winLast - s.winFrom; span >= us(rateWindow) {
			s.delivered = s.winBytes * 8 * 1_000_000 / span
			s.winFrom, s.winBytes = s.winLast, 0
		}
	}
	if n > 0 {
		s.queue = qSum / int64(n)
	}
	if s.lossFrom == 0 {
		s.lossFrom = now
	}
	lossNow := 0.0
	if now-s.lossFrom >= us(fbLossWindow) && s.lossPkts >= lossPackets {
		lossNow = float64(s.lossLost) / float64(s.lossPkts)
		s.lossy = lossNow > lossCut
		s.lossFrom, s.lossPkts, s.lossLost = now, 0, 0
	}
	// A queue over overuseDelay: when it came, and whether it drains.
	switch {
	case s.queue < us(overuseDelay):
		s.highFrom, s.drained = 0, true
	case s.highFrom == 0:
		s.highFrom, s.highQ = now, s.queue
	default:
		s.highQ = max(s.highQ, s.queue)
	}
	if s.queue > us(clearDelay) || s.lossy {
		s.clearFrom = 0
	} else if s.clearFrom == 0 {
		s.clearFrom = now
	}
	// A queue builds (in two feedbacks running: a busy receiver's clock
	// alone can show one): no more padding.
	if s.probing && !s.aborted && s.queue > us(abortDelay) && (s.lastQ > us(abortDelay) || s.queue > 2*us(abortDelay)) {
		s.aborted, stop = true, true
	}
	s.lastQ = s.queue
	if s.probing && s.pLast != 0 && (s.aborted || pkts[len(pkts)-1].sent >= s.probeUntil) {
		s.endProbe(now)
	}
	// Full: the queue has stood high for overuseFor and is at its peak.
	// One big frame (the robot's clip has 10 KB ones) also fills a
	// capped line's queue for a moment, but it drains from its peak.
	// A queue that a probe built is the probe's, not the publisher's.
	full := s.highFrom != 0 && now-s.highFrom >= us(overuseFor) && s.queue >= s.highQ-us(drainMargin) &&
		!s.probing && (s.probeEnd == 0 || now-s.probeEnd > us(time.Second))
	if (full || lossNow > lossCut) && s.delivered > 0 && (s.drained || now-s.lastCut >= us(cutEvery)) {
		cut := int64(float64(s.delivered) * cutFactor)
		if lossNow > lossCut {
			cut = min(cut, int64(float64(s.delivered)*(1-0.5*lossNow)))
		}
		if s.est == 0 || cut < s.est {
			s.est = cut
		}
		s.lastCut, s.drained, s.raised = now, false, 0
		s.lossFrom, s.lossPkts, s.lossLost = now, 0, 0 // judge what follows the cut
		s.highFrom = 0
		if s.probing {
			s.aborted, stop = true, true
			s.endProbe(now)
		}
	}
	return stop
}

// endProbe judges a probe once the feedback on it is in.
func (s *sendSide) endProbe(now int64) {
	s.probing, s.probeEnd = false, now
	span := s.pLast - s.pFirst
	got := int64(0)
	if span >= us(200*time.Millisecond) {
		got = s.pBytes * 8 * 1_000_000 / span
	}
	loss := 0.0
	if s.pPkts > 0 {
		loss = float64(s.pLost) / float64(s.pPkts)
	}
	ok := !s.aborted && loss < lossCut && float64(got) >= 0.8*float64(s.target)
	switch {
	case ok:
		s.est = max(s.est, min(got, s.target))
		s.raised, s.failed = now, false
		s.probeGap = probeGapFirst
		s.nextProbe = now + us(probeAgain)
		return
	default: // the estimate stays; the next probe waits longer
		s.probeGap = min(max(s.probeGap*2, probeGapFirst), probeGapMax)
		s.failed = true
	}
	s.nextProbe = now + us(s.probeGap)
}

// tick is the adapt ticker's look at the line: sending is the video bit/s
// sent to the subscriber now, ceiling where the estimate stops mattering.
// It returns the padding to send (bit/s, 0: none).
func (s *sendSide) tick(now, sending, ceiling int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.est >= ceiling {
		s.est = 0 // the line carries all the publisher may send
	}
	if s.probing {
		if !s.aborted && now <= s.probeUntil {
			return max(s.target-sending, 0)
		}
		if now > s.probeUntil+us(2*time.Second) { // its feedback never came
			s.aborted = true
			s.endProbe(now)
		}
		return 0
	}
	if s.est != 0 && s.raised != 0 && now-s.raised >= us(letGoAfter) && float64(sending) < probeWhenUsed*float64(s.est) {
		// The publisher was let send more and does not: it sends all it
		// has, and the line carries it. Hold it back no longer.
		s.est, s.raised = 0, 0
	}
	if s.est == 0 || now < s.nextProbe || now-s.fbAt > us(time.Second) ||
		float64(sending) < probeWhenUsed*float64(s.est) ||
		s.clearFrom == 0 || now-s.clearFrom < us(time.Second) || now-s.lastCut < us(2*time.Second) {
		return 0
	}
	s.probing, s.aborted = true, false
	step := probeStep
	if s.failed { // the last probe failed: a smaller step, less queue if it fails again
		step = probeStepAfterFail
	}
	s.target = min(int64(float64(max(s.est, sending))*step), ceiling)
	s.probeFrom, s.probeUntil = now, now+us(probeFor)
	s.pBytes, s.pFirst, s.pLast, s.pPkts, s.pLost = 0, 0, 0, 0, 0
	return max(s.target-sending, 0)
}

// estimate is the video bit/s the line carries; 0 when no limit is known.
func (s *sendSide) estimate() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.est
}

// forget starts afresh (video given again after it was held back).
func (s *sendSide) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.est, s.probing, s.highFrom = 0, false, 0
}
