package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"seatlink/devices/agent"
	"seatlink/devices/sim"
	"seatlink/engagement"
	"seatlink/internal/config"
	"seatlink/internal/wire"
	"seatlink/people"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SEATLINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// checkGoroutines fails the test if goroutines started during it are still
// running a few seconds after everything was closed (its cleanup runs
// last, after the server's and clients' cleanups).
func checkGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutines leaked: %d at start, %d now\n%s", base, runtime.NumGoroutine(), buf[:n])
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// testLink is a pupil with a robot link: the robot's token and a join
// link token for the pupil.
type testLink struct {
	PupilID, RobotToken, PupilToken     string
	LAID, SchoolID, RobotID, JoinLinkID string
}

var testPupils atomic.Int64

// testPupil is a pupil in a school of a new LA, and the LA's system actor.
type testPupil struct {
	sys    people.Actor
	la     people.LA
	school people.School
	pupil  people.Pupil
}

func newTestPupil(t testing.TB, a *app) testPupil {
	t.Helper()
	ctx := context.Background()
	sys := people.System
	la, err := a.people.CreateLA(ctx, sys, fmt.Sprintf("LA %d", testPupils.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	sys.LAID = la.ID
	school, err := a.people.CreateSchool(ctx, sys, la.ID, "School")
	if err != nil {
		t.Fatal(err)
	}
	year := 4
	pupil, err := a.people.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "P1",
		DisplayName: "Pupil", YearGroup: &year})
	if err != nil {
		t.Fatal(err)
	}
	return testPupil{sys: sys, la: la, school: school, pupil: pupil}
}

func newTestLink(t testing.TB, a *app) testLink {
	t.Helper()
	ctx := context.Background()
	tp := newTestPupil(t, a)
	sys, la, school, pupil := tp.sys, tp.la, tp.school, tp.pupil
	robot, cred, err := a.devices.ProvisionRobot(ctx, sys, "Robot", school.ID, "", pupil.ID)
	if err != nil {
		t.Fatal(err)
	}
	jl, err := a.people.IssueJoinLink(ctx, sys, pupil.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return testLink{PupilID: pupil.ID, RobotToken: cred, PupilToken: jl.Token, LAID: la.ID, SchoolID: school.ID,
		RobotID: robot.ID, JoinLinkID: jl.ID}
}

// testApp starts the real server wiring on ephemeral loopback ports.
func testApp(t testing.TB) *app { return testAppWith(t, nil) }

// testAppWith is testApp with its configuration changed by edit.
func testAppWith(t testing.TB, edit func(*config.Serve)) *app {
	t.Helper()
	cfg := config.Defaults()
	cfg.HTTPAddr, cfg.MediaUDPAddr, cfg.MediaTCPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DemoRobot = false
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "test.db")
	cfg.DataDir = t.TempDir()
	cfg.HeartbeatInterval = time.Second
	cfg.MetricsAddr = "127.0.0.1:0"
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := startApp(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.stop(ctx)
	})
	return a
}

