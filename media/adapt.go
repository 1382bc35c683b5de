package media

import (
	"time"

	"github.com/pion/rtcp"
)

// The robot follows the pupil's line. A pupil's browser estimates what its
// line carries and says so in REMB (the subscriber API negotiates no TWCC
// for video, see newAPI); each video track takes the lowest fresh estimate
// among its subscribers, keeps room for audio, bounds it by the configured
// maximum and relays it to the publisher as REMB, whose encoder (the
// simulated robot's renditions, a browser station's own) lowers or raises
// its bitrate and frame rate. A relayed estimate costs nothing per packet:
// the forwarding path only checks one flag.
//
// Audio comes first: below pauseBelow the line cannot carry the class's
// video and sound together, so video to that subscriber is held back
// (audio goes on) until its estimate is above resumeAbove again, or
// retryPaused has passed (an estimate made on audio alone grows slowly),
// and then restarts with a keyframe. The pupil's page tells the pupil its
// connection is weak.
const (
	adaptEvery   = 500 * time.Millisecond
	rembFresh    = int64(3 * time.Second)
	audioReserve = 64_000
	minVideo     = 100_000
	pauseBelow   = 100_000
	resumeAbove  = 180_000
	retryPaused  = int64(5 * time.Second)
	// DefaultMaxVideoBitrate bounds what a publisher is asked to send.
	DefaultMaxVideoBitrate = 2_500_000
)

// noteREMB records a subscriber's estimate of its line.
func (d *downTrack) noteREMB(bps float32) {
	d.remb.Store(int64(bps))
	d.rembAt.Store(d.up.clock.Load())
}

// gate holds video back from a subscriber whose line is too weak, and
// lets it through again with a keyframe.
func (d *downTrack) gate(est, now int64) {
	switch {
	case !d.paused.Load() && est < pauseBelow:
		d.pausedAt.Store(now)
		d.paused.Store(true)
		d.up.metrics.VideoPauses.Inc()
		if d.up.owner != nil {
			d.up.owner.log.Info("video held back from a weak line; audio goes on", "estimate_bps", est)
		}
	case d.paused.Load() && (est > resumeAbove || now-d.pausedAt.Load() > retryPaused):
		d.paused.Store(false)
		d.up.requestKeyframe()
	}
}

// adapt relays the subscribers' estimates to the publisher until done.
func (u *upTrack) adapt(done <-chan struct{}, maxVideo int64) {
	t := time.NewTicker(adaptEvery)
	defer t.Stop()
	var last int64
	var lastSent time.Time
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		target := u.target(maxVideo)
		if target == 0 {
			continue // no subscriber has said anything: leave the encoder alone
		}
		changed := last == 0 || target < last*95/100 || target > last*105/100
		if !changed && (target >= maxVideo || time.Since(lastSent) < time.Second) {
			continue
		}
		err := u.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
			Bitrate: float32(target), SSRCs: []uint32{uint32(u.remote.SSRC())}}})
		if err == nil {
			u.metrics.REMBsSent.Inc()
			last, lastSent = target, time.Now()
		}
	}
}

// target is what the publisher may send: the lowest fresh estimate of a
// subscriber, less room for audio, within [minVideo, maxVideo]; 0 if no
// subscriber has a fresh estimate.
func (u *upTrack) target(maxVideo int64) int64 {
	subs := u.subs.Load()
	if subs == nil {
		return 0
	}
	now := u.clock.Load()
	var target int64
	for _, d := range *subs {
		est := d.remb.Load()
		if est <= 0 || now-d.rembAt.Load() > rembFresh {
			continue
		}
		d.gate(est, now)
		if d.paused.Load() {
			continue // an estimate made on audio alone says nothing of video
		}
		if v := est - audioReserve; target == 0 || v < target {
			target = v
		}
	}
	if target == 0 {
		return 0
	}
	return min(max(target, minVideo), maxVideo)
}
