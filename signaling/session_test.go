package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"seatlink/devices"
	"seatlink/internal/store/storetest"
	"seatlink/internal/wire"
	"seatlink/media"
	"seatlink/people"
	"seatlink/web"
)

type fixture struct {
	srv     *httptest.Server
	people  *people.Store
	links   *devices.Links
	devices *devices.Registry
	hub     *devices.Hub
	link    testLink
}

type testLink struct{ RobotToken, PupilToken, PupilID, RobotID, LAID string }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	log := quietLog()
	sfu, err := media.New(media.Config{UDPAddr: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	ps := people.New(db, people.Config{Hash: people.HashParams{Time: 1, Memory: 1024, Threads: 1}, Logger: log})
	f := &fixture{people: ps, links: devices.NewLinks(db), devices: devices.NewRegistry(db, ps, nil)}
	f.hub = devices.NewHub(f.devices, time.Second, nil, log)
	f.link = f.newLink(t)
	s := New(cfg, Deps{SFU: sfu, Links: f.links, People: ps, Devices: f.devices, Hub: f.hub, Web: web.Static(), Logger: log})
	s.SetReady(true)
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		_ = sfu.Close()
		f.srv.Close()
	})
	return f
}

// newLink makes an LA, school and pupil with a robot link and a join link.
func (f *fixture) newLink(t *testing.T) testLink {
	t.Helper()
	ctx := context.Background()
	sys := people.System
	la, err := f.people.CreateLA(ctx, sys, "LA "+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	sys.LAID = la.ID
	school, err := f.people.CreateSchool(ctx, sys, la.ID, "School")
	if err != nil {
		t.Fatal(err)
	}
	year := 6
	p, err := f.people.CreatePupil(ctx, sys, people.PupilInput{SchoolID: school.ID, PupilNumber: "P1", DisplayName: "P", YearGroup: &year})
	if err != nil {
		t.Fatal(err)
	}
	robot, cred, err := f.devices.ProvisionRobot(ctx, sys, "Robot", school.ID, "", p.ID)
	if err != nil {
		t.Fatal(err)
	}
	jl, err := f.people.IssueJoinLink(ctx, sys, p.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return testLink{RobotToken: cred, PupilToken: jl.Token, PupilID: p.ID, RobotID: robot.ID, LAID: la.ID}
}

type client struct {
	t    *testing.T
	conn *websocket.Conn
}

func (f *fixture) dial(t *testing.T) *client {
	t.Helper()
	url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) send(m wire.Message) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	c.sendRaw(string(b))
}

// next reads messages until one of type typ, skipping offers, candidates
// and the like; it fails on a read error.
func (c *client) next(typ string) wire.Message {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		var m wire.Message
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Fatalf("server sent non-JSON %q", data)
		}
		if m.Type == typ {
			return m
		}
	}
}

