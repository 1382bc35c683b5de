package media

import (
	"math"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// What a subscriber's line carries when it reports no transport-wide
// congestion control feedback (a pupil's browser does: sendside.go
// estimates its line, and this is not used for it).
//
// Such a client may estimate its own line and report it in REMB
// (libwebrtc's receive-side, delay-based estimator, about once a second
// and at once when it falls); that reacts to a queue building on the line,
// not to loss, and a client may send no REMB at all. So the SFU keeps a
// small estimator of its own beside it, fed by the receiver reports every
// client sends: GCC's loss-based rule (over 10 % lost: down by half the
// loss; under 2 %: up 8 % a second), and a queuing-delay rule on the round
// trip the reports give (the report's LSR and DLSR against our sender
// reports), cutting to 85 % of what was sent when the round trip stands
// more than queuingHigh over its recent minimum and is still rising (a
// queue building; a path that is merely longer, after an ICE restart,
// costs one cut, not one a second). The estimate is the lower of the two.
//
// pion/interceptor's pkg/gcc (a full send-side GCC from TWCC feedback)
// was not taken for either: it must see every packet sent, each through
// its pacer (a lock and a map lookup even in its NoOpPacer), with an
// attributes map allocated when it has none (ours never do), recorded
// with time.Now under the feedback adapter's lock; for 100 links that is
// a lock, an allocation and a clock read on every one of some 30,000
// packets a second on the forwarding path that track.go keeps free of
// them. This file runs on RTCP and the adapt ticker; sendside.go adds one
// record a packet.
const (
	// rembFreshFor is how long a browser's REMB stands without a new one.
	rembFreshFor = 3 * time.Second
	// lossWindow is the least time a loss figure is taken over: a report
	// rides on every NACK and REMB, and a figure over a few packets is
	// noise.
	lossWindow = time.Second
	lossHigh   = 0.10
	lossLow    = 0.02
	// queuingHigh and queuingLow bound the round trip above its recent
	// minimum: above high a queue is building, below low the line is
	// clear. A browser's REMB reacts long before this; it is the backstop
	// for clients that send none.
	queuingHigh = 150 * time.Millisecond
	queuingLow  = 40 * time.Millisecond
	// rttWindow is how long a minimum round trip is remembered: a path
	// that changes (an ICE restart onto a relay) gets a new minimum.
	rttWindow = 10 * time.Second
	// growPerSecond is how fast the feedback estimate rises while the
	// line is clean; it never rises past what is being sent by more than
	// half (what the line has shown it carries) plus probeBps.
	growPerSecond = 1.08
	probeBps      = 10_000
)

// lineEstimate is one subscriber's line, as its feedback shows it. Its
// methods are called from the subscriber's RTCP reader and the adapt
// ticker.
type lineEstimate struct {
	mu sync.Mutex

	remb   int64 // the browser's estimate, bit/s
	rembAt time.Time

	// fb is the estimate from loss and round trip (0: the feedback shows
	// no limit), fbAt when it last moved.
	fb   int64
	fbAt time.Time
	// sent is what was sent to the subscriber lately (bit/s), the base
	// from which a congested line is cut.
	sent int64

	// The loss window's start: the extended highest sequence number and
	// the cumulative loss of the report that began it.
	winAt         time.Time
	winSeq        uint32
	winLost       uint32
	rtt, queueing time.Duration
	stepRTT       time.Duration    // the round trip at the last step
	minRTT        [2]time.Duration // this window's minimum and the last one's
	minAt         time.Time
}

// onREMB records the browser's estimate.
func (e *lineEstimate) onREMB(bps float32, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.remb, e.rembAt = int64(bps), now
}

// onSent records what is being sent to the subscriber (bit/s).
func (e *lineEstimate) onSent(bps int64) {
	e.mu.Lock()
	e.sent = bps
	e.mu.Unlock()
}

// onReport takes one receiver report block about the forwarded track; rtt
// is the round trip it shows (0: none, no sender report reached it yet).
// ceiling is where the estimate stops mattering (the publisher's maximum
// and the audio): the feedback estimate lets go above it.
func (e *lineEstimate) onReport(rr rtcp.ReceptionReport, rtt time.Duration, now time.Time, ceiling int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rtt > 0 {
		e.rtt = rtt
		if e.minAt.IsZero() || now.Sub(e.minAt) > rttWindow {
			e.minRTT[1], e.minRTT[0], e.minAt = e.minRTT[0], rtt, now
		}
		e.minRTT[0] = min(e.minRTT[0], rtt)
		base := e.minRTT[0]
		if e.minRTT[1] > 0 {
			base = min(base, e.minRTT[1])
		}
		e.queueing = rtt - base
	}
	if e.winAt.IsZero() {
		e.winAt, e.winSeq, e.winLost, e.fbAt = now, rr.LastSequenceNumber, rr.TotalLost, now
		return
	}
	if now.Sub(e.winAt) < lossWindow {
		return
	}
	expected := int64(rr.LastSequenceNumber) - int64(e.winSeq)
	lost := int64(rr.TotalLost) - int64(e.winLost)
	e.winAt, e.winSeq, e.winLost = now, rr.LastSequenceNumber, rr.TotalLost
	loss := 0.0
	if expected > 0 {
		loss = min(max(float64(lost)/float64(expected), 0), 1)
	}
	e.step(loss, now, ceiling)
}

// step moves the feedback estimate on one window's loss and the latest
// queuing delay.
func (e *lineEstimate) step(loss float64, now time.Time, ceiling int64) {
	dt := min(now.Sub(e.fbAt), 5*time.Second)
	e.fbAt = now
	rising := e.rtt > e.stepRTT+10*time.Millisecond
	e.stepRTT = e.rtt
	from := e.fb
	if from == 0 || (e.sent > 0 && e.sent < from) {
		from = e.sent // a congested line is cut from what it was sent
	}
	switch {
	case from <= 0:
		// Nothing sent yet: nothing to judge.
	case loss > lossHigh:
		e.fb = int64(float64(from) * (1 - 0.5*loss))
	case e.queueing > queuingHigh && rising:
		e.fb = int64(float64(from) * 0.85)
	case e.fb != 0 && loss < lossLow && e.queueing < queuingLow:
		grown := int64(float64(e.fb) * math.Pow(growPerSecond, dt.Seconds()))
		if e.sent > 0 {
			grown = min(grown, e.sent*3/2+probeBps)
		}
		e.fb = max(e.fb, grown)
		if e.fb >= ceiling {
			e.fb = 0 // the feedback shows no limit worth keeping
		}
	}
}

// estimate is the lower of the browser's fresh REMB and the feedback
// estimate, bit/s; 0 when neither says anything.
func (e *lineEstimate) estimate(now time.Time) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	est := e.fb
	if e.remb > 0 && now.Sub(e.rembAt) <= rembFreshFor && (est == 0 || e.remb < est) {
		est = e.remb
	}
	return est
}

