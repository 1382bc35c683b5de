package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"seatlink/devices/sim"
	"seatlink/internal/wire"
)

// ffmpegPath finds Debian's ffmpeg (deploy/test.sh installs it); without
// it the test skips, except under CI, where it fails.
func ffmpegPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is not installed (deploy/test.sh installs Debian's ffmpeg); CI does not skip")
		}
		t.Skip("ffmpeg is not installed; deploy/test.sh installs it")
	}
	return p
}

// A Linux robot from parts: seatlink device-agent with ffmpeg encoding a
// test pattern (VP8 in IVF with Opus in Ogg, or H.264 Annex B) as its
// camera and microphone. The pupil receives the frames; the actuator
// script receives the pupil's head turn as a JSON line; the speaker
// command receives the pupil's voice as Ogg/Opus; the battery file's
// reading reaches the heartbeat.
func TestDeviceAgentWithFFmpeg(t *testing.T) {
	ff := ffmpegPath(t)
	for _, tc := range []struct {
		name, format, video, audio string
	}{
		{"vp8", "ivf", ff + " -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=15 " +
			"-c:v libvpx -deadline realtime -cpu-used 8 -b:v 300k -g 15 -f ivf -",
			ff + " -hide_banner -loglevel error -re -f lavfi -i sine=frequency=440:sample_rate=48000 -c:a libopus -b:a 32k -f ogg -"},
		{"h264", "h264", ff + " -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=15 " +
			"-pix_fmt yuv420p -c:v libx264 -profile:v baseline -preset ultrafast -tune zerolatency -g 15 -bsf:v h264_mp4toannexb -f h264 -", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testApp(t)
			link := newTestLink(t, a)
			dir := t.TempDir()
			actuated := filepath.Join(dir, "actuator.jsonl")
			heard := filepath.Join(dir, "speaker.ogg")
			battery := filepath.Join(dir, "capacity")
			if err := os.WriteFile(battery, []byte("67\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-server", a.baseURL(), "-token", link.RobotToken, "-state", filepath.Join(dir, "agent.json"),
				"-video-cmd", tc.video, "-video-format", tc.format, "-fps", "15",
				"-actuator-cmd", "cat > " + actuated, "-speaker-cmd", "cat > " + heard, "-battery-file", battery,
				"-duration", "60s", "-log-level", "warn"}
			if tc.audio != "" {
				args = append(args, "-audio-cmd", tc.audio)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- deviceAgentCmd(ctx, args) }()
			t.Cleanup(func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("device-agent: %v", err)
					}
				case <-time.After(15 * time.Second):
					t.Error("device-agent did not stop")
				}
			})

			p := joinPupil(t, a, link, nil)
			waitFor(t, 30*time.Second, "30 frames of the ffmpeg camera at the pupil", func() bool { return p.videoFrames.Load() >= 30 })
			if tc.audio != "" {
				waitFor(t, 10*time.Second, "the ffmpeg microphone at the pupil", func() bool { return p.audioPackets.Load() >= 50 })
			}
			waitFor(t, 10*time.Second, "the robot online with the battery file's reading", func() bool {
				st := a.hub.Status(link.RobotID)
				return st.Online && st.Telemetry != nil && st.Telemetry.Battery != nil && *st.Telemetry.Battery == 67
			})

			pan := 15.0
			if err := p.SendControl(wire.Control{Type: wire.ControlCommand, ID: "t1", Command: wire.CmdTurn, Pan: &pan}); err != nil {
				t.Fatal(err)
			}
			var line sim.ActuatorLine
			waitFor(t, 10*time.Second, "the head turn as a JSON line at the actuator", func() bool {
				f, err := os.Open(actuated)
				if err != nil {
					return false
				}
				defer f.Close()
				sc := bufio.NewScanner(f)
				for sc.Scan() {
					if json.Unmarshal(sc.Bytes(), &line) == nil && line.Event == wire.CmdTurn {
						return true
					}
				}
				return false
			})
			if line.Pan != 15 {
				t.Errorf("actuator line %+v, want pan 15", line)
			}
			waitFor(t, 10*time.Second, "the pupil's voice as Ogg/Opus at the speaker", func() bool {
				b, _ := os.ReadFile(heard)
				return len(b) > 4000 && strings.HasPrefix(string(b), "OggS")
			})
		})
	}
}