// closeCode reads until the server closes and returns the close code.
func (c *client) closeCode() int {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

func (f *fixture) join(c *client, token, role string) wire.Message {
	c.send(wire.Message{Type: wire.TypeJoin, Token: token, Role: role, Publish: &wire.Publish{Audio: true}})
	return c.next(wire.TypeJoined)
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, Config{JoinTimeout: 300 * time.Millisecond, MessageRate: 20, MessageBurst: 40})
	big := `{"type":"ping","id":"` + strings.Repeat("x", wire.MaxMessageBytes) + `"}`
	cases := []struct {
		name string
		// joinAs joins first with the link's token for that role ("" = no join).
		joinAs string
		send   func(c *client)
		code   string
		fatal  bool
		close  int
	}{
		{name: "malformed JSON", send: func(c *client) { c.sendRaw(`{"type":`) }, code: wire.CodeBadJSON},
		{name: "not an object", send: func(c *client) { c.sendRaw(`[1,2]`) }, code: wire.CodeBadJSON},
		{name: "binary frame", send: func(c *client) {
			_ = c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		}, code: wire.CodeBadJSON},
		{name: "unknown type", send: func(c *client) { c.sendRaw(`{"type":"dance"}`) }, code: wire.CodeUnknownType},
		{name: "no type", send: func(c *client) { c.sendRaw(`{"token":"x"}`) }, code: wire.CodeUnknownType},
		{name: "wrong field type", send: func(c *client) { c.sendRaw(`{"type":"ping","id":5}`) }, code: wire.CodeBadMessage},
		{name: "answer before join", send: func(c *client) { c.sendRaw(`{"type":"answer","sdp":"v=0"}`) },
			code: wire.CodeNotJoined, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "join without role", send: func(c *client) { c.sendRaw(`{"type":"join","token":"abc"}`) },
			code: wire.CodeBadMessage, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "pupil without token or session", send: func(c *client) { c.sendRaw(`{"type":"join","role":"pupil"}`) },
			code: wire.CodeBadToken, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "robot with a pupil's join token", send: func(c *client) {
			c.send(wire.Message{Type: wire.TypeJoin, Token: f.link.PupilToken, Role: wire.RoleRobot})
		}, code: wire.CodeBadToken, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "robot without token", send: func(c *client) { c.sendRaw(`{"type":"join","role":"robot"}`) },
			code: wire.CodeBadMessage, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "unknown token", send: func(c *client) {
			c.send(wire.Message{Type: wire.TypeJoin, Token: "not-a-real-token", Role: wire.RolePupil})
		}, code: wire.CodeBadToken, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "robot token as pupil", send: func(c *client) {
			c.send(wire.Message{Type: wire.TypeJoin, Token: f.link.RobotToken, Role: wire.RolePupil})
		}, code: wire.CodeBadToken, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "invalid SDP", joinAs: wire.RolePupil, send: func(c *client) {
			c.sendRaw(`{"type":"answer","sdp":"v=0\r\nthis is not sdp"}`)
		}, code: wire.CodeBadSDP},
		{name: "SDP not starting v=0", joinAs: wire.RolePupil, send: func(c *client) {
			c.sendRaw(`{"type":"answer","sdp":"hello"}`)
		}, code: wire.CodeBadSDP},
		{name: "bad candidate", joinAs: wire.RolePupil, send: func(c *client) {
			c.sendRaw(`{"type":"candidate","candidate":{"candidate":"candidate:garbage","sdpMid":"0"}}`)
		}, code: wire.CodeBadCandidate},
		{name: "second join", joinAs: wire.RolePupil, send: func(c *client) {
			c.send(wire.Message{Type: wire.TypeJoin, Token: f.link.PupilToken, Role: wire.RolePupil})
		}, code: wire.CodeAlreadyJoined},
		{name: "message flood", send: func(c *client) {
			for i := 0; i < 200; i++ {
				if c.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)) != nil {
					return
				}
			}
		}, code: wire.CodeRateLimited, fatal: true, close: websocket.ClosePolicyViolation},
		{name: "oversized message", send: func(c *client) { c.sendRaw(big) },
			code: wire.CodeMessageTooLarge, fatal: true, close: websocket.CloseMessageTooBig},
		{name: "no join in time", send: func(c *client) {}, code: wire.CodeJoinTimeout, fatal: true,
			close: websocket.ClosePolicyViolation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := f.dial(t)
			if tc.joinAs != "" {
				f.join(c, f.link.PupilToken, tc.joinAs)
				// Leave and wait for it, so the next case's pupil finds the role free.
				defer func() {
					c.send(wire.Message{Type: wire.TypeLeave})
					c.next(wire.TypeBye)
				}()
			}
			tc.send(c)
			m := c.next(wire.TypeError)
			if m.Code != tc.code || m.Fatal != tc.fatal || m.Message == "" {
				t.Fatalf("got error %q (fatal %v, %q), want %q (fatal %v)", m.Code, m.Fatal, m.Message, tc.code, tc.fatal)
			}
			if tc.fatal {
				if got := c.closeCode(); got != tc.close {
					t.Fatalf("close code %d, want %d", got, tc.close)
				}
				return
			}
			// A non-fatal error leaves the connection usable.
			c.send(wire.Message{Type: wire.TypePing, ID: "still-there"})
			if p := c.next(wire.TypePong); p.ID != "still-there" {
				t.Fatalf("pong id %q", p.ID)
			}
		})
	}

	// The server kept serving: health is fine and a robot can still join.
	resp, err := http.Get(f.srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after bad input: %v %v", resp, err)
	}
	resp.Body.Close()
	c := f.dial(t)
	if j := f.join(c, f.link.RobotToken, wire.RoleRobot); j.Role != wire.RoleRobot || j.Resume == "" {
		t.Fatalf("joined = %+v", j)
	}
	c.next(wire.TypeOffer)
}

