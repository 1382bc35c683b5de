package media

import (
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"seatlink/internal/wire"
)

// The robot follows the pupil's line. What each subscriber's line carries
// is estimated from its own feedback: send-side from its transport-wide
// congestion control feedback, with probes to climb (sendside.go: a
// pupil's browser), or from its REMB and receiver reports (estimator.go:
// a client without TWCC). Every adaptEvery,
// each video track takes the lowest estimate among its subscribers, keeps
// room for audio, bounds it by the configured maximum and relays it to
// the publisher as REMB, whose encoder (the simulated robot's renditions,
// a browser station's own) lowers or raises its bitrate and frame rate.
// The forwarding path pays one atomic load and one atomic add a packet
// for each subscriber, and for transport-wide feedback an addition for
// each and one record and atomic store a packet (sendside.go).
//
// Audio comes first: when a subscriber's line leaves video less than
// pauseBelow for pauseAfter, video to that subscriber stops at the end of
// a frame (its audio goes on, and the publisher is asked for no more than
// the floor), and the pupil's page is told (a notice on the control
// channel) so that it can say so. Video comes back when the estimate
// leaves video resumeAbove, or when the retry time has passed: a
// browser's estimate made on audio alone can only grow to about 1.5 times
// what it receives, so it cannot show by itself that the line has
// recovered. It comes back at the floor, starting at a keyframe (asked of
// the publisher) with its sequence numbers moved on so that the subscriber
// sees no gap to NACK; a line that fails again within flapWindow waits
// twice as long each time, up to retryMax.
const (
	adaptEvery = 500 * time.Millisecond
	// audioReserve is the room kept for the publisher's audio: Opus at
	// up to 48 kbit/s and its packets' headers, 50 a second.
	audioReserve = 64_000
	// minVideo is the least a publisher is asked for: the simulated
	// robot's lowest rendition (320x180, 15 fps) needs about 120 kbit/s.
	minVideo    = 100_000
	pauseBelow  = 100_000
	resumeAbove = 180_000
	pauseAfter  = time.Second
	// resumeGrace is how long video is left to flow after it resumed
	// before a low estimate can stop it again: the estimators start
	// afresh.
	resumeGrace = 4 * time.Second
	retryFirst  = 5 * time.Second
	retryMax    = 60 * time.Second
	flapWindow  = 30 * time.Second
	// DefaultMaxVideoBitrate bounds what a publisher is asked to send.
	DefaultMaxVideoBitrate = 2_500_000
)

// The states of video to one subscriber (downTrack.video).
const (
	videoFlowing  int32 = iota
	videoPausing        // stops at the end of the current frame
	videoPaused         // held back: the line is too weak
	videoAwaitKey       // resumed: starts again at a keyframe
)

// adaptState is the adapt ticker's own record of one video subscriber.
type adaptState struct {
	bytes      int64 // downTrack.sent at the last tick
	at         time.Time
	rate       int64 // bit/s of video sent to it, smoothed
	lowSince   time.Time
	retryAt    time.Time
	retryDelay time.Duration
	resumedAt  time.Time
	notices    int
}

// rembRelay is what was last asked of the publisher.
type rembRelay struct {
	last int64
	at   time.Time
}

// adapt relays the subscribers' estimates to the publisher until done.
func (u *upTrack) adapt(done <-chan struct{}, maxVideo int64) {
	t := time.NewTicker(adaptEvery)
	defer t.Stop()
	var r rembRelay
	send := func(bps int64) error {
		return u.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
			Bitrate: float32(bps), SSRCs: []uint32{uint32(u.remote.SSRC())}}})
	}
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			u.relay(&r, u.step(now, maxVideo), now, maxVideo, send)
		}
	}
}

