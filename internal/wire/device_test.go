package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeDevice(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"type":"hello","firmware":"sim/1","capabilities":["camera","pan_tilt"]}`, true},
		{`{"type":"hello","capabilities":[""]}`, false},
		{`{"type":"heartbeat","battery":80,"charging":true,"temperature_c":36.5,"wifi_dbm":-55,"uptime_s":12}`, true},
		{`{"type":"heartbeat","battery":101,"temperature_c":36.5,"wifi_dbm":-55,"uptime_s":12}`, false},
		{`{"type":"heartbeat","battery":50,"temperature_c":36.5,"wifi_dbm":5,"uptime_s":12}`, false},
		{`{"type":"heartbeat","battery":50,"wifi_dbm":-5,"uptime_s":12}`, true}, // temperature unknown
		{`{"type":"heartbeat","charging":false,"uptime_s":12}`, true},           // a browser that knows no battery
		{`{"type":"heartbeat","uptime_s":1,"network":"wifi","camera":"HD Webcam C920","microphone":"Built-in"}`, true},
		{`{"type":"heartbeat","uptime_s":1,"camera":"bad\u0000label"}`, false},
		{`{"type":"heartbeat","uptime_s":1,"network":"` + strings.Repeat("x", 65) + `"}`, false},
		{`{"type":"heartbeat","battery":50,"temperature_c":20,"wifi_dbm":-5}`, false},
		{`{"type":"heartbeat","temperature_c":200,"uptime_s":12}`, false},
		{`{"type":"heartbeat","battery":-1,"uptime_s":12}`, false},
		{`{"type":"heartbeat","battery":50,"temperature_c":20,"wifi_dbm":-5,"uptime_s":1,"state":{"volume":200}}`, false},
		{`{"type":"ack","id":"c1","ok":true,"result":{"asleep":true,"volume":50}}`, true},
		{`{"type":"ack","id":"c1"}`, false},
		{`{"type":"ack","ok":true}`, false},
		{`{"type":"command","id":"x","command":"sleep"}`, false}, // devices do not send commands
		{`{"type":"rotate_credential"}`, true},
		{`{"type":"heartbeat","battery":"full"}`, false},
		{`not json`, false},
	} {
		_, err := DecodeDevice([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("DecodeDevice(%s) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadDeviceMessage) {
			t.Errorf("error %v does not wrap ErrBadDeviceMessage", err)
		}
	}
}

func TestCheckCommand(t *testing.T) {
	lvl, bad := 40, 101
	pan, tilt := 30.0, -10.0
	for _, tc := range []struct {
		cmd  string
		args *CommandArgs
		ok   bool
	}{
		{DevCmdSleep, nil, true}, {DevCmdWake, nil, true}, {DevCmdReboot, nil, true},
		{DevCmdVolume, &CommandArgs{Level: &lvl}, true}, {DevCmdVolume, &CommandArgs{Level: &bad}, false}, {DevCmdVolume, nil, false},
		{DevCmdPanTilt, &CommandArgs{Pan: &pan, Tilt: &tilt}, true}, {DevCmdPanTilt, &CommandArgs{Pan: &pan}, false},
		{DevCmdSetLight, &CommandArgs{Color: "#00ff88", Mode: "pulse"}, true}, {DevCmdSetLight, &CommandArgs{Color: "green", Mode: "steady"}, false},
		{DevCmdUpdateConfig, &CommandArgs{Config: json.RawMessage(`{"a":1}`)}, true}, {DevCmdUpdateConfig, nil, false},
		{"explode", nil, false},
	} {
		if err := CheckCommand(tc.cmd, tc.args); (err == nil) != tc.ok {
			t.Errorf("CheckCommand(%s, %+v) = %v, want ok=%v", tc.cmd, tc.args, err, tc.ok)
		}
	}
}

func FuzzDecodeDevice(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","firmware":"x","capabilities":["a"]}`,
		`{"type":"heartbeat","battery":1,"temperature_c":1,"wifi_dbm":-1,"uptime_s":1,"state":{"pan":1e308}}`,
		`{"type":"ack","id":"1","ok":false,"error":"busy"}`, `{`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeDevice(data)
		if err != nil {
			if !errors.Is(err, ErrBadDeviceMessage) {
				t.Fatalf("error without the sentinel: %v", err)
			}
			return
		}
		switch m.Type {
		case DevHeartbeat:
			if (m.Battery != nil && (*m.Battery < 0 || *m.Battery > 100)) || (m.WifiDBm != nil && (*m.WifiDBm < -120 || *m.WifiDBm > 0)) ||
				m.UptimeS == nil || (m.TemperatureC != nil && !(*m.TemperatureC >= -40 && *m.TemperatureC <= 125)) {
				t.Fatalf("accepted bad heartbeat %+v", m)
			}
		case DevAck:
			if m.ID == "" || m.OK == nil {
				t.Fatal("accepted ack without id or ok")
			}
		case DevHello, DevRotate:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}
