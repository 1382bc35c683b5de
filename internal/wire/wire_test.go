package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeClient(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // error code, or "" for success
	}{
		{`{"type":"join","token":"t","role":"pupil"}`, ""},
		{`{"type":"join","token":"t","role":"robot","publish":{"audio":true,"video":true}}`, ""},
		{`{"type":"join","token":"","role":"robot"}`, CodeBadMessage},
		{`{"type":"join","role":"pupil"}`, ""},
		{`{"type":"join","token":"t","role":"teacher"}`, CodeBadMessage},
		{`{"type":"join","token":"` + strings.Repeat("t", MaxTokenLen+1) + `","role":"pupil"}`, CodeBadMessage},
		{`{"type":"join","token":7,"role":"pupil"}`, CodeBadMessage},
		{`{"type":"answer","sdp":"v=0\r\n"}`, ""},
		{`{"type":"answer"}`, CodeBadMessage},
		{`{"type":"answer","sdp":"o=- 1"}`, CodeBadSDP},
		{`{"type":"candidate","candidate":{"candidate":"","sdpMid":"0"}}`, ""},
		{`{"type":"candidate"}`, CodeBadMessage},
		{`{"type":"ping"}`, ""},
		{`{"type":"ping","id":"` + strings.Repeat("i", MaxIDLen+1) + `"}`, CodeBadMessage},
		{`{"type":"restart_ice"}`, ""},
		{`{"type":"leave"}`, ""},
		{`{"type":"offer","sdp":"v=0"}`, CodeUnknownType},
		{`{"type":""}`, CodeUnknownType},
		{`{}`, CodeUnknownType},
		{`{"type":"ping"`, CodeBadJSON},
		{`null`, CodeBadJSON},
		{`"join"`, CodeBadJSON},
		{``, CodeBadJSON},
	} {
		_, err := DecodeClient([]byte(tc.in))
		got := ""
		if err != nil {
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("%s: error %v is not a *wire.Error", tc.in, err)
			}
			got = we.Code
		}
		if got != tc.want {
			t.Errorf("DecodeClient(%.60s) code = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJoinDefaultsToAudioOnly(t *testing.T) {
	m, err := DecodeClient([]byte(`{"type":"join","token":"t","role":"pupil"}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Publish == nil || !m.Publish.Audio || m.Publish.Video {
		t.Fatalf("publish = %+v, want audio only (the pupil's camera is off by default)", m.Publish)
	}
}

func TestDecodeControl(t *testing.T) {
	for _, tc := range []struct {
		in     string
		ok     bool
		wantID string
	}{
		{`{"type":"command","id":"1","command":"raise_hand"}`, true, "1"},
		{`{"type":"command","id":"1","command":"lower_hand"}`, true, "1"},
		{`{"type":"command","id":"c1","command":"chat","text":"Can I answer question 3?"}`, true, "c1"},
		{`{"type":"command","id":"c2","command":"chat","text":"   "}`, false, "c2"},
		{`{"type":"command","id":"c3","command":"chat"}`, false, "c3"},
		{`{"type":"command","id":"c4","command":"chat","text":"` + strings.Repeat("é", 281) + `"}`, false, "c4"},
		{`{"type":"command","id":"c5","command":"chat","text":"bell\u0007"}`, false, "c5"},
		{`{"type":"command","id":"e1","command":"expression","expression":"happy"}`, true, "e1"},
		{`{"type":"command","id":"e2","command":"expression","expression":"angry"}`, false, "e2"},
		{`{"type":"command","id":"e3","command":"expression"}`, false, "e3"},
		{`{"type":"ack","id":"e4","ok":true,"state":{"expression":"sad"}}`, true, "e4"},
		{`{"type":"ack","id":"e5","ok":true,"state":{"expression":"<script>"}}`, false, "e5"},
		{`{"type":"command","id":"c6","command":"raise_hand","text":"hi"}`, false, "c6"},
		{`{"type":"command","id":"2","command":"turn","pan":-15}`, true, "2"},
		{`{"type":"command","id":"2","command":"turn","tilt":90}`, true, "2"},
		{`{"type":"command","id":"2","command":"turn","pan":181}`, false, "2"},
		{`{"type":"command","id":"2","command":"turn","tilt":-91}`, false, "2"},
		{`{"type":"command","id":"2","command":"turn"}`, false, "2"},
		{`{"type":"command","id":"3","command":"whisper","on":true}`, true, "3"},
		{`{"type":"command","id":"3","command":"passive"}`, false, "3"},
		{`{"type":"command","id":"3","command":"raise_hand","on":true}`, false, "3"},
		{`{"type":"command","id":"4","command":"self_destruct"}`, false, "4"},
		{`{"type":"command","command":"raise_hand"}`, false, ""},
		{`{"type":"command","id":"` + strings.Repeat("x", 65) + `","command":"raise_hand"}`, false, ""},
		{`{"type":"ack","id":"5","ok":true,"state":{"hand":true,"pan":1,"tilt":2,"whisper":false,"passive":false}}`, true, "5"},
		{`{"type":"ack","id":"5"}`, false, "5"},
		{`{"type":"shout","id":"6"}`, false, "6"},
		{`{"type":"notice","id":"n1","notice":"video_paused"}`, true, "n1"},
		{`{"type":"notice","id":"n2","notice":"video_resumed"}`, true, "n2"},
		{`{"type":"notice","id":"n3","notice":"self_destruct"}`, false, "n3"},
		{`{"type":"notice","id":"n4"}`, false, "n4"},
		{`{"type":"command","id":"7","command":"turn","pan":"left"}`, false, "7"},
		{`not json`, false, ""},
		{`{"type":"command","id":"8","command":"raise_hand","pad":"` + strings.Repeat("p", MaxControlBytes) + `"}`, false, ""},
	} {
		c, err := DecodeControl([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("DecodeControl(%.60s) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadControl) {
			t.Errorf("error %v does not wrap ErrBadControl", err)
		}
		if c.ID != tc.wantID {
			t.Errorf("DecodeControl(%.60s) id = %q, want %q", tc.in, c.ID, tc.wantID)
		}
	}
}

func TestCleanKeepsOnlyValidatedFields(t *testing.T) {
	c, err := DecodeControl([]byte(`{"type":"command","id":"1","command":"raise_hand","error":"x","state":{"hand":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c.Clean())
	if got, want := string(b), `{"type":"command","id":"1","command":"raise_hand"}`; got != want {
		t.Fatalf("Clean = %s, want %s", got, want)
	}
}

func FuzzDecodeClient(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","token":"t","role":"pupil","publish":{"audio":true}}`,
		`{"type":"answer","sdp":"v=0\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"ping","id":"x"}`, `{"type":`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeClient(data)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || we.Code == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		// Whatever is accepted is well-formed for its type.
		switch m.Type {
		case TypeJoin:
			if (m.Token == "" && m.Role != RolePupil) || len(m.Token) > MaxTokenLen || (m.Role != RoleRobot && m.Role != RolePupil) || m.Publish == nil {
				t.Fatalf("accepted bad join %+v", m)
			}
		case TypeAnswer:
			if !strings.HasPrefix(m.SDP, "v=0") || len(m.SDP) > MaxSDPLen {
				t.Fatalf("accepted bad answer")
			}
		case TypeCandidate:
			if m.Candidate == nil {
				t.Fatal("accepted candidate without candidate")
			}
		case TypePing, TypeRestartICE, TypeLeave:
		default:
			t.Fatalf("accepted type %q", m.Type)
		}
	})
}

func FuzzDecodeControl(f *testing.F) {
	for _, s := range []string{
		`{"type":"command","id":"1","command":"turn","pan":10,"tilt":-5}`,
		`{"type":"command","id":"1","command":"whisper","on":false}`,
		`{"type":"ack","id":"1","ok":true,"state":{"hand":true}}`, `{"type":"notice","id":"1","notice":"video_paused"}`, `{`, `{"type":"command","id":"1","command":"turn","pan":1e309}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeControl(data)
		if err != nil {
			return
		}
		if c.ID == "" || len(c.ID) > MaxIDLen {
			t.Fatalf("accepted id %q", c.ID)
		}
		if c.Type == ControlCommand {
			if c.Pan != nil && (*c.Pan > MaxPan || *c.Pan < -MaxPan || *c.Pan != *c.Pan) {
				t.Fatalf("accepted pan %v", *c.Pan)
			}
			if (c.Command == CmdWhisper || c.Command == CmdPassive) && c.On == nil {
				t.Fatal("accepted toggle without on")
			}
		}
		// What is relayed re-encodes and decodes to the same thing.
		b, err := json.Marshal(c.Clean())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeControl(b); err != nil {
			t.Fatalf("clean message %s does not decode: %v", b, err)
		}
	})
}
