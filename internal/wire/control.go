package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Control data channel message types and commands.
const (
	ControlCommand = "command"
	ControlAck     = "ack"
	// ControlNotice is the server telling a participant about its own
	// media (Notice says what); nobody else sends one.
	ControlNotice = "notice"

	CmdRaiseHand = "raise_hand"
	CmdLowerHand = "lower_hand"
	CmdTurn      = "turn"
	CmdWhisper   = "whisper"
	CmdPassive   = "passive"
	// CmdChat is a short text message the robot shows to the class.
	CmdChat = "chat"
	// CmdExpression sets the face the robot or station shows for the
	// pupil (one of Expressions).
	CmdExpression = "expression"
)

// Notices the server sends on the control channel.
const (
	// NoticeVideoPaused: the pupil's line carries too little for video
	// and audio together, so the server holds the video back and the
	// sound goes on; NoticeVideoResumed: the video comes again.
	NoticeVideoPaused  = "video_paused"
	NoticeVideoResumed = "video_resumed"
)

// Expressions are the faces a pupil may choose for their robot's eyes.
var Expressions = []string{"neutral", "happy", "sad", "confused", "thinking", "laughing", "surprised"}

// MaxChatRunes bounds a chat message.
const MaxChatRunes = 280

// Control error codes, carried in an ack with ok=false.
const (
	CtlBadCommand        = "bad_command"
	CtlRobotNotConnected = "robot_not_connected"
	CtlRateLimited       = "rate_limited"
	CtlNotAllowed        = "not_allowed"
)

// MaxControlBytes bounds one control channel message.
const MaxControlBytes = 4 << 10

// Turn limits, in degrees, for one relative turn.
const (
	MaxPan  = 180
	MaxTilt = 90
)

// RobotState is what a robot reports after each command.
type RobotState struct {
	Hand    bool    `json:"hand"`
	Pan     float64 `json:"pan"`
	Tilt    float64 `json:"tilt"`
	Whisper bool    `json:"whisper"`
	Passive bool    `json:"passive"`
	// Expression is the face shown ("" on a robot that has no face).
	Expression string `json:"expression,omitempty"`
}

// Control is one message on the control data channel.
type Control struct {
	Type    string   `json:"type"`
	ID      string   `json:"id"`
	Command string   `json:"command,omitempty"`
	Pan     *float64 `json:"pan,omitempty"`
	Tilt    *float64 `json:"tilt,omitempty"`
	On      *bool    `json:"on,omitempty"`
	Text    string   `json:"text,omitempty"`
	// Expression is the face an expression command asks for.
	Expression string      `json:"expression,omitempty"`
	OK         *bool       `json:"ok,omitempty"`
	Error      string      `json:"error,omitempty"`
	State      *RobotState `json:"state,omitempty"`
	// Notice is what a notice says (one of the Notice constants).
	Notice string `json:"notice,omitempty"`
}

// ErrBadControl is wrapped by every error DecodeControl returns.
var ErrBadControl = errors.New("bad control message")

type controlError struct{ msg string }

func (e controlError) Error() string { return "bad control message: " + e.msg }
func (e controlError) Unwrap() error { return ErrBadControl }

// DecodeControl parses and validates one control message. It returns the
// message's id even when the rest is invalid, so that the sender can be told
// which of its commands failed.
func DecodeControl(data []byte) (Control, error) {
	var c Control
	if len(data) > MaxControlBytes {
		return c, controlError{"message too large"}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return c, controlError{"not a JSON object"}
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return Control{ID: c.ID}, controlError{"malformed JSON or wrong field types"}
	}
	if c.ID == "" || len(c.ID) > MaxIDLen {
		c.ID = ""
		return c, controlError{"id must have 1 to 64 characters"}
	}
	switch c.Type {
	case ControlCommand:
		return c, validateCommand(&c)
	case ControlAck:
		if c.OK == nil {
			return c, controlError{"ack needs ok"}
		}
		if len(c.Error) > MaxIDLen {
			return c, controlError{"error code too long"}
		}
		if c.State != nil && !(finite(c.State.Pan) && finite(c.State.Tilt)) {
			return c, controlError{"state angles must be finite"}
		}
		if c.State != nil && c.State.Expression != "" && !slices.Contains(Expressions, c.State.Expression) {
			return c, controlError{"state expression unknown"}
		}
		return c, nil
	case ControlNotice:
		if c.Notice != NoticeVideoPaused && c.Notice != NoticeVideoResumed {
			return c, controlError{"unknown notice"}
		}
		return c, nil
	default:
		return c, controlError{"type must be command, ack or notice"}
	}
}

func validateCommand(c *Control) error {
	switch c.Command {
	case CmdRaiseHand, CmdLowerHand:
		if c.Pan != nil || c.Tilt != nil || c.On != nil || c.Text != "" {
			return controlError{c.Command + " takes no arguments"}
		}
	case CmdChat:
		n := utf8.RuneCountInString(c.Text)
		if strings.TrimSpace(c.Text) == "" || n > MaxChatRunes || !utf8.ValidString(c.Text) {
			return controlError{"chat needs text of 1 to 280 characters"}
		}
		for _, r := range c.Text {
			if unicode.IsControl(r) && r != '\n' {
				return controlError{"chat text must not hold control characters"}
			}
		}
	case CmdTurn:
		if c.Pan == nil && c.Tilt == nil {
			return controlError{"turn needs pan or tilt"}
		}
		if c.Pan != nil && !(finite(*c.Pan) && math.Abs(*c.Pan) <= MaxPan) {
			return controlError{"pan must be between -180 and 180 degrees"}
		}
		if c.Tilt != nil && !(finite(*c.Tilt) && math.Abs(*c.Tilt) <= MaxTilt) {
			return controlError{"tilt must be between -90 and 90 degrees"}
		}
	case CmdWhisper, CmdPassive:
		if c.On == nil {
			return controlError{c.Command + " needs on: true or false"}
		}
	case CmdExpression:
		if !slices.Contains(Expressions, c.Expression) {
			return controlError{"expression must be one of " + strings.Join(Expressions, ", ")}
		}
	default:
		return controlError{"unknown command"}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Clean returns the message with only the fields its type and command use,
// so that what is relayed is exactly what was validated.
func (c Control) Clean() Control {
	out := Control{Type: c.Type, ID: c.ID}
	switch c.Type {
	case ControlCommand:
		out.Command = c.Command
		switch c.Command {
		case CmdTurn:
			out.Pan, out.Tilt = c.Pan, c.Tilt
		case CmdWhisper, CmdPassive:
			out.On = c.On
		case CmdChat:
			out.Text = c.Text
		case CmdExpression:
			out.Expression = c.Expression
		}
	case ControlAck:
		out.OK, out.Error, out.State = c.OK, c.Error, c.State
	case ControlNotice:
		out.Notice = c.Notice
	}
	return out
}

// Notice builds a notice from the server.
func Notice(id, notice string) Control { return Control{Type: ControlNotice, ID: id, Notice: notice} }

// Ack builds an acknowledgement.
func Ack(id string, ok bool, code string, state *RobotState) Control {
	return Control{Type: ControlAck, ID: id, OK: &ok, Error: code, State: state}
}