func TestSecondRobotIsRefused(t *testing.T) {
	f := newFixture(t, Config{})
	first := f.dial(t)
	f.join(first, f.link.RobotToken, wire.RoleRobot)
	second := f.dial(t)
	second.send(wire.Message{Type: wire.TypeJoin, Token: f.link.RobotToken, Role: wire.RoleRobot})
	if m := second.next(wire.TypeError); m.Code != wire.CodeRoleTaken || !m.Fatal {
		t.Fatalf("second robot got %+v, want fatal role_taken", m)
	}
	if code := second.closeCode(); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d", code)
	}
	// The first robot is untouched.
	first.send(wire.Message{Type: wire.TypePing, ID: "1"})
	first.next(wire.TypePong)
}

func TestPupilIsToldWhenRobotArrivesAndLeaves(t *testing.T) {
	f := newFixture(t, Config{})
	pupil := f.dial(t)
	if j := f.join(pupil, f.link.PupilToken, wire.RolePupil); len(j.Peers) != 0 {
		t.Fatalf("peers = %v, want none", j.Peers)
	}
	robot := f.dial(t)
	if j := f.join(robot, f.link.RobotToken, wire.RoleRobot); len(j.Peers) != 1 || j.Peers[0] != wire.RolePupil {
		t.Fatalf("robot sees peers %v, want [pupil]", j.Peers)
	}
	if m := pupil.next(wire.TypePeerJoined); m.Role != wire.RoleRobot {
		t.Fatalf("peer_joined role %q", m.Role)
	}
	robot.send(wire.Message{Type: wire.TypeLeave})
	if m := robot.next(wire.TypeBye); m.Reason != "left" {
		t.Fatalf("bye reason %q", m.Reason)
	}
	if m := pupil.next(wire.TypePeerLeft); m.Role != wire.RoleRobot {
		t.Fatalf("peer_left role %q", m.Role)
	}
}

func TestHealthReadyAndErrors(t *testing.T) {
	f := newFixture(t, Config{})
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/healthz", 200, ""},
		{"GET", "/readyz", 200, ""},
		{"GET", "/no-such-page", 404, "not_found"},
		{"POST", "/healthz", 405, "method_not_allowed"},
	} {
		req, _ := http.NewRequest(tc.method, f.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body.Error.Code != tc.code {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, body.Error.Code, tc.status, tc.code)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: security headers missing", tc.path)
		}
	}
}

func TestWebRoutes(t *testing.T) {
	f := newFixture(t, Config{})
	hs := f.srv
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path, wantType string
		status         int
	}{
		{"/join", "text/html", 200},
		{"/staff", "text/html", 200},
		{"/parent", "text/html", 200},
		{"/parent/invite", "text/html", 200},
		{"/static/staff.js", "text/javascript", 200},
		{"/static/pupil.js", "text/javascript", 200},
		{"/static/pupil.css", "text/css", 200},
		{"/static/", "application/json", 404},
		{"/static/nope.js", "text/plain", 404},
		{"/", "", 302},
	} {
		resp, err := client.Get(hs.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.wantType)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
	}
}

