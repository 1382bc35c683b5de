// Package wire holds the JSON messages of Seatlink's two client protocols,
// the WebSocket signaling protocol and the control data channel (see
// docs/PROTOCOL.md), with their strict decoders. The server and Seatlink's
// own clients (device-sim, tests) share these types; nothing here does I/O.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Signaling message types.
const (
	TypeJoin       = "join"
	TypeAnswer     = "answer"
	TypeCandidate  = "candidate"
	TypeRestartICE = "restart_ice"
	TypePing       = "ping"
	TypeLeave      = "leave"

	TypeJoined     = "joined"
	TypeOffer      = "offer"
	TypePeerJoined = "peer_joined"
	TypePeerLeft   = "peer_left"
	TypePong       = "pong"
	TypeError      = "error"
	TypeBye        = "bye"
	// TypeICEServers carries fresh STUN/TURN servers (a new TURN
	// credential) before the offer of an ICE restart the client asked for.
	TypeICEServers = "ice_servers"
	// TypeRobot tells a pupil how their classroom robot is: on the
	// device channel, asleep, its microphone and speaker muted by the
	// teacher. Sent after joined and on every change.
	TypeRobot = "robot"
)

// DeviceStatus is what a pupil is told of their robot's device.
type DeviceStatus struct {
	// Online: the robot's device channel is connected (a robot that
	// joins the class's media without one is never online here).
	Online bool `json:"online"`
	Asleep bool `json:"asleep"`
	Muted  bool `json:"muted"`
}

// Roles a client may join a link as.
const (
	RoleRobot = "robot"
	RolePupil = "pupil"
)

// Stable error codes of the signaling protocol.
const (
	CodeBadJSON           = "bad_json"
	CodeUnknownType       = "unknown_type"
	CodeBadMessage        = "bad_message"
	CodeNotJoined         = "not_joined"
	CodeAlreadyJoined     = "already_joined"
	CodeBadToken          = "bad_token"
	CodeRoleTaken         = "role_taken"
	CodeBadSDP            = "bad_sdp"
	CodeBadCandidate      = "bad_candidate"
	CodeUnexpectedMessage = "unexpected_message"
	CodeRateLimited       = "rate_limited"
	CodeMessageTooLarge   = "message_too_large"
	CodeJoinTimeout       = "join_timeout"
	CodeShuttingDown      = "shutting_down"
	CodeInternal          = "internal"
	CodeNoRobot           = "no_robot"
	CodeForbidden         = "forbidden"
	CodeRevoked           = "revoked"
	CodeAccessRemoved     = "access_removed"
)

// Limits of the signaling protocol.
const (
	MaxMessageBytes = 64 << 10
	MaxTokenLen     = 128
	MaxSDPLen       = 60 << 10
	MaxIDLen        = 64
)

// Publish says which media a client sends.
type Publish struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

// Candidate is an RTCIceCandidateInit.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// ICEServer is an RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Message is one signaling message in either direction; which fields are
// meaningful depends on Type.
type Message struct {
	Type string `json:"type"`

	// join
	Token   string   `json:"token,omitempty"`
	Role    string   `json:"role,omitempty"`
	Publish *Publish `json:"publish,omitempty"`
	Client  string   `json:"client,omitempty"`
	Resume  string   `json:"resume,omitempty"`

	// offer, answer
	SDP string `json:"sdp,omitempty"`

	// candidate
	Candidate *Candidate `json:"candidate,omitempty"`

	// ping, pong
	ID string `json:"id,omitempty"`

	// joined
	Peer       string      `json:"peer,omitempty"`
	Peers      []string    `json:"peers,omitempty"`
	ICEServers []ICEServer `json:"ice_servers,omitempty"`

	// error
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Fatal   bool   `json:"fatal,omitempty"`

	// bye
	Reason string `json:"reason,omitempty"`

	// robot
	Robot *DeviceStatus `json:"robot,omitempty"`
}

// Error is a protocol error with a stable code, sent to the client as an
// `error` message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// DecodeClient parses and validates one message sent by a client. The error,
// when not nil, is always an *Error whose code says what was wrong.
func DecodeClient(data []byte) (Message, error) {
	var m Message
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return m, Errorf(CodeBadJSON, "a message must be a JSON object")
	}
	if err := json.Unmarshal(data, &m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Message{}, Errorf(CodeBadMessage, "field %q has the wrong type", typeErr.Field)
		}
		return Message{}, Errorf(CodeBadJSON, "malformed JSON")
	}
	switch m.Type {
	case TypeJoin:
		if m.Role != RoleRobot && m.Role != RolePupil {
			return m, Errorf(CodeBadMessage, "role must be %q or %q", RoleRobot, RolePupil)
		}
		// A pupil may join with their session cookie instead of a token.
		if (m.Token == "" && m.Role == RoleRobot) || len(m.Token) > MaxTokenLen {
			return m, Errorf(CodeBadMessage, "join needs a token of 1 to %d characters", MaxTokenLen)
		}
		if len(m.Client) > 256 {
			return m, Errorf(CodeBadMessage, "client is longer than 256 characters")
		}
		if len(m.Resume) > MaxTokenLen {
			return m, Errorf(CodeBadMessage, "resume is longer than %d characters", MaxTokenLen)
		}
		if m.Publish == nil {
			m.Publish = &Publish{Audio: true}
		}
	case TypeAnswer:
		if m.SDP == "" || len(m.SDP) > MaxSDPLen {
			return m, Errorf(CodeBadMessage, "answer needs an sdp of 1 to %d bytes", MaxSDPLen)
		}
		if !strings.HasPrefix(m.SDP, "v=0") {
			return m, Errorf(CodeBadSDP, "sdp must start with v=0")
		}
	case TypeCandidate:
		if m.Candidate == nil {
			return m, Errorf(CodeBadMessage, "candidate message needs a candidate object")
		}
		if len(m.Candidate.Candidate) > 512 {
			return m, Errorf(CodeBadCandidate, "candidate is longer than 512 characters")
		}
	case TypePing:
		if len(m.ID) > MaxIDLen {
			return m, Errorf(CodeBadMessage, "id is longer than %d characters", MaxIDLen)
		}
	case TypeRestartICE, TypeLeave:
	case "":
		return m, Errorf(CodeUnknownType, "message has no type")
	default:
		return m, Errorf(CodeUnknownType, "unknown message type %q", truncate(m.Type, 32))
	}
	return m, nil
}

// DecodeServer parses one message sent by the server (for clients).
func DecodeServer(data []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("wire: bad server message: %w", err)
	}
	if m.Type == "" {
		return m, errors.New("wire: server message without type")
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
