package main

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"seatlink/devices/agent"
	"seatlink/devices/sim"
	"seatlink/internal/wire"
)

// linePupil is a Go pupil whose line says, in REMB as a browser's does,
// that it carries line bit/s (0: it says nothing), and which keeps what it
// sees of the video: its packets' sequence numbers and keyframes.
type linePupil struct {
	*pupil
	line atomic.Int64

	mu      sync.Mutex
	video   []videoSeen
	notices []string
}

type videoSeen struct {
	at       time.Time
	seq      uint16
	keyframe bool
}

func joinLinePupil(t *testing.T, a *app, link testLink) *linePupil {
	t.Helper()
	lp := &linePupil{}
	var ssrc atomic.Uint32
	lp.pupil = joinPupilWith(t, a, link, func(c *agent.Config) {
		audio := c.OnTrack
		c.OnTrack = func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
			if tr.Kind() != webrtc.RTPCodecTypeVideo {
				audio(tr, r)
				return
			}
			ssrc.Store(uint32(tr.SSRC()))
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				var vp8 codecs.VP8Packet
				_, err = vp8.Unmarshal(pkt.Payload)
				key := err == nil && vp8.S == 1 && vp8.PID == 0 && len(vp8.Payload) > 0 && vp8.Payload[0]&1 == 0
				lp.mu.Lock()
				lp.video = append(lp.video, videoSeen{time.Now(), pkt.SequenceNumber, key})
				lp.mu.Unlock()
				if pkt.Marker {
					lp.videoFrames.Add(1)
				}
			}
		}
		acks := c.OnControl
		c.OnControl = func(m wire.Control) {
			if m.Type != wire.ControlNotice {
				acks(m)
				return
			}
			lp.mu.Lock()
			lp.notices = append(lp.notices, m.Notice)
			lp.mu.Unlock()
		}
	})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if bps, s := lp.line.Load(), ssrc.Load(); bps > 0 && s != 0 {
				_ = lp.PeerConnection().WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
					Bitrate: float32(bps), SSRCs: []uint32{s}}})
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return lp
}

func (lp *linePupil) noticed(what string) bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	for _, n := range lp.notices {
		if n == what {
			return true
		}
	}
	return false
}

// seen is the video seen since from.
func (lp *linePupil) seen(from time.Time) []videoSeen {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	var out []videoSeen
	for _, v := range lp.video {
		if !v.at.Before(from) {
			out = append(out, v)
		}
	}
	return out
}

// sendRate is what the robot's camera sends over d, bit/s.
func sendRate(robot *sim.Robot, d time.Duration) int64 {
	before := robot.Stats().VideoBytes
	time.Sleep(d)
	return (robot.Stats().VideoBytes - before) * 8 * int64(time.Second) / int64(d)
}

func metric(t *testing.T, a *app, name string) string {
	t.Helper()
	for _, l := range strings.Split(get(t, a.metricsURL()), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return strings.TrimPrefix(l, name+" ")
		}
	}
	return ""
}

