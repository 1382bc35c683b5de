package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"seatlink/engagement"
	"seatlink/internal/browsertest"
	"seatlink/media"
)

// TestBrowserPupilSeesAndHearsClass opens the pupil's join link in headless
// Chromium (fake microphone) against the real server and a simulated robot.
func TestBrowserPupilSeesAndHearsClass(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	link := newTestLink(t, a)
	robot := startRobot(t, a, link, nil)
	waitFor(t, 10*time.Second, "the robot to join", func() bool { return robot.Stats().Connects > 0 })

	eval := func(js string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	const decoded = `(() => { const v = document.getElementById('classroom');
		return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0; })()`

	opened := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(a.baseURL()+"/join#"+link.PupilToken)); err != nil {
		t.Fatal(err)
	}
	var firstFrame time.Duration
	deadline := opened.Add(15 * time.Second)
	for {
		n := eval(decoded)
		if n > 0 && firstFrame == 0 {
			firstFrame = time.Since(opened)
		}
		if n > 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page decoded %v video frames in 15 s, want more than 30", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	inPage := eval(`window.seatlink.firstFrameAt || -1`)
	t.Logf("join link opened to first decoded frame: %s (test's view, 50 ms polling); %.0f ms after navigation start (page's own clock)",
		firstFrame.Round(time.Millisecond), inPage)

	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink.state()`))
	if err != nil || state != "in_class" {
		t.Fatalf("page state %q (%v), want in_class", state, err)
	}
	label, err := chromedp.Run(ctx, chromedp.Text("#state"))
	if err != nil || label != "You're in class" {
		t.Fatalf("state label %q (%v)", label, err)
	}
	// The page's state follows the media whatever order events come in:
	// the server drops the pupil (as a restart does), the page rejoins, the
	// picture plays on in the same element, and it says so again.
	a.sfu.Evict(link.RobotID, media.RolePupil)
	waitFor(t, 5*time.Second, "the page to notice the drop", func() bool {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink.state()`))
		return s != "in_class"
	})
	waitFor(t, 20*time.Second, "the page to say it is in class again", func() bool {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink.state()`))
		return s == "in_class"
	})

	// The robot hears the pupil: Chromium's fake microphone, with the
	// RFC 6464 audio level the browser stamps on each packet.
	waitFor(t, 10*time.Second, "the pupil's audio with its level at the robot", func() bool {
		st := robot.Stats()
		return st.PupilAudioPackets > 50 && st.PupilAudioLevel >= 0
	})

	// The pupil's voice (the fake microphone's beeps) is seen by the SFU
	// from the audio level the browser stamps, and recorded.
	waitFor(t, 10*time.Second, "voice activity in the engagement log", func() bool {
		a.recorder.Flush()
		evs, _ := engagement.Events(context.Background(), a.db, link.PupilID, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
		for _, e := range evs {
			if e.Kind == engagement.VoiceStart {
				return true
			}
		}
		return false
	})

	// Controls work by mouse and by keyboard.
	if err := chromedp.Do(ctx, chromedp.Click("#hand")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the robot to raise its hand", func() bool { return robot.State().Hand })
	waitFor(t, 5*time.Second, "the page to show the hand is up", func() bool {
		return eval(`document.getElementById('hand').getAttribute('aria-pressed') === 'true' ? 1 : 0`) == 1
	})
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the robot to turn right", func() bool { return robot.State().Pan == 15 })
	if err := chromedp.Do(ctx, chromedp.KeyEvent("p")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "passive mode", func() bool { return robot.State().Passive })
	// Typing in the chat box moves nothing; sending shows it on the robot.
	if err := chromedp.Do(ctx, chromedp.Click("#tab-chat"), chromedp.SendKeys("#chat-text", "hello wp"), chromedp.Click("#chat-send")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the chat on the robot", func() bool { return robot.Stats().Chats == 1 })
	if st := robot.State(); st.Whisper || !st.Passive || st.Pan != 15 {
		t.Fatalf("typing in the chat box worked the robot: %+v", st)
	}

	if dir := os.Getenv("SEATLINK_SCREENSHOTS"); dir != "" {
		if err := browsertest.Screenshot(ctx, filepath.Join(dir, "pupil-page.png")); err != nil {
			t.Error(err)
		}
	}
}

// A join link whose token is wrong tells the pupil in words, and stops.
func TestBrowserBadLink(t *testing.T) {
	ctx, _ := browsertest.New(t)
	a := testApp(t)
	for _, tc := range []struct{ fragment, want, state string }{
		{"#not-a-real-token", "This join link has expired or is not right. Ask your teacher for a new one.", "bad_link"},
		{"", "This device is not signed in to a class yet.", "need_code"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(a.baseURL()+"/join"+tc.fragment)); err != nil {
			t.Fatal(err)
		}
		var got string
		waitFor(t, 10*time.Second, "the bad-link message", func() bool {
			got, _ = chromedp.Run(ctx, chromedp.Text("#state"))
			return got == tc.want
		})
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.seatlink.state()`))
		if state != tc.state {
			t.Errorf("%q: state %q, want %s", tc.fragment, state, tc.state)
		}
	}
}