// The WebSocket join checks who is joining: a pupil joins only their own
// link, by their session; a staff member's session is not a pupil's.
func TestWebSocketJoinChecksTheSession(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	dialWithCookie := func(cookie string) *client {
		url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"
		h := http.Header{}
		if cookie != "" {
			h.Set("Cookie", sessionCookie+"="+cookie)
		}
		conn, _, err := websocket.DefaultDialer.Dial(url, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return &client{t: t, conn: conn}
	}
	pupilSess, _, err := f.people.RedeemJoinToken(ctx, f.link.PupilToken)
	if err != nil {
		t.Fatal(err)
	}
	// A staff session (an LA admin of the same LA) is refused as a pupil.
	la, _ := f.people.CreateLA(ctx, people.System, "Staff LA")
	sys := people.System
	sys.LAID = la.ID
	if _, err := f.people.CreateStaff(ctx, sys, people.StaffInput{Role: people.RoleAdmin, Email: "ws-admin@x.test", Name: "A",
		Password: "a long enough password"}); err != nil {
		t.Fatal(err)
	}
	staffSess, _, err := f.people.StaffSignIn(ctx, "ws-admin@x.test", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cookie, code string
	}{
		{"no session", "", wire.CodeBadToken},
		{"made-up session", "not-a-session", wire.CodeBadToken},
		{"staff session", staffSess.Token, wire.CodeForbidden}, // no adult holds a pupil's session
	} {
		c := dialWithCookie(tc.cookie)
		c.sendRaw(`{"type":"join","role":"pupil"}`)
		if m := c.next(wire.TypeError); m.Code != tc.code || !m.Fatal {
			t.Errorf("%s: %+v, want fatal %s", tc.name, m, tc.code)
		}
	}
	// The pupil's remembered device joins its own link with no token.
	c := dialWithCookie(pupilSess.Token)
	c.sendRaw(`{"type":"join","role":"pupil"}`)
	if j := c.next(wire.TypeJoined); j.Role != wire.RolePupil {
		t.Fatalf("joined %+v", j)
	}
	// A pupil whose robot is not paired yet is told so.
	other := f.newLink(t)
	sysOther := people.System
	sysOther.LAID = other.LAID
	if err := f.devices.Revoke(ctx, sysOther, other.RobotID); err != nil {
		t.Fatal(err)
	}
	c2 := f.dial(t)
	c2.send(wire.Message{Type: wire.TypeJoin, Token: other.PupilToken, Role: wire.RolePupil})
	if m := c2.next(wire.TypeError); m.Code != wire.CodeNoRobot {
		t.Fatalf("unpaired pupil: %+v", m)
	}
}

func dialDevice(t *testing.T, f *fixture, cred string) (*websocket.Conn, *http.Response, error) {
	url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/device/ws"
	h := http.Header{}
	h.Set("Authorization", "Bearer "+cred)
	return websocket.DefaultDialer.Dial(url, h)
}

func readDevice(t *testing.T, c *websocket.Conn, typ string) wire.DeviceMessage {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m wire.DeviceMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
	}
}

