package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"seatlink/devices"
	"seatlink/internal/wire"
)

// deviceConn is one device's control channel: one reader (the handler
// goroutine) and one writer goroutine, as for pupils' signaling.
type deviceConn struct {
	conn      *websocket.Conn
	out       chan []byte
	closeOnce sync.Once
	done      chan struct{}
	mu        sync.Mutex
	reason    string // why the server closed it, for presence
}

var _ devices.Conn = (*deviceConn)(nil)

// Send queues a message; false when the device is gone or too slow.
func (d *deviceConn) Send(m wire.DeviceMessage) bool {
	b, err := json.Marshal(m)
	if err != nil {
		return false
	}
	select {
	case <-d.done:
		return false
	case d.out <- b:
		return true
	default:
		d.Close("too_slow", "the device does not read its messages")
		return false
	}
}

// Close tells the device why and closes the channel.
func (d *deviceConn) Close(code, reason string) {
	d.mu.Lock()
	if d.reason == "" {
		d.reason = code
	}
	d.mu.Unlock()
	b, _ := json.Marshal(wire.DeviceMessage{Type: wire.DevError, Code: code, Message: reason, Fatal: true})
	select {
	case d.out <- b:
	default:
	}
	d.closeOnce.Do(func() { close(d.done) })
}

func (d *deviceConn) closedReason() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reason
}