// The pupil's line says it carries 350 kbit/s (the robot's full rendition
// is about 510 kbit/s, so a cap of 600 would not move it): within 5 s the
// robot is asked for no more than that, and what its camera sends falls
// under the cap; the line clears, and it is back at its full rendition
// within 15 s.
func TestRobotFollowsThePupilsLine(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	robot := startRobot(t, a, link, nil)
	p := joinLinePupil(t, a, link)
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() >= 30 })
	full := robot.Stats().VideoRendition
	t.Logf("unconstrained: the robot sends %d bit/s (rendition of %d)", sendRate(robot, 2*time.Second), full)

	const lineCap = 350_000
	p.line.Store(lineCap)
	capped := time.Now()
	waitFor(t, 5*time.Second, "a REMB at or under the pupil's line at the robot", func() bool {
		st := robot.Stats()
		return st.REMBs > 0 && st.VideoTarget > 0 && st.VideoTarget <= lineCap
	})
	t.Logf("the robot was asked for %d bit/s %s after the line said %d", robot.Stats().VideoTarget,
		time.Since(capped).Round(10*time.Millisecond), lineCap)
	waitFor(t, 5*time.Second, "the robot on a rendition under the cap", func() bool {
		return robot.Stats().VideoRendition < lineCap
	})
	if rate := sendRate(robot, 3*time.Second); rate >= lineCap {
		t.Errorf("the robot sends %d bit/s under a %d bit/s line", rate, lineCap)
	} else {
		t.Logf("under the cap: the robot sends %d bit/s (rendition of %d), %s after the line said %d",
			rate, robot.Stats().VideoRendition, time.Since(capped).Round(10*time.Millisecond), lineCap)
	}
	if m := metric(t, a, "seatlink_sfu_rembs_sent_total"); m == "" || m == "0" {
		t.Errorf("REMBs sent to the robot counted %q", m)
	}

	p.line.Store(5_000_000)
	lifted := time.Now()
	waitFor(t, 15*time.Second, "the robot back at its full rendition", func() bool {
		return robot.Stats().VideoRendition == full
	})
	t.Logf("the line cleared: full rendition again after %s, sending %d bit/s",
		time.Since(lifted).Round(10*time.Millisecond), sendRate(robot, 2*time.Second))
}

// A line too weak for video and audio together: video stops reaching the
// pupil while its audio goes on, the pupil is told, and the robot is
// asked for its floor; the line recovers and video comes back starting
// at a keyframe, with no gap in its sequence numbers.
func TestWeakLineKeepsAudio(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	robot := startRobot(t, a, link, nil)
	p := joinLinePupil(t, a, link)
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() >= 30 })

	p.line.Store(120_000) // leaves video some 56 kbit/s
	weak := time.Now()
	waitFor(t, 5*time.Second, "the notice that video is held back", func() bool {
		return p.noticed(wire.NoticeVideoPaused)
	})
	paused := time.Now()
	t.Logf("video held back %s after the line said 120 kbit/s", paused.Sub(weak).Round(10*time.Millisecond))
	audio := p.audioPackets.Load()
	time.Sleep(2 * time.Second)
	if late := p.seen(paused.Add(300 * time.Millisecond)); len(late) > 0 {
		t.Fatalf("%d video packets reached the pupil after the pause", len(late))
	}
	if got := p.audioPackets.Load() - audio; got < 75 {
		t.Fatalf("%d audio packets in 2 s while video was held back, want about 100", got)
	}
	if st := robot.Stats(); st.VideoTarget > 100_000 {
		t.Errorf("the robot is asked for %d bit/s while no video reaches the pupil, want the floor", st.VideoTarget)
	}
	if m := metric(t, a, "seatlink_sfu_video_pauses_total"); m != "1" {
		t.Errorf("video pauses counted %q, want 1", m)
	}

	before := p.seen(weak)
	if len(before) == 0 {
		t.Fatal("no video seen before the pause")
	}
	last := before[len(before)-1] // the end of the frame under way when it paused
	p.line.Store(2_000_000)
	recovered := time.Now()
	waitFor(t, 5*time.Second, "video again", func() bool {
		return p.noticed(wire.NoticeVideoResumed) && len(p.seen(recovered)) > 0
	})
	first := p.seen(recovered)[0]
	t.Logf("video again %s after the line recovered", first.at.Sub(recovered).Round(10*time.Millisecond))
	if !first.keyframe {
		t.Error("video came back with a packet that does not start a keyframe")
	}
	if first.seq != last.seq+1 {
		t.Errorf("video came back at sequence number %d after %d: a gap the pupil would NACK", first.seq, last.seq)
	}
	waitFor(t, 5*time.Second, "frames after the pause", func() bool {
		return len(p.seen(recovered)) > 100
	})
}