// A device that stops sending (its network gone, the socket still open)
// is offline after two heartbeat intervals, for that reason; bad device
// messages get an error and change nothing.
func TestDeviceChannelHeartbeatTimeoutAndBadMessages(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	if _, resp, err := dialDevice(t, f, "not-a-credential"); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("bad credential: %v %v", resp, err)
	}
	c, _, err := dialDevice(t, f, f.link.RobotToken)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	welcome := readDevice(t, c, wire.DevWelcome)
	if welcome.DeviceID != f.link.RobotID || welcome.HeartbeatInterval != 1 {
		t.Fatalf("welcome %+v", welcome)
	}
	// Before hello, nothing else is taken.
	_ = c.WriteJSON(map[string]any{"type": "heartbeat", "battery": 50, "temperature_c": 30, "wifi_dbm": -60, "uptime_s": 5})
	if m := readDevice(t, c, wire.DevError); m.Code != "hello_first" {
		t.Fatalf("heartbeat before hello: %+v", m)
	}
	_ = c.WriteJSON(map[string]any{"type": "hello", "firmware": "test/1"})
	waitForT(t, 5*time.Second, func() bool { return f.hub.Status(f.link.RobotID).Online })
	for _, bad := range []string{`{"type":"heartbeat","battery":900}`, `{"type":"ack"}`, `{"type":"dance"}`, `[1]`, `{"type":`} {
		_ = c.WriteMessage(websocket.TextMessage, []byte(bad))
		if m := readDevice(t, c, wire.DevError); m.Code != wire.CodeBadMessage || m.Fatal {
			t.Errorf("%s: %+v", bad, m)
		}
	}
	d, err := f.devices.Get(ctx, people.System, f.link.RobotID)
	if err != nil || d.Presence != "online" || d.Firmware != "test/1" {
		t.Fatalf("registry after bad messages: %+v %v", d, err)
	}
	// A low battery raises an alert for the LA's admin.
	_ = c.WriteJSON(map[string]any{"type": "heartbeat", "battery": 12, "temperature_c": 30, "wifi_dbm": -60, "uptime_s": 5})
	admin := people.System
	admin.LAID = f.link.LAID
	waitForT(t, 3*time.Second, func() bool {
		al, _ := f.hub.Alerts(ctx, admin)
		return len(al) == 1 && al[0].Kind == devices.AlertBatteryLow
	})
	// A device that cannot know its battery (a browser station) says
	// nothing of it: unknown, not empty, and no battery alert.
	_ = c.WriteJSON(map[string]any{"type": "heartbeat", "charging": false, "uptime_s": 6, "network": "wifi", "camera": "HD Webcam"})
	waitForT(t, 3*time.Second, func() bool {
		tel := f.hub.Status(f.link.RobotID).Telemetry
		return tel != nil && tel.UptimeS == 6 && tel.Network == "wifi" && tel.Camera == "HD Webcam"
	})
	if tel := f.hub.Status(f.link.RobotID).Telemetry; tel.Battery != nil || tel.TemperatureC != nil || tel.WifiDBm != nil {
		t.Fatalf("unknown readings stored as %+v", tel)
	}
	if al, _ := f.hub.Alerts(ctx, admin); len(al) != 0 {
		t.Fatalf("alerts with the battery unknown: %+v", al)
	}
	// Silence: offline within two intervals (2 s here), reason heartbeat_timeout.
	silent := time.Now()
	waitForT(t, 3*time.Second, func() bool { return !f.hub.Status(f.link.RobotID).Online })
	if el := time.Since(silent); el > 2500*time.Millisecond {
		t.Errorf("offline after %s, want about 2 s", el)
	}
	d, _ = f.devices.Get(ctx, people.System, f.link.RobotID)
	if d.Presence != "offline" || d.PresenceReason != "heartbeat_timeout" {
		t.Fatalf("presence %s (%s)", d.Presence, d.PresenceReason)
	}
}

func waitForT(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A browser (the classroom station) cannot set Authorization on a
// WebSocket: it offers its credential as a subprotocol beside
// seatlink-device, and the server names seatlink-device back. A wrong
// credential, a credential without the protocol's name, and a page of
// another site are refused.
func TestDeviceChannelCredentialAsSubprotocol(t *testing.T) {
	f := newFixture(t, Config{})
	url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/device/ws"
	dial := func(origin string, protocols ...string) (*websocket.Conn, *http.Response, error) {
		d := websocket.Dialer{Subprotocols: protocols, HandshakeTimeout: 5 * time.Second}
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		return d.Dial(url, h)
	}
	c, resp, err := dial(f.srv.URL, "seatlink-device", "bearer."+f.link.RobotToken)
	if err != nil {
		t.Fatalf("dial: %v %v", resp, err)
	}
	defer c.Close()
	if c.Subprotocol() != "seatlink-device" {
		t.Fatalf("subprotocol %q, want seatlink-device", c.Subprotocol())
	}
	if m := readDevice(t, c, wire.DevWelcome); m.DeviceID != f.link.RobotID {
		t.Fatalf("welcome %+v", m)
	}
	for _, tc := range []struct {
		name, origin string
		protocols    []string
		status       int
	}{
		{"wrong credential", f.srv.URL, []string{"seatlink-device", "bearer.not-a-credential"}, 401},
		{"no protocol name", f.srv.URL, []string{"bearer." + f.link.RobotToken}, 401},
		{"another site", "https://evil.example", []string{"seatlink-device", "bearer." + f.link.RobotToken}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := dial(tc.origin, tc.protocols...)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("got %v, want %d", resp, tc.status)
			}
		})
	}
}
