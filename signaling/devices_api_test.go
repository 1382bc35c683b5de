package signaling

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"seatlink/internal/wire"
)

// A device channel that never said hello is held to its first deadline
// (messages before hello extend nothing), and revoking the device closes
// every socket that holds its credential, whatever state it is in.
func TestRevokedDeviceBeforeHelloIsClosed(t *testing.T) {
	w := newAPIWorld(t)
	dial := func() *websocket.Conn {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+w.robotToken)
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(w.srv.URL, "http")+"/device/ws", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedWithin reads until the socket closes; it says when, and the
	// last fatal error's code.
	closedWithin := func(c *websocket.Conn, limit time.Duration, heartbeat bool) (time.Duration, string) {
		start := time.Now()
		stop := make(chan struct{})
		defer close(stop)
		if heartbeat {
			go func() {
				tick := time.NewTicker(300 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						_ = c.WriteJSON(wire.DeviceMessage{Type: wire.DevHeartbeat})
					}
				}
			}()
		}
		_ = c.SetReadDeadline(start.Add(limit))
		code := ""
		for {
			var m wire.DeviceMessage
			if err := c.ReadJSON(&m); err != nil {
				return time.Since(start), code
			}
			if m.Fatal {
				code = m.Code
			}
		}
	}
	// Heartbeats without hello: closed at the first deadline (two 1 s
	// intervals), not kept alive.
	if d, _ := closedWithin(dial(), 6*time.Second, true); d > 3*time.Second {
		t.Errorf("a device sending heartbeats without hello stayed %s", d)
	}
	// Revoked while it has not said hello: closed at once, as revoked.
	c := dial()
	admin := w.signIn(t, "admin1")
	done := make(chan struct{})
	var code string
	go func() { _, code = closedWithin(c, 6*time.Second, true); close(done) }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if status, body := admin.do("DELETE", "/api/v1/devices/"+w.ids["device"]+"/credential", nil, nil); status != 200 {
		t.Fatalf("revoke: %d %s", status, body)
	}
	<-done
	if took := time.Since(start); code != wire.CodeRevoked || took > time.Second {
		t.Errorf("closed %s after the revocation with %q, want revoked within a second", took, code)
	}
}

func TestEnrollmentQRText(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{
		{"station", "https://s.example/station#enroll=K7QM-2XPA"},
		{"robot", "seatlink-enroll:https://s.example#K7QM-2XPA"},
	} {
		if got := enrollmentText("https://s.example", "K7QM-2XPA", tc.kind); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.kind, got, tc.want)
		}
	}
}