func (d *deviceConn) writer(finished chan<- struct{}) {
	defer close(finished)
	defer d.conn.Close()
	write := func(b []byte) bool {
		_ = d.conn.SetWriteDeadline(time.Now().Add(writeWait))
		return d.conn.WriteMessage(websocket.TextMessage, b) == nil
	}
	for {
		select {
		case b := <-d.out:
			if !write(b) {
				d.closeOnce.Do(func() { close(d.done) })
				return
			}
		case <-d.done:
			for {
				select {
				case b := <-d.out:
					if !write(b) {
						return
					}
				default:
					_ = d.conn.WriteControl(websocket.CloseMessage,
						websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
					return
				}
			}
		}
	}
}

// deviceConns are the open device channels by device, attached or not.
type deviceConns struct {
	mu sync.Mutex
	m  map[string]map[*deviceConn]struct{}
}

func (dcs *deviceConns) add(id string, dc *deviceConn) {
	dcs.mu.Lock()
	defer dcs.mu.Unlock()
	if dcs.m == nil {
		dcs.m = map[string]map[*deviceConn]struct{}{}
	}
	if dcs.m[id] == nil {
		dcs.m[id] = map[*deviceConn]struct{}{}
	}
	dcs.m[id][dc] = struct{}{}
}

func (dcs *deviceConns) remove(id string, dc *deviceConn) {
	dcs.mu.Lock()
	defer dcs.mu.Unlock()
	delete(dcs.m[id], dc)
	if len(dcs.m[id]) == 0 {
		delete(dcs.m, id)
	}
}

// closeAll closes every channel a device holds open.
func (dcs *deviceConns) closeAll(id, code, reason string) {
	dcs.mu.Lock()
	var all []*deviceConn
	for dc := range dcs.m[id] {
		all = append(all, dc)
	}
	dcs.mu.Unlock()
	for _, dc := range all {
		dc.Close(code, reason)
	}
}

// bearer reads "Authorization: Bearer CREDENTIAL".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// deviceSubprotocol is the WebSocket subprotocol of the device control
// channel for clients that carry their credential in a second one,
// "bearer.CREDENTIAL" (docs/DEVICE-PROTOCOL.md).
const deviceSubprotocol = "seatlink-device"

// subprotocolCredential finds the credential offered as a subprotocol
// beside deviceSubprotocol.
func subprotocolCredential(r *http.Request) (string, bool) {
	named, cred := false, ""
	for _, p := range websocket.Subprotocols(r) {
		if p == deviceSubprotocol {
			named = true
		} else if v, ok := strings.CutPrefix(p, "bearer."); ok {
			cred = v
		}
	}
	return cred, named && cred != ""
}

// serveDeviceWS is the device control channel (docs/DEVICE-PROTOCOL.md).
func (s *Server) serveDeviceWS(c *gin.Context) {
	if s.deps.Devices == nil || s.deps.Hub == nil {
		writeHTTPError(c, http.StatusNotFound, "not_found", "no such page")
		return
	}
	credential, respHeader := bearer(c.Request), http.Header(nil)
	if credential == "" {
		// A browser (the classroom station) cannot set Authorization on a
		// WebSocket; it offers the credential as a subprotocol instead,
		// which is no ambient authority a cross-site page could borrow.
		if cred, ok := subprotocolCredential(c.Request); ok {
			credential = cred
			respHeader = http.Header{"Sec-Websocket-Protocol": {deviceSubprotocol}}
		}
	}
	d, err := s.deps.Devices.Authenticate(c.Request.Context(), credential)
	if err != nil {
		writeHTTPError(c, http.StatusUnauthorized, "bad_credential", "unknown or revoked device credential")
		return
	}
	conn, err := s.upgrader.Upgrade(c.Writer, c.Request, respHeader)
	if err != nil {
		return
	}
	s.sessions.Add(1)
	defer s.sessions.Done()
	hub := s.deps.Hub
	log := s.log.With("device", d.ID)
	conn.SetReadLimit(wire.MaxDeviceMessageBytes)
	dc := &deviceConn{conn: conn, out: make(chan []byte, 64), done: make(chan struct{})}
	finished := make(chan struct{})
	go dc.writer(finished)
	defer func() { dc.closeOnce.Do(func() { close(dc.done) }); <-finished }()
	// Held from here, hello or not: a revocation closes it whatever its state.
	s.devConns.add(d.ID, dc)
	defer s.devConns.remove(d.ID, dc)

	interval := hub.Interval
	dc.Send(wire.DeviceMessage{Type: wire.DevWelcome, DeviceID: d.ID, HeartbeatInterval: int(interval / time.Second)})
	// Two heartbeat intervals without a word: the device is gone.
	deadline := func() { _ = conn.SetReadDeadline(time.Now().Add(2 * interval)) }
	deadline()
	limiter := rate.NewLimiter(20, 40)
	attached := false
	reason := devices.ReasonCleanClose
	defer func() {
		if attached {
			if r := dc.closedReason(); r != "" {
				reason = r
			}
			hub.Detach(d, dc, reason)
		}
	}()
	stopping := s.stopping
	go func() {
		select {
		case <-stopping:
			dc.Close(wire.CodeShuttingDown, "the server is stopping")
		case <-dc.done:
		}
	}()
	go func() { <-dc.done; _ = conn.SetReadDeadline(time.Now()) }()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
				reason = devices.ReasonCleanClose
			case errors.As(err, &ne) && ne.Timeout() && dc.closedReason() == "":
				reason = devices.ReasonHeartbeat
			default:
				reason = "connection_lost"
			}
			return
		}
		if attached { // before hello, nothing extends the first deadline
			deadline()
		}
		if !limiter.Allow() {
			dc.Close(wire.CodeRateLimited, "too many messages")
			return
		}
		m, err := wire.DecodeDevice(data)
		if err != nil {
			hub.Metrics().BadFrames.Inc()
			dc.Send(wire.DeviceMessage{Type: wire.DevError, Code: wire.CodeBadMessage, Message: err.Error()})
			continue
		}
		ctx := context.Background()
		if !attached && m.Type != wire.DevHello {
			dc.Send(wire.DeviceMessage{Type: wire.DevError, Code: "hello_first", Message: "send hello first"})
			continue
		}
		switch m.Type {
		case wire.DevHello:
			if !attached {
				// The credential may have been revoked since the upgrade.
				if _, err := s.deps.Devices.Authenticate(ctx, credential); err != nil {
					dc.Close(wire.CodeRevoked, "this device's credential was revoked")
					return
				}
				hub.Attach(ctx, d, dc, m)
				attached = true
			}
		case wire.DevHeartbeat:
			if err := hub.Heartbeat(ctx, d, m); err != nil {
				log.Error("heartbeat", "err", err)
			}
		case wire.DevAck:
			hub.Ack(d, m)
		case wire.DevRotate:
			cred, err := s.deps.Devices.Rotate(ctx, d.ID)
			if errors.Is(err, devices.ErrBadDevice) {
				dc.Send(wire.DeviceMessage{Type: wire.DevError, Code: wire.CodeRevoked, Message: "this device's credential was revoked"})
				return
			}
			if err != nil {
				dc.Send(wire.DeviceMessage{Type: wire.DevError, Code: wire.CodeInternal, Message: "could not rotate"})
				continue
			}
			dc.Send(wire.DeviceMessage{Type: wire.DevCredential, Credential: cred})
		}
	}
}