// forget starts the feedback estimate afresh when video comes back after
// it was held back, and the browser's REMB too unless keepREMB: made while
// the line carried audio alone, it says nothing of what it carries.
func (e *lineEstimate) forget(keepREMB bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fb = 0
	if !keepREMB {
		e.remb, e.rembAt = 0, time.Time{}
	}
}

// reportRTT is the round trip a receiver report shows: now less the time
// our sender report left (LSR, the middle 32 bits of its NTP time) and the
// time the receiver held it (DLSR), both in 1/65536 s; 0 when the report
// refers to no sender report.
func reportRTT(rr rtcp.ReceptionReport, now time.Time) time.Duration {
	if rr.LastSenderReport == 0 {
		return 0
	}
	d := ntpMiddle(now) - rr.LastSenderReport - rr.Delay
	if d > 1<<20 { // over 16 s, or negative across a clock step: not a round trip
		return 0
	}
	return time.Duration(int64(d) * int64(time.Second) >> 16)
}

// ntpMiddle is the middle 32 bits of t's NTP timestamp (16.16 seconds).
func ntpMiddle(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, seconds
	ns := t.UnixNano()
	secs := uint64(ns/int64(time.Second)) + ntpEpochOffset
	frac := uint64(ns%int64(time.Second)) << 32 / uint64(time.Second)
	return uint32(secs<<16 | frac>>16)
}
