package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"seatlink/devices/agent"
	"seatlink/internal/config"
	"seatlink/internal/wire"
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

// restart_ice (a pupil's network changed, perhaps after the join's TURN
// credential expired) is answered with a freshly minted credential for
// the same participant before the restart's offer.
func TestRestartICEBringsAFreshTURNCredential(t *testing.T) {
	a := testAppWith(t, func(c *config.Serve) { c.TURNUDPAddr = "127.0.0.1:0" })
	link := newTestLink(t, a)
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(a.baseURL(), "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(wire.Message{Type: wire.TypeJoin, Role: wire.RolePupil, Token: link.PupilToken}); err != nil {
		t.Fatal(err)
	}
	var joined wire.Message
	for joined.Type != wire.TypeJoined {
		if err := ws.ReadJSON(&joined); err != nil {
			t.Fatalf("waiting for joined: %v", err)
		}
	}
	if len(joined.ICEServers) != 1 || !strings.HasSuffix(joined.ICEServers[0].Username, ":"+joined.Peer) {
		t.Fatalf("joined ICE servers %+v: want one TURN entry for peer %s", joined.ICEServers, joined.Peer)
	}
	time.Sleep(1100 * time.Millisecond) // a later second: a later expiry
	if err := ws.WriteJSON(wire.Message{Type: wire.TypeRestartICE}); err != nil {
		t.Fatal(err)
	}
	for {
		var m wire.Message
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("no ice_servers after restart_ice: %v", err)
		}
		if m.Type != wire.TypeICEServers {
			continue
		}
		if len(m.ICEServers) != 1 || !strings.HasSuffix(m.ICEServers[0].Username, ":"+joined.Peer) ||
			m.ICEServers[0].Username <= joined.ICEServers[0].Username || m.ICEServers[0].Credential == joined.ICEServers[0].Credential {
			t.Fatalf("after restart_ice %+v, joined had %+v: want a later credential for the same peer", m.ICEServers, joined.ICEServers)
		}
		return
	}
}