func startRobot(t testing.TB, a *app, link testLink, nt []webrtc.NetworkType) *sim.Robot {
	t.Helper()
	r, err := sim.New(sim.Config{Server: a.baseURL(), TLS: a.selfTrust(), Token: link.RobotToken, Logger: testLogger(t), NetworkTypes: nt})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// pupil is a Pion pupil client that publishes the clip's tone and counts
// what it receives.
type pupil struct {
	*agent.Agent
	videoFrames, audioPackets atomic.Int64
	tracksEnded               atomic.Int64
	lastPacket                atomic.Int64 // unix nanoseconds of the last media packet received
	acks                      chan wire.Control
}

func joinPupil(t testing.TB, a *app, link testLink, nt []webrtc.NetworkType) *pupil {
	t.Helper()
	return joinPupilWith(t, a, link, func(c *agent.Config) { c.NetworkTypes = nt })
}

// joinPupilWith is joinPupil with the agent's configuration changed by edit.
func joinPupilWith(t testing.TB, a *app, link testLink, edit func(*agent.Config)) *pupil {
	t.Helper()
	clip, err := sim.LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	mic, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "mic", "pupil")
	if err != nil {
		t.Fatal(err)
	}
	p := &pupil{acks: make(chan wire.Control, 16)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := agent.Config{
		Server: a.baseURL(), Token: link.PupilToken, Role: wire.RolePupil,
		Publish: wire.Publish{Audio: true}, Tracks: []webrtc.TrackLocal{mic},
		Logger: testLogger(t),
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					p.tracksEnded.Add(1)
					return
				}
				p.lastPacket.Store(time.Now().UnixNano())
				if tr.Kind() == webrtc.RTPCodecTypeVideo {
					if pkt.Marker { // the last packet of a frame
						p.videoFrames.Add(1)
					}
				} else {
					p.audioPackets.Add(1)
				}
			}
		},
		OnControl: func(c wire.Control) { p.acks <- c },
	}
	if edit != nil {
		edit(&cfg)
	}
	ag, err := agent.Dial(agent.WithTLS(ctx, a.selfTrust()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Agent = ag
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(clip.AudioDuration)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(clip.Audio) {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = mic.WriteSample(media.Sample{Data: clip.Audio[i], Duration: clip.AudioDuration})
			}
		}
	}()
	t.Cleanup(func() { close(stop); _ = ag.Close() })
	return p
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEndToEndRobotToPupil(t *testing.T) {
	for _, tc := range []struct {
		name string
		nt   []webrtc.NetworkType
	}{
		{"udp-mux", nil},
		{"ice-tcp", []webrtc.NetworkType{webrtc.NetworkTypeTCP4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			a := testApp(t)
			link := newTestLink(t, a)
			robot := startRobot(t, a, link, tc.nt)
			p := joinPupil(t, a, link, tc.nt)

			waitFor(t, 20*time.Second, "60 video frames and audio at the pupil", func() bool {
				return p.videoFrames.Load() >= 60 && p.audioPackets.Load() >= 50
			})
			waitFor(t, 10*time.Second, "the pupil's audio at the robot", func() bool {
				return robot.Stats().PupilAudioPackets >= 50
			})
			if robot.Stats().PLIs == 0 {
				t.Error("the SFU sent the robot no keyframe request when the pupil subscribed")
			}
			waitFor(t, 10*time.Second, "receiver reports and TWCC feedback from the SFU to the robot", func() bool {
				st := robot.Stats()
				return st.ReceiverReports > 0 && st.TWCCFeedback > 0
			})

			<-p.ControlOpen()
			if err := p.SendControl(wire.Control{Type: wire.ControlCommand, ID: "c1", Command: wire.CmdRaiseHand}); err != nil {
				t.Fatal(err)
			}
			select {
			case ack := <-p.acks:
				if ack.Type != wire.ControlAck || ack.ID != "c1" || ack.OK == nil || !*ack.OK || ack.State == nil || !ack.State.Hand {
					t.Fatalf("ack = %+v, want ok with hand raised", ack)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no acknowledgement of raise_hand")
			}
			if !robot.State().Hand {
				t.Error("robot's hand is not up")
			}
			// A chat message reaches the robot; only the fact of it is evidence.
			if err := p.SendControl(wire.Control{Type: wire.ControlCommand, ID: "c2", Command: wire.CmdChat, Text: "Can I answer?"}); err != nil {
				t.Fatal(err)
			}
			select {
			case ack := <-p.acks:
				if ack.ID != "c2" || ack.OK == nil || !*ack.OK {
					t.Fatalf("chat ack = %+v", ack)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no acknowledgement of chat")
			}
			if robot.Stats().Chats != 1 {
				t.Errorf("robot showed %d chats, want 1", robot.Stats().Chats)
			}

			// Engagement evidence is recorded: the session, classroom media
			// reaching the pupil (with periodic evidence), the raised hand.
			waitFor(t, 10*time.Second, "engagement events", func() bool {
				a.recorder.Flush()
				evs, _ := engagement.Events(context.Background(), a.db, link.PupilID, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
				kinds := map[string]bool{}
				for _, e := range evs {
					kinds[e.Kind] = true
				}
				return kinds[engagement.SessionUp] && kinds[engagement.MediaStarted] && kinds[engagement.HandRaised] && kinds[engagement.Chat]
			})

			// An ICE restart (the pupil's network changed) keeps media flowing.
			offers, frames := p.Offers(), p.videoFrames.Load()
			if err := p.RestartICE(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "media after an ICE restart", func() bool {
				return p.Offers() > offers && p.videoFrames.Load() > frames+30
			})

			// The metrics saw the forwarding.
			// Never on the public port; on the metrics address of its own.
			if resp, err := http.Get(a.baseURL() + "/metrics"); err != nil || resp.StatusCode != 404 {
				t.Errorf("/metrics on the public port: %v %v", err, resp)
			} else {
				resp.Body.Close()
			}
			body := get(t, a.metricsURL())
			for _, want := range []string{"seatlink_sfu_rooms 1", "seatlink_sfu_peers 2", "seatlink_sfu_published_tracks 3",
				"seatlink_sfu_forwarded_tracks 3"} {
				if !strings.Contains(body, want+"\n") {
					t.Errorf("metrics lack %q", want)
				}
			}
			for _, kind := range []string{"receiver_report", "twcc"} {
				if !strings.Contains(body, `seatlink_sfu_subscriber_rtcp_packets_total{kind="`+kind+`"}`) ||
					strings.Contains(body, `seatlink_sfu_subscriber_rtcp_packets_total{kind="`+kind+`"} 0`+"\n") {
					t.Errorf("no %s RTCP from the pupil counted", kind)
				}
			}
			if !strings.Contains(body, "seatlink_sfu_forwarded_rtp_packets_total") ||
				strings.Contains(body, "seatlink_sfu_forwarded_rtp_packets_total 0\n") {
				t.Error("no forwarded packets counted")
			}
		})
	}
}

func TestCommandsAreCheckedAndAnsweredWithoutRobot(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	p := joinPupil(t, a, link, nil)
	select {
	case <-p.ControlOpen():
	case <-time.After(10 * time.Second):
		t.Fatal("control channel did not open")
	}
	pan := 500.0
	cases := []struct {
		msg  wire.Control
		want string
	}{
		{wire.Control{Type: wire.ControlCommand, ID: "a", Command: wire.CmdRaiseHand}, wire.CtlRobotNotConnected},
		{wire.Control{Type: wire.ControlCommand, ID: "b", Command: "dance"}, wire.CtlBadCommand},
		{wire.Control{Type: wire.ControlCommand, ID: "c", Command: wire.CmdTurn, Pan: &pan}, wire.CtlBadCommand},
		{wire.Ack("d", true, "", nil), ""}, // a pupil may not send acks: dropped silently
	}
	for _, c := range cases {
		if err := p.SendControl(c.msg); err != nil {
			t.Fatal(err)
		}
		if c.want == "" {
			continue
		}
		select {
		case ack := <-p.acks:
			if ack.ID != c.msg.ID || ack.OK == nil || *ack.OK || ack.Error != c.want {
				t.Errorf("%s: ack = %+v, want error %s", c.msg.ID, ack, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no answer", c.msg.ID)
		}
	}
}

func TestRobotResumesAfterReconnect(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := agent.Config{Server: a.baseURL(), Token: link.RobotToken, Role: wire.RoleRobot, Logger: testLogger(t)}
	first, err := agent.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// A second robot without the resume key is refused...
	if _, err := agent.Dial(ctx, cfg); !isCode(err, wire.CodeRoleTaken) {
		t.Fatalf("second robot: err = %v, want role_taken", err)
	}
	// ...but the same robot rejoining with its key replaces its old session.
	cfg.Resume = first.ResumeKey()
	second, err := agent.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	defer second.Close()
	select {
	case <-first.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced session was not closed")
	}
}

func isCode(err error, code string) bool {
	se, ok := err.(*agent.ErrServer)
	return ok && se.Msg.Code == code
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestGracefulShutdownTellsClients(t *testing.T) {
	cfg := config.Defaults()
	cfg.HTTPAddr, cfg.MediaUDPAddr, cfg.MediaTCPAddr = "127.0.0.1:0", "127.0.0.1:0", "off"
	cfg.DatabaseURL = filepath.Join(t.TempDir(), "test.db")
	cfg.DataDir = t.TempDir()
	a, err := startApp(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	link := newTestLink(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	robot, err := agent.Dial(ctx, agent.Config{Server: a.baseURL(), Token: link.RobotToken, Role: wire.RoleRobot,
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if get(t, a.baseURL()+"/readyz") == "" {
		t.Fatal("empty readyz")
	}
	start := time.Now()
	a.stop(ctx)
	select {
	case <-robot.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client not closed by shutdown")
	}
	if !isCode(robot.Err(), wire.CodeShuttingDown) {
		t.Fatalf("client saw %v, want shutting_down", robot.Err())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if _, err := http.Get(a.baseURL() + "/healthz"); err == nil {
		t.Error("HTTP still served after stop")
	}
}

// A pupil waiting in class sees the robot arrive, leave and come back: each
// change renegotiates, and media flows again without the pupil rejoining.
func TestRenegotiationWhenRobotComesAndGoes(t *testing.T) {
	checkGoroutines(t)
	a := testApp(t)
	link := newTestLink(t, a)
	p := joinPupil(t, a, link, nil)
	<-p.Connected()

	for round := 1; round <= 2; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := sim.New(sim.Config{Server: a.baseURL(), Token: link.RobotToken, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(ctx) }()
		before := p.videoFrames.Load()
		waitFor(t, 15*time.Second, "video after the robot joined", func() bool {
			return p.videoFrames.Load() >= before+30
		})
		ended := p.tracksEnded.Load()
		cancel()
		<-done
		waitFor(t, 10*time.Second, "the robot's tracks to end at the pupil", func() bool {
			return p.tracksEnded.Load() >= ended+2
		})
	}
	if errs := p.Errors(); len(errs) != 0 {
		t.Fatalf("pupil got errors: %+v", errs)
	}
}

// A robot whose camera encodes H.264 reaches the pupil as H.264: the SFU
// negotiates it and forwards it untouched, as it does VP8.
func TestH264IsNegotiatedAndForwarded(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	cam, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
		ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		"camera", "robot")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	robot, err := agent.Dial(ctx, agent.Config{Server: a.baseURL(), Token: link.RobotToken, Role: wire.RoleRobot,
		Publish: wire.Publish{Video: true}, Tracks: []webrtc.TrackLocal{cam}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer robot.Close()
	playFrames(t, cam, h264TestFrame)

	var codec atomic.Value
	var packets atomic.Int64
	pupil, err := agent.Dial(ctx, agent.Config{Server: a.baseURL(), Token: link.PupilToken, Role: wire.RolePupil,
		Logger: testLogger(t),
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			codec.Store(tr.Codec().MimeType)
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				packets.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer pupil.Close()
	waitFor(t, 10*time.Second, "H.264 packets at the pupil", func() bool { return packets.Load() >= 30 })
	if got, _ := codec.Load().(string); !strings.EqualFold(got, webrtc.MimeTypeH264) {
		t.Fatalf("pupil received %q, want H.264", got)
	}
}

// h264TestFrame is frame i of a tiny H.264 stream, as Annex B access
// units: SPS, PPS and an IDR slice every 30 frames, P slices between.
func h264TestFrame(i int) []byte {
	if i%30 == 0 {
		return []byte{0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1, 0x65, 0x88, 0x84}
	}
	return []byte{0, 0, 0, 1, 0x41, 0x9a, 0x02}
}

// vp8Track is a camera track for tests that publish VP8 themselves.
func vp8Track(t testing.TB) *webrtc.TrackLocalStaticSample {
	t.Helper()
	cam, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "robot")
	if err != nil {
		t.Fatal(err)
	}
	return cam
}

// playFrames writes frame(i) to cam 30 times a second until the test ends.
func playFrames(t testing.TB, cam *webrtc.TrackLocalStaticSample, frame func(i int) []byte) {
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = cam.WriteSample(media.Sample{Data: frame(i), Duration: time.Second / 30})
		}
	}()
}
