package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
)

// Device control channel (docs/DEVICE-PROTOCOL.md) message types.
const (
	DevHello     = "hello"
	DevHeartbeat = "heartbeat"
	DevAck       = "ack"
	DevRotate    = "rotate_credential"

	DevWelcome    = "welcome"
	DevCommand    = "command"
	DevError      = "error"
	DevCredential = "credential"
)

// Device commands sent by the server.
const (
	DevCmdSleep        = "sleep"
	DevCmdWake         = "wake"
	DevCmdMute         = "mute"
	DevCmdUnmute       = "unmute"
	DevCmdVolume       = "volume"
	DevCmdPanTilt      = "pan_tilt"
	DevCmdSetLight     = "set_light"
	DevCmdReboot       = "reboot"
	DevCmdUpdateConfig = "update_config"
)

// DeviceCommands lists every command a device must understand.
var DeviceCommands = []string{DevCmdSleep, DevCmdWake, DevCmdMute, DevCmdUnmute, DevCmdVolume, DevCmdPanTilt,
	DevCmdSetLight, DevCmdReboot, DevCmdUpdateConfig}

// MaxDeviceMessageBytes bounds one control channel frame.
const MaxDeviceMessageBytes = 16 << 10

// DeviceState is what a device reports of itself.
type DeviceState struct {
	Asleep bool    `json:"asleep"`
	Muted  bool    `json:"muted"`
	Volume int     `json:"volume"`
	Pan    float64 `json:"pan"`
	Tilt   float64 `json:"tilt"`
	Light  string  `json:"light,omitempty"`
}

// CommandArgs are a command's arguments (which apply depends on it).
type CommandArgs struct {
	Level  *int            `json:"level,omitempty"` // volume 0-100
	Pan    *float64        `json:"pan,omitempty"`   // pan_tilt, absolute degrees -180..180
	Tilt   *float64        `json:"tilt,omitempty"`  // -90..90
	Color  string          `json:"color,omitempty"` // set_light: #rrggbb
	Mode   string          `json:"mode,omitempty"`  // set_light: off, steady, pulse
	Config json.RawMessage `json:"config,omitempty"`
}

// DeviceMessage is one message on the control channel, either way.
type DeviceMessage struct {
	Type string `json:"type"`

	// hello
	Firmware     string   `json:"firmware,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`

	// heartbeat
	Battery      *int         `json:"battery,omitempty"`
	Charging     bool         `json:"charging,omitempty"`
	TemperatureC *float64     `json:"temperature_c,omitempty"`
	WifiDBm      *int         `json:"wifi_dbm,omitempty"`
	UptimeS      *int64       `json:"uptime_s,omitempty"`
	State        *DeviceState `json:"state,omitempty"`
	// Network is how the device is connected (wifi, ethernet, cellular,
	// 4g…), Camera and Microphone the devices in use, as the device names
	// them; each optional, at most MaxLabelLen characters.
	Network    string `json:"network,omitempty"`
	Camera     string `json:"camera,omitempty"`
	Microphone string `json:"microphone,omitempty"`

	// command, ack
	ID      string       `json:"id,omitempty"`
	Command string       `json:"command,omitempty"`
	Args    *CommandArgs `json:"args,omitempty"`
	OK      *bool        `json:"ok,omitempty"`
	Result  *DeviceState `json:"result,omitempty"`

	// welcome
	DeviceID          string `json:"device_id,omitempty"`
	HeartbeatInterval int    `json:"heartbeat_interval_s,omitempty"`

	// error (and a failed ack's error code)
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
	Fatal   bool   `json:"fatal,omitempty"`

	// credential
	Credential string `json:"credential,omitempty"`
}

// ErrBadDeviceMessage is wrapped by every DecodeDevice error.
var ErrBadDeviceMessage = errors.New("bad device message")

func devErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadDeviceMessage, fmt.Sprintf(format, args...))
}

