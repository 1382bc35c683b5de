package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"

	"seatlink/devices/agent"
	"seatlink/devices/sim"
	"seatlink/internal/browsertest"
	"seatlink/internal/wire"
)

// TestBrowserWeakLineSaysSo: a robot whose picture is a trickle (160x90
// at 10 frames a second, 20 kbit/s) beside its sound makes Chromium's own
// estimate of the line (REMB, at most about 1.5 times what it receives)
// too low for video: the server holds the picture back, and the pupil's
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
