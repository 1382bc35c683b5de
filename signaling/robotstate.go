package signaling

import (
	"context"
	"time"

	"seatlink/internal/wire"
)

// watchRobot tells a pupil's page how their robot is (on its device
// channel, asleep, muted by the teacher) after joined and on every change,
// so that the page says so at once instead of showing a black box. It
// returns when the session ends.
func (ss *session) watchRobot(pupilID string) {
	hub, reg := ss.srv.deps.Hub, ss.srv.deps.Devices
	if hub == nil || reg == nil {
		return
	}
	changes := hub.Subscribe()
	defer hub.Unsubscribe(changes)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	d, err := reg.PairedWith(ctx, pupilID)
	cancel()
	if err != nil {
		// A link without a registered device (a robot joining the
		// media alone): nothing to tell beyond peer_joined/peer_left.
		return
	}
	var last *wire.DeviceStatus
	tell := func() {
		st := hub.Status(d.ID)
		now := wire.DeviceStatus{Online: st.Online, Asleep: st.Online && st.State.Asleep, Muted: st.Online && st.State.Muted}
		if last != nil && *last == now {
			return
		}
		last = &now
		ss.send(wire.Message{Type: wire.TypeRobot, Robot: &now})
	}
	tell()
	for {
		select {
		case id := <-changes:
			if id == d.ID {
				tell()
			}
		case <-ss.closed:
			return
		case <-ss.srv.stopping:
			return
		}
	}
}
