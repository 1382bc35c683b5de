package sim

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"seatlink/devices/agent"
	"seatlink/internal/wire"
)

// deviceState is the robot's credential kept between runs.
type deviceState struct {
	DeviceID   string `json:"device_id"`
	Credential string `json:"credential"`
}

// credential returns the robot's credential: the configured one, the one
// stored at StatePath, or a new one from enrolling with EnrollCode (then
// stored, readable by the owner only).
func (r *Robot) credential(ctx context.Context) (string, error) {
	if r.cfg.Token != "" {
		return r.cfg.Token, nil
	}
	if r.cfg.StatePath != "" {
		if b, err := os.ReadFile(r.cfg.StatePath); err == nil {
			var st deviceState
			if json.Unmarshal(b, &st) == nil && st.Credential != "" && r.cfg.EnrollCode == "" {
				return st.Credential, nil
			}
		}
	}
	if r.cfg.EnrollCode == "" {
		return "", errors.New("sim: no credential: enroll with a code first (--enroll CODE)")
	}
	id, cred, err := agent.Enroll(ctx, r.cfg.Server, r.cfg.EnrollCode)
	if err != nil {
		return "", err
	}
	r.log.Info("enrolled", "device", id)
	if r.cfg.StatePath != "" {
		b, _ := json.Marshal(deviceState{DeviceID: id, Credential: cred})
		if err := os.MkdirAll(filepath.Dir(r.cfg.StatePath), 0o700); err == nil {
			if err := os.WriteFile(r.cfg.StatePath, b, 0o600); err != nil {
				r.log.Warn("credential not stored", "err", err)
			}
		}
	}
	return cred, nil
}

// telemetry simulates plausible, slowly changing readings.
type telemetry struct {
	start   time.Time
	battery float64
	temp    float64
}

func (t *telemetry) next(charging, asleep bool) wire.DeviceMessage {
	drain := 0.02 // % per heartbeat while awake
	if asleep {
		drain = 0.005
	}
	if charging {
		t.battery = min(100, t.battery+0.5)
	} else {
		t.battery = max(0, t.battery-drain)
	}
	t.temp = max(30, min(55, t.temp+(rand.Float64()-0.5)*0.4))
	bat := int(t.battery)
	temp := float64(int(t.temp*10)) / 10
	wifi := -50 - rand.IntN(20)
	up := int64(time.Since(t.start).Seconds())
	return wire.DeviceMessage{Type: wire.DevHeartbeat, Battery: &bat, Charging: charging, TemperatureC: &temp,
		WifiDBm: &wifi, UptimeS: &up}
}

// runControl keeps the control channel up until ctx ends: hello,
// heartbeats at the server's interval, commands obeyed and acknowledged.
func (r *Robot) runControl(ctx context.Context, cred string) error {
	tel := &telemetry{start: time.Now(), battery: 85, temp: 38}
	if r.cfg.FlatBattery {
		tel.battery = 12
	}
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		c, err := agent.DialControl(ctx, r.cfg.Server, cred, wire.DeviceMessage{Firmware: r.firmware(),
			Capabilities: []string{"camera", "microphone", "speaker", "pan_tilt", "light"}}, r.onDeviceMessage)
		if errors.Is(err, agent.ErrRevoked) {
			return err
		}
		if err != nil {
			r.log.Warn("control channel down; retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 500 * time.Millisecond
		interval := time.Duration(c.Welcome.HeartbeatInterval) * time.Second
		if interval <= 0 {
			interval = 10 * time.Second
		}
		r.ctl.Store(c)
		r.log.Info("control channel up", "device", c.Welcome.DeviceID, "heartbeat", interval.String())
		beat := func() {
			m := tel.next(false, r.deviceState().Asleep)
			if r.cfg.Parts != nil {
				m = r.partsHeartbeat(tel.start)
			}
			st := r.deviceState()
			m.State = &st
			_ = c.Send(m)
		}
		beat()
		tick := time.NewTicker(interval)
		var flaky <-chan time.Time
		if r.cfg.Flaky {
			flaky = time.After(time.Duration(20+rand.IntN(20)) * time.Second)
		}
	loop:
		for {
			select {
			case <-ctx.Done():
				c.Close()
				break loop
			case <-c.Done():
				break loop
			case <-tick.C:
				beat()
			case <-flaky:
				r.log.Warn("simulating a network fault")
				c.Abort()
				break loop
			}
		}
		tick.Stop()
		r.ctl.Store(nil)
		if err := c.Err(); errors.Is(err, agent.ErrRevoked) {
			return err
		}
	}
	return nil
}

// deviceState is the robot's state as the device protocol reports it.
func (r *Robot) deviceState() wire.DeviceState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dev
}

// onDeviceMessage obeys a teacher's command from the control channel.
func (r *Robot) onDeviceMessage(c *agent.Control, m wire.DeviceMessage) {
	if m.Type != wire.DevCommand {
		if m.Type == wire.DevError {
			r.log.Warn("server says", "code", m.Code, "message", m.Message)
		}
		return
	}
	if err := wire.CheckCommand(m.Command, m.Args); err != nil {
		ok := false
		_ = c.Send(wire.DeviceMessage{Type: wire.DevAck, ID: m.ID, OK: &ok, Error: "bad_command"})
		return
	}
	r.mu.Lock()
	d := &r.dev
	switch m.Command {
	case wire.DevCmdSleep:
		d.Asleep = true // camera and microphone off: the media loops stop sending
	case wire.DevCmdWake:
		d.Asleep = false
		r.keyframe.Store(true) // start again from a keyframe

	case wire.DevCmdMute:
		d.Muted = true
	case wire.DevCmdUnmute:
		d.Muted = false
	case wire.DevCmdVolume:
		d.Volume = *m.Args.Level
	case wire.DevCmdPanTilt:
		d.Pan, d.Tilt = *m.Args.Pan, *m.Args.Tilt
	case wire.DevCmdSetLight:
		d.Light = m.Args.Mode + " " + m.Args.Color
	}
	st := *d
	r.mu.Unlock()
	r.log.Info("device command", "command", m.Command, "asleep", st.Asleep, "muted", st.Muted, "volume", st.Volume)
	r.actuate(m.Command)
	ok := true
	_ = c.Send(wire.DeviceMessage{Type: wire.DevAck, ID: m.ID, OK: &ok, Result: &st})
	if m.Command == wire.DevCmdReboot {
		r.log.Info("rebooting")
		go func() {
			c.Abort()
			if a := r.cur.Load(); a != nil {
				_ = a.Close()
			}
		}()
	}
}
