package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"seatlink/devices"
	"seatlink/devices/agent"
	"seatlink/devices/sim"
	"seatlink/internal/browsertest"
	"seatlink/internal/wire"
)

// linePupil is a Go pupil whose line says, in REMB as a browser's does,
// that it carries line bit/s (0: it says nothing), and which keeps what it
// sees of the video: its packets' sequence numbers and keyframes.
type linePupil struct {
	*pupil
	line atomic.Int64
	// frames counts video frames; the track handler starts before the
	// embedded pupil is set, so it must not reach through it.
	frames atomic.Int64

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
		// The test states the line in REMB, as a client that estimates
		// its own line does (with TWCC the server estimates it itself:
		// the network lab tests that).
		c.REMBOnly = true
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
					lp.frames.Add(1)
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
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.frames.Load() >= 30 })
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
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.frames.Load() >= 30 })

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

// A robot from parts (device-agent's camera: an ffmpeg pipeline) follows
// the pupil's line by starting its encoder anew at the bitrate the line
// allows: a 350 kbit/s line has it encode at 90 % of what the robot is
// asked for, and what it sends falls under the line.
func TestCameraPipelineFollowsThePupilsLine(t *testing.T) {
	ff := ffmpegPath(t)
	a := testApp(t)
	link := newTestLink(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Noise, so that the encoder needs all the bitrate it is given.
	line := ff + " -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=15,noise=alls=40:allf=t " +
		"-c:v libvpx -deadline realtime " +
		"-cpu-used 8 -b:v ${SEATLINK_VIDEO_KBPS}k -maxrate ${SEATLINK_VIDEO_KBPS}k -bufsize ${SEATLINK_VIDEO_KBPS}k -g 15 -f ivf -"
	start := sim.VideoCommand(ctx, line, os.Stderr)
	first, err := start(600_000)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	var asked atomic.Int64
	parts := &sim.Parts{Video: first, VideoFormat: "ivf", VideoBitrate: 600_000,
		VideoAt: func(bps int) (io.ReadCloser, error) { asked.Store(int64(bps)); return start(bps) }}
	robot, err := sim.New(sim.Config{Server: a.baseURL(), TLS: a.selfTrust(), Token: link.RobotToken, Logger: testLogger(t),
		Parts: parts, NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = robot.Run(ctx) }()
	defer func() { cancel(); <-done }()
	p := joinLinePupil(t, a, link)
	waitFor(t, 15*time.Second, "the ffmpeg camera at the pupil", func() bool { return p.frames.Load() >= 15 })
	t.Logf("at 600 kbit/s the camera sends %d bit/s", sendRate(robot, 2*time.Second))

	const lineCap = 350_000
	p.line.Store(lineCap)
	capped := time.Now()
	waitFor(t, 8*time.Second, "the camera pipeline started anew for the line", func() bool { return asked.Load() != 0 })
	restarted := time.Since(capped)
	if got, want := asked.Load(), int64(lineCap-64_000)*9/10; got != want {
		t.Errorf("the encoder started anew at %d bit/s, want %d (90 %% of the %d asked)", got, want, lineCap-64_000)
	}
	waitFor(t, 5*time.Second, "frames of the new pipeline at the pupil", func() bool {
		return len(p.seen(time.Now().Add(-200*time.Millisecond))) > 0
	})
	if rate := sendRate(robot, 3*time.Second); rate >= lineCap {
		t.Errorf("the camera sends %d bit/s under a %d bit/s line", rate, lineCap)
	} else {
		t.Logf("the encoder started anew at %d bit/s %s after the line said %d; it sends %d bit/s", asked.Load(),
			restarted.Round(100*time.Millisecond), lineCap, rate)
	}
}

// TestBrowserWeakLineSaysSo: a robot whose picture is a trickle (160x90
// at 10 frames a second, 20 kbit/s) beside its sound makes Chromium's own
// estimate of the line (REMB, at most about 1.5 times what it receives)
// too low for video. The page here is a browser that takes no
// transport-wide congestion control (the test strips transport-cc from
// the server's offers, so Chromium answers without it and reports REMB,
// as a client without TWCC does; with it, the server estimates the line
// itself, which the network lab tests): the server holds the picture
// back, and the pupil's
// page says "Your connection is weak" in its notice line, where a
// 7-year-old reads it, instead of freezing silently; when the server
// tries the picture again and it flows, the words go. The connection
// details name the path: direct, over UDP.
func TestBrowserWeakLineSaysSo(t *testing.T) {
	ff := ffmpegPath(t)
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	link := newTestLink(t, a)

	ivf := filepath.Join(t.TempDir(), "trickle.ivf")
	out, err := exec.Command(ff, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc=size=160x90:rate=10", "-t", "4", "-c:v", "libvpx", "-b:v", "20k", "-g", "10",
		"-deadline", "realtime", "-cpu-used", "8", "-auto-alt-ref", "0", ivf).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	frames := readIVF(t, ivf)
	clip, err := sim.LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	cam := vp8Track(t)
	mic, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "microphone", "robot")
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	robot, err := agent.Dial(agent.WithTLS(dctx, a.selfTrust()), agent.Config{Server: a.baseURL(), Token: link.RobotToken,
		Role: wire.RoleRobot, Publish: wire.Publish{Audio: true, Video: true}, Tracks: []webrtc.TrackLocal{cam, mic},
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	play(t, cam, 100*time.Millisecond, func(i int) []byte { return frames[i%len(frames)] })
	play(t, mic, clip.AudioDuration, func(i int) []byte { return clip.Audio[i%len(clip.Audio)] })

	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: noTransportCC}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(a.baseURL()+"/join#"+link.PupilToken)); err != nil {
		t.Fatal(err)
	}
	type page struct {
		State  string `json:"state"`
		Held   bool   `json:"held"`
		Weak   bool   `json:"weak"`
		Notice string `json:"notice"`
		Path   string `json:"path"`
		Shown  string `json:"shown"`
	}
	look := func() page {
		t.Helper()
		p, err := chromedp.Run(ctx, chromedp.Evaluate[page](`({state: window.seatlink.state(), held: window.seatlink.held(),
			weak: window.seatlink.weak, notice: document.getElementById('notice').textContent,
			path: window.seatlink.path, shown: document.getElementById('path').textContent})`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	opened := time.Now()
	waitFor(t, 15*time.Second, "the page in class", func() bool { return look().State == "in_class" })
	waitFor(t, 20*time.Second, "the page to say the connection is weak, told by the server", func() bool {
		p := look()
		return p.Held && p.Weak && strings.Contains(p.Notice, "Your connection is weak")
	})
	p := look()
	t.Logf("weak line: the page says %q %s after opening", p.Notice, time.Since(opened).Round(100*time.Millisecond))
	if p.State != "in_class" {
		t.Errorf("page state %q while the picture is held back, want in_class (the class is still heard)", p.State)
	}
	if m := metric(t, a, "seatlink_sfu_video_pauses_total"); m == "" || m == "0" {
		t.Errorf("video pauses counted %q: the words came without the server holding the picture back", m)
	}
	said := time.Now()
	waitFor(t, 15*time.Second, "the words to go when the picture flows again", func() bool {
		p := look()
		return !p.Held && !p.Weak && !strings.Contains(p.Notice, "weak")
	})
	t.Logf("the picture flows again: the words went %s later", time.Since(said).Round(100*time.Millisecond))
	if p := look(); p.Path != "direct (UDP)" || p.Shown != "direct (UDP)" {
		t.Errorf("connection details say %q (shown %q), want direct (UDP)", p.Path, p.Shown)
	}
}

// noTransportCC makes the page's browser one that takes no transport-wide
// congestion control: the server's offers lose their transport-cc lines.
const noTransportCC = `(() => {
  const set = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (d) {
    if (d && d.sdp) d = { type: d.type, sdp: d.sdp.split('\r\n').filter((l) => !/transport-cc|transport-wide-cc/.test(l)).join('\r\n') };
    return set.call(this, d);
  };
})();`

// readIVF returns the frames of an IVF file.
func readIVF(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fr)
	}
}

// play writes sample(i) to tr every d until the test ends.
func play(t *testing.T, tr *webrtc.TrackLocalStaticSample, d time.Duration, sample func(i int) []byte) {
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(d)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = tr.WriteSample(media.Sample{Data: sample(i), Duration: d})
		}
	}()
}

