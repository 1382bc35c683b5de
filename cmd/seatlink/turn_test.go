package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"seatlink/devices/agent"
	"seatlink/internal/config"
)

// A pupil whose network lets nothing through but the TURN server (ICE
// policy "relay") sees and hears the class through the built-in relay,
// over UDP and over TCP, with the credential minted at its join.
func TestPupilThroughBuiltInTURN(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Serve)
	}{
		{"udp", func(c *config.Serve) { c.TURNUDPAddr = "127.0.0.1:0" }},
		{"tcp", func(c *config.Serve) { c.TURNTCPAddr = "127.0.0.1:0" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testAppWith(t, tc.edit)
			link := newTestLink(t, a)
			robot := startRobot(t, a, link, nil)
			p := joinPupilWith(t, a, link, func(c *agent.Config) {
				c.RelayOnly = true
				if tc.name == "tcp" {
					c.NetworkTypes = []webrtc.NetworkType{webrtc.NetworkTypeTCP4}
				}
			})
			waitFor(t, 20*time.Second, "video and audio through the relay", func() bool {
				return p.videoFrames.Load() >= 30 && p.audioPackets.Load() >= 30
			})
			waitFor(t, 10*time.Second, "the pupil's voice at the robot through the relay", func() bool {
				return robot.Stats().PupilAudioPackets >= 30
			})
			if n := a.turn.Allocations(); n < 1 {
				t.Fatalf("%d TURN allocations: the media did not cross the relay", n)
			}
			body := get(t, a.metricsURL())
			if !strings.Contains(body, "\nseatlink_turn_allocations ") {
				t.Error("metrics lack seatlink_turn_allocations")
			}
		})
	}
}