// step measures each video subscriber's line, holds video back from or
// gives it again to each, and returns what the publisher may send: the
// lowest estimate of a subscriber receiving video, less room for audio,
// within [minVideo, maxVideo]; minVideo if every subscriber with an
// estimate is held back; 0 if no subscriber says anything.
func (u *upTrack) step(now time.Time, maxVideo int64) int64 {
	subs := u.subs.Load()
	if subs == nil {
		return 0
	}
	var target int64
	found, held := false, false
	for _, d := range *subs {
		if d.line == nil {
			continue
		}
		est := d.measure(now)
		d.gate(est, now)
		if st := d.video.Load(); st == videoPausing || st == videoPaused {
			held = true
			continue
		}
		if est == 0 {
			continue
		}
		if v := est - audioReserve; !found || v < target {
			target, found = v, true
		}
	}
	switch {
	case found:
		return min(max(target, minVideo), maxVideo)
	case held:
		return minVideo
	}
	return 0
}

// relay sends target to the publisher as REMB when it moved by more than
// 5 %, and again every second while it holds the publisher below its
// maximum (an encoder may let an old limit lapse). When nobody says
// anything any more (target 0) after the publisher was held down, it is
// let go to the maximum once.
func (u *upTrack) relay(r *rembRelay, target int64, now time.Time, maxVideo int64, send func(int64) error) {
	if target == 0 {
		if r.last == 0 || r.last >= maxVideo {
			return
		}
		target = maxVideo
	}
	changed := r.last == 0 || target < r.last*95/100 || target > r.last*105/100
	if !changed && (target >= maxVideo || now.Sub(r.at) < time.Second) {
		return
	}
	if send(target) == nil {
		u.metrics.REMBsSent.Inc()
		r.last, r.at = target, now
	}
}

// measure updates the rate of video sent to the subscriber and returns its
// line's estimate (0: nothing known).
func (d *downTrack) measure(now time.Time) int64 {
	a := &d.adapt
	bytes := d.sent.Load()
	if dt := now.Sub(a.at); !a.at.IsZero() && dt > 0 {
		r := (bytes - a.bytes) * 8 * int64(time.Second) / int64(dt)
		a.rate = (a.rate + r) / 2 // a keyframe a second makes half-second rates jumpy
	}
	a.bytes, a.at = bytes, now
	d.line.onSent(a.rate + audioReserve)
	b := d.bound.Load()
	if b == nil || b.twccID == 0 {
		return d.line.estimate(now)
	}
	// The estimate from the subscriber's transport-wide feedback
	// (sendside.go) is of video alone; it also decides the probes. It
	// sees loss and queues packet by packet, so the receiver reports'
	// rules are not taken, nor the browser's REMB: made from what carries
	// no transport number (retransmissions), it says what a trickle
	// carried (134 kbit/s on a 600 kbit/s line in the network lab).
	d.tw.probe.Store(d.tw.est.tick(int64(now.Sub(epoch)/time.Microsecond), a.rate, d.up.maxVideo))
	if v := d.tw.est.estimate(); v > 0 {
		return v + audioReserve
	}
	return 0
}

// onFeedback takes the subscriber's transport-wide feedback on its video;
// buf is the caller's to reuse.
func (d *downTrack) onFeedback(fb *rtcp.TransportLayerCC, buf []fbPacket) []fbPacket {
	if d.tw == nil {
		return buf
	}
	now := int64(time.Since(epoch) / time.Microsecond)
	if d.up.sent == nil {
		return buf
	}
	buf = d.tw.feedback(fb, d.up.sent, now, buf[:0])
	if d.tw.est.onFeedback(buf, now) {
		d.tw.probe.Store(0) // a queue builds: stop padding now, not at the next tick
	}
	return buf
}

// onReport takes a receiver report's blocks about this video track.
func (d *downTrack) onReport(reports []rtcp.ReceptionReport) {
	b := d.bound.Load()
	if d.line == nil || b == nil {
		return
	}
	now := time.Now()
	for _, rr := range reports {
		if rr.SSRC == b.ssrc {
			d.line.onReport(rr, reportRTT(rr, now), now, d.up.maxVideo+audioReserve)
		}
	}
}