// TestBrowserStationFollowsThePupilsLine: a classroom station (Chromium
// publishing its camera) negotiates goog-remb on its video, and when the
// pupil's line says 350 kbit/s, the browser's own estimate of what it may
// send falls under it (the REMB the server relays is its ceiling), and so
// does what its camera sends.
func TestBrowserStationFollowsThePupilsLine(t *testing.T) {
	stationCtx, _ := browsertest.New(t)
	a := testApp(t)
	ctx := context.Background()
	tp := newTestPupil(t, a)
	station, code, err := a.devices.Create(ctx, tp.sys, devices.KindStation, "Station")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := a.devices.Lend(ctx, tp.sys, station.ID, tp.school.ID, now, now.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := a.devices.Pair(ctx, tp.sys, station.ID, tp.pupil.ID); err != nil {
		t.Fatal(err)
	}
	jl, err := a.people.IssueJoinLink(ctx, tp.sys, tp.pupil.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(stationCtx, chromedp.Navigate(a.baseURL()+"/station#enroll="+code)); err != nil {
		t.Fatal(err)
	}
	type sending struct {
		REMB       bool    `json:"remb"`
		Available  float64 `json:"available"`
		VideoBytes float64 `json:"videoBytes"`
	}
	look := func() sending {
		t.Helper()
		s, err := chromedp.Run(stationCtx, chromedp.Evaluate[sending](`window.seatlinkStation.sending()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rate := func(d time.Duration) float64 {
		before := look().VideoBytes
		time.Sleep(d)
		return (look().VideoBytes - before) * 8 / d.Seconds()
	}
	waitFor(t, 20*time.Second, "the station to join", func() bool { return a.hub.Status(station.ID).Online })
	p := joinLinePupil(t, a, testLink{PupilToken: jl.Token})
	waitFor(t, 20*time.Second, "the station's camera at the pupil", func() bool { return p.frames.Load() >= 30 })
	s := look()
	if !s.REMB {
		t.Fatal("the station's answer does not keep goog-remb on video: it would not hear the pupil's line")
	}
	t.Logf("unconstrained: the station may send %.0f bit/s and sends %.0f", s.Available, rate(2*time.Second))

	const lineCap = 350_000
	p.line.Store(lineCap)
	capped := time.Now()
	waitFor(t, 10*time.Second, "the station's estimate under the pupil's line", func() bool {
		s := look()
		return s.Available > 0 && s.Available <= lineCap
	})
	t.Logf("the station may send %.0f bit/s %s after the line said %d", look().Available,
		time.Since(capped).Round(100*time.Millisecond), lineCap)
	time.Sleep(time.Second) // the encoder follows the estimate
	if r := rate(3 * time.Second); r >= lineCap {
		t.Errorf("the station sends %.0f bit/s under a %d bit/s line", r, lineCap)
	} else {
		t.Logf("the station sends %.0f bit/s", r)
	}
}