// DecodeDevice parses and validates one message sent by a device.
func DecodeDevice(data []byte) (DeviceMessage, error) {
	var m DeviceMessage
	if len(data) > MaxDeviceMessageBytes {
		return m, devErr("message larger than %d bytes", MaxDeviceMessageBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return m, devErr("not a JSON object")
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return DeviceMessage{}, devErr("malformed JSON or wrong field types")
	}
	switch m.Type {
	case DevHello:
		if len(m.Firmware) > 64 || len(m.Capabilities) > 32 {
			return m, devErr("firmware or capabilities too long")
		}
		for _, c := range m.Capabilities {
			if c == "" || len(c) > 32 {
				return m, devErr("a capability must have 1 to 32 characters")
			}
		}
	case DevHeartbeat:
		// Battery, temperature and Wi-Fi signal may be absent (a device that
		// cannot know them says nothing rather than something made up), but
		// a reading given must be a real one.
		if m.Battery != nil && (*m.Battery < 0 || *m.Battery > 100) {
			return m, devErr("battery must be 0 to 100")
		}
		if m.TemperatureC != nil && (!finite(*m.TemperatureC) || *m.TemperatureC < -40 || *m.TemperatureC > 125) {
			return m, devErr("temperature_c must be -40 to 125")
		}
		if m.WifiDBm != nil && (*m.WifiDBm < -120 || *m.WifiDBm > 0) {
			return m, devErr("wifi_dbm must be -120 to 0")
		}
		if m.UptimeS == nil || *m.UptimeS < 0 {
			return m, devErr("uptime_s must be 0 or more")
		}
		for _, l := range []string{m.Network, m.Camera, m.Microphone} {
			if !label(l) {
				return m, devErr("network, camera and microphone are at most %d printable characters", MaxLabelLen)
			}
		}
		if m.State != nil {
			if err := checkState(m.State); err != nil {
				return m, err
			}
		}
	case DevAck:
		if m.ID == "" || len(m.ID) > MaxIDLen || m.OK == nil {
			return m, devErr("ack needs an id and ok")
		}
		if len(m.Error) > MaxIDLen {
			return m, devErr("error code too long")
		}
		if m.Result != nil {
			if err := checkState(m.Result); err != nil {
				return m, err
			}
		}
	case DevRotate:
	default:
		return m, devErr("unknown type %q", truncate(m.Type, 32))
	}
	return m, nil
}

func checkState(s *DeviceState) error {
	if s.Volume < 0 || s.Volume > 100 || !finite(s.Pan) || !finite(s.Tilt) || math.Abs(s.Pan) > 180 ||
		math.Abs(s.Tilt) > 90 || len(s.Light) > 32 {
		return devErr("state out of range")
	}
	return nil
}

// CheckCommand validates a command the server is about to send.
func CheckCommand(command string, args *CommandArgs) error {
	a := CommandArgs{}
	if args != nil {
		a = *args
	}
	switch command {
	case DevCmdSleep, DevCmdWake, DevCmdMute, DevCmdUnmute, DevCmdReboot:
		return nil
	case DevCmdVolume:
		if a.Level == nil || *a.Level < 0 || *a.Level > 100 {
			return devErr("volume needs level 0 to 100")
		}
	case DevCmdPanTilt:
		if a.Pan == nil || a.Tilt == nil || !finite(*a.Pan) || !finite(*a.Tilt) || math.Abs(*a.Pan) > 180 || math.Abs(*a.Tilt) > 90 {
			return devErr("pan_tilt needs pan -180..180 and tilt -90..90")
		}
	case DevCmdSetLight:
		if !validColor(a.Color) || (a.Mode != "off" && a.Mode != "steady" && a.Mode != "pulse") {
			return devErr("set_light needs color #rrggbb and mode off, steady or pulse")
		}
	case DevCmdUpdateConfig:
		if len(a.Config) == 0 || len(a.Config) > 8<<10 || a.Config[0] != '{' {
			return devErr("update_config needs a config object of at most 8 KiB")
		}
	default:
		return devErr("unknown command %q", truncate(command, 32))
	}
	return nil
}

func validColor(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// MaxLabelLen bounds a device's own names for its network and devices.
const MaxLabelLen = 64

// label says whether s is a short printable name ("" is none).
func label(s string) bool {
	if len(s) > MaxLabelLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