// gate holds video back from a subscriber whose line is too weak for it,
// and gives it again when the line recovers or it is time to try.
func (d *downTrack) gate(est int64, now time.Time) {
	a := &d.adapt
	video := est - audioReserve
	switch d.video.Load() {
	case videoFlowing, videoAwaitKey:
		if est == 0 || video >= pauseBelow || now.Sub(a.resumedAt) < resumeGrace {
			a.lowSince = time.Time{}
			return
		}
		if a.lowSince.IsZero() {
			a.lowSince = now
		}
		if now.Sub(a.lowSince) >= pauseAfter {
			d.pause(est, now)
		}
	default:
		if est != 0 && video >= resumeAbove {
			d.resumeAt(now, true)
		} else if !now.Before(a.retryAt) {
			d.resumeAt(now, false)
		}
	}
}

func (d *downTrack) pause(est int64, now time.Time) {
	a := &d.adapt
	if !d.video.CompareAndSwap(videoFlowing, videoPausing) {
		d.video.Store(videoPaused) // it never started again: nothing to finish
	}
	a.lowSince = time.Time{}
	if !a.resumedAt.IsZero() && now.Sub(a.resumedAt) < flapWindow {
		a.retryDelay = min(a.retryDelay*2, retryMax)
	} else {
		a.retryDelay = retryFirst
	}
	a.retryAt = now.Add(a.retryDelay)
	d.up.metrics.VideoPauses.Inc()
	d.notice(wire.NoticeVideoPaused)
	if d.sub != nil {
		d.sub.log.Info("video held back from a weak line; audio goes on", "estimate_bps", est,
			"retry_in", a.retryDelay)
	}
}

// resumeAt lets video flow again: at once if it was still finishing a
// frame, else from the next keyframe, asked for now. byEstimate says the
// line's estimate allows it; otherwise this is a try, and what is known of
// the line (an estimate made on audio alone) is forgotten.
func (d *downTrack) resumeAt(now time.Time, byEstimate bool) {
	a := &d.adapt
	if !d.video.CompareAndSwap(videoPausing, videoFlowing) {
		d.video.Store(videoAwaitKey)
		d.up.requestKeyframe()
	}
	a.resumedAt = now
	d.line.forget(byEstimate)
	d.tw.est.forget()
	d.notice(wire.NoticeVideoResumed)
	if d.sub != nil {
		d.sub.log.Info("video given again", "by_estimate", byEstimate)
	}
}

// resume is the forwarding goroutine starting video again at the
// keyframe whose first packet has sequence number seq: what was held back
// leaves no gap, so the subscriber NACKs none of it.
func (d *downTrack) resume(seq uint16) {
	if d.sentAny {
		next := d.lastOut + 1
		d.by = seq - next
		d.shifts.add(seqShift{from: next, by: d.by, floor: true})
	}
	d.video.Store(videoFlowing)
}

// notice tells the subscriber's page about its video.
func (d *downTrack) notice(what string) {
	if d.sub == nil {
		return
	}
	d.adapt.notices++
	d.sub.sendControl(wire.Notice(fmt.Sprintf("video-%d", d.adapt.notices), what))
}

// keyframeStart reports whether an RTP payload starts a keyframe.
func keyframeStart(mime string, p []byte) bool {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8KeyframeStart(p)
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264KeyframeStart(p)
	}
	return true // a codec we cannot read: the subscriber asks for a keyframe itself
}

// vp8KeyframeStart reads the VP8 payload descriptor (RFC 7741): the start
// of partition 0 of a frame whose header says keyframe.
func vp8KeyframeStart(p []byte) bool {
	if len(p) == 0 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false // not the start of partition 0
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension bits follow
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture id, one byte or two
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID and KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0 // the frame tag's P bit: 0 for a keyframe
}

// h264KeyframeStart reads the H.264 payload (RFC 6184): an SPS (sent
// before each IDR picture) or an IDR slice, alone, aggregated (STAP-A) or
// the first fragment of one (FU-A).
func h264KeyframeStart(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch p[0] & 0x1f {
	case 5, 7:
		return true
	case 24:
		for i := 1; i+2 < len(p); i += 2 + (int(p[i])<<8 | int(p[i+1])) {
			if t := p[i+2] & 0x1f; t == 5 || t == 7 {
				return true
			}
		}
	case 28:
		return len(p) > 1 && p[1]&0x80 != 0 && p[1]&0x1f == 5
	}
	return false
}
