package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"seatlink/devices"
	"seatlink/internal/browsertest"
	"seatlink/people"
)

// TestBrowserClassroomStation: a tablet or laptop in the seat. One
// Chromium (fake camera and microphone) opens /station#enroll=CODE for a
// station the admin created, lent and paired; another opens the pupil's
// join link. The pupil's page decodes the station's camera; the station
// receives the pupil's voice; the pupil's head turn moves the station's
// pan window and its eyes; a raised hand shows as the white light; the
// teacher's sleep command stops the station's camera and the pupil's
// picture; revoking the station signs it out.
func TestBrowserClassroomStation(t *testing.T) {
	stationCtx, _ := browsertest.New(t)
	pupilCtx, _ := browsertest.New(t)
	a := testApp(t)
	ctx := context.Background()
	tp := newTestPupil(t, a)
	sys, la, school, pupil := tp.sys, tp.la, tp.school, tp.pupil
	station, code, err := a.devices.Create(ctx, sys, devices.KindStation, "Station by the window")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := a.devices.Lend(ctx, sys, station.ID, school.ID, now, now.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := a.devices.Pair(ctx, sys, station.ID, pupil.ID); err != nil {
		t.Fatal(err)
	}
	jl, err := a.people.IssueJoinLink(ctx, sys, pupil.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	evalIn := func(c context.Context, js string) float64 {
		t.Helper()
		v, err := chromedp.Run(c, chromedp.Evaluate[float64](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	audioIn := func() float64 {
		t.Helper()
		v, err := chromedp.Run(stationCtx, chromedp.Evaluate[float64](`window.seatlinkStation.inboundAudioBytes()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("inbound audio: %v", err)
		}
		return v
	}
	stationSays := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(stationCtx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}

	if err := chromedp.Do(stationCtx, chromedp.Navigate(a.baseURL()+"/station#enroll="+code)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the station to enroll and join", func() bool {
		return stationSays(`document.body.dataset.state`) == "ready" && a.hub.Status(station.ID).Online
	})
	if h := stationSays(`location.hash`); h != "" {
		t.Errorf("the enrollment code stayed in the address: %q", h)
	}
	if stationSays(`document.body.dataset.asleep`) != "1" {
		t.Error("the station's eyes are open with no pupil joined")
	}
	// Its heartbeat names the camera and microphone in use (Chromium's
	// fake devices here); no battery reading is made up where the browser
	// has none to give.
	waitFor(t, 10*time.Second, "the station's camera and microphone in its telemetry", func() bool {
		tel := a.hub.Status(station.ID).Telemetry
		return tel != nil && tel.Camera != "" && tel.Microphone != ""
	})

	if err := chromedp.Do(pupilCtx, chromedp.Navigate(a.baseURL()+"/join#"+jl.Token)); err != nil {
		t.Fatal(err)
	}
	const decoded = `(() => { const v = document.getElementById('classroom');
		return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0; })()`
	waitFor(t, 30*time.Second, "the pupil's page to decode 30 frames of the station's camera", func() bool {
		return evalIn(pupilCtx, decoded) > 30
	})
	waitFor(t, 5*time.Second, "the station to wake for the pupil", func() bool { return stationSays(`document.body.dataset.asleep`) == "0" })

	// The station hears the pupil.
	first := audioIn()
	waitFor(t, 10*time.Second, "the pupil's audio bytes rising at the station", func() bool {
		return audioIn() > first+2000
	})

	// A head turn moves the pan window over the camera frame.
	window0 := stationSays(`document.body.dataset.window || ''`)
	if err := chromedp.Do(pupilCtx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the station to turn right", func() bool { return stationSays(`document.body.dataset.pan`) == "15" })
	waitFor(t, 5*time.Second, "the station's pan window to move", func() bool {
		w := stationSays(`document.body.dataset.window || ''`)
		return w != "" && w != window0
	})

	// A raised hand is the white light.
	if err := chromedp.Do(pupilCtx, chromedp.Click("#hand")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the hand on the station", func() bool { return stationSays(`document.body.dataset.hand`) == "1" })
	if bg := stationSays(`getComputedStyle(document.body).backgroundColor`); bg != "rgb(255, 255, 255)" {
		t.Errorf("raised hand shows background %s, want white", bg)
	}

	// The pupil chooses a face; the station shows it, the page says so.
	if err := chromedp.Do(pupilCtx, chromedp.Click(`.faces button[data-expression="happy"]`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the happy face on the station", func() bool { return stationSays(`document.body.dataset.expression`) == "happy" })
	waitFor(t, 5*time.Second, "the pupil's page to say the face", func() bool {
		s, _ := chromedp.Run(pupilCtx, chromedp.Text("#faces-said"))
		return s == "Your robot looks happy."
	})

	// Whispering plays the pupil quietly; a chat message shows large.
	if err := chromedp.Do(pupilCtx, chromedp.KeyEvent("w")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the station to play the pupil quietly", func() bool {
		v := evalIn(stationCtx, `document.getElementById('pupil-voice').volume`)
		return v > 0 && v <= 0.25
	})
	if err := chromedp.Do(pupilCtx, chromedp.Click("#tab-chat"), chromedp.SendKeys("#chat-text", "Can you say that again?"), chromedp.Click("#chat-send")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the chat on the station's screen", func() bool {
		return stationSays(`document.getElementById('chat').hidden ? '' : document.getElementById('chat').textContent`) == "Can you say that again?"
	})
	waitFor(t, 5*time.Second, "the pupil's page to say where the message is", func() bool {
		s, _ := chromedp.Run(pupilCtx, chromedp.Text("#chat-said"))
		return s == "Your message is on the robot's screen."
	})

	// The teacher's sleep command: the camera stops (the browser's
	// indicator goes off) and so does the pupil's picture.
	admin := signInStaff(t, a, la.ID, school.ID, people.RoleAdmin)
	if status, body := admin.do("POST", "/api/v1/devices/"+station.ID+"/commands", map[string]any{"command": "sleep"}); status != http.StatusOK {
		t.Fatalf("sleep: %d %s", status, body)
	}
	if evalIn(stationCtx, `window.seatlinkStation.cameraLive() ? 1 : 0`) != 0 {
		t.Error("the station's camera is still live after sleep")
	}
	if stationSays(`document.body.dataset.asleep`) != "1" {
		t.Error("the station does not show it is asleep")
	}
	// Frames already on their way, or queued in a busy machine's
	// decoder, may still show: wait (up to 5 s) for a still second, then
	// watch for 2 s more.
	before := evalIn(pupilCtx, decoded)
	for settle := time.Now().Add(5 * time.Second); time.Now().Before(settle); {
		time.Sleep(time.Second)
		now := evalIn(pupilCtx, decoded)
		if now == before {
			break
		}
		before = now
	}
	time.Sleep(2 * time.Second)
	if after := evalIn(pupilCtx, decoded); after > before+3 {
		t.Errorf("the pupil's page decoded %v frames in 2 s after the station slept", after-before)
	}

	// A command a browser cannot obey is answered, not ignored.
	if status, body := admin.do("POST", "/api/v1/devices/"+station.ID+"/commands", map[string]any{"command": "reboot"}); status == http.StatusOK ||
		!strings.Contains(string(body), "unsupported") {
		t.Errorf("reboot: %d %s, want a refusal naming unsupported", status, body)
	}

	// Revoking the station signs it out at once.
	if status, body := admin.do("DELETE", "/api/v1/devices/"+station.ID+"/credential", nil); status != http.StatusOK {
		t.Fatalf("revoke: %d %s", status, body)
	}
	waitFor(t, 5*time.Second, "the station to be signed out", func() bool {
		return stationSays(`document.body.dataset.state`) == "enroll" && stationSays(`localStorage.getItem('seatlink.station') || ''`) == ""
	})
}
