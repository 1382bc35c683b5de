package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"seatlink/internal/wire"
)

// Enroll exchanges an enrollment code for the device's credential.
func Enroll(ctx context.Context, server, code string) (deviceID, credential string, err error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(server, "/")+"/api/v1/devices/enroll",
		bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient(ctx).Do(req)
	if err != nil {
		return "", "", fmt.Errorf("agent: enroll: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		DeviceID   string `json:"device_id"`
		Credential string `json:"credential"`
		Error      struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", "", fmt.Errorf("agent: enroll: %s", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("agent: enroll refused: %s (%s)", out.Error.Message, out.Error.Code)
	}
	return out.DeviceID, out.Credential, nil
}

// ErrRevoked is returned when the server refuses the credential.
var ErrRevoked = errors.New("agent: the device credential was refused (revoked?)")

// Control is a device's control channel to the server.
type Control struct {
	conn    *websocket.Conn
	wmu     sync.Mutex
	Welcome wire.DeviceMessage
	done    chan struct{}
	once    sync.Once
	err     error
}

// DialControl opens the control channel, sends hello and waits for welcome.
// onMessage is called (from the reader goroutine) for every server message
// after the welcome.
func DialControl(ctx context.Context, server, credential string, hello wire.DeviceMessage,
	onMessage func(*Control, wire.DeviceMessage)) (*Control, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path = "/device/ws"
	h := http.Header{}
	h.Set("Authorization", "Bearer "+credential)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: TLSFrom(ctx)}
	conn, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, ErrRevoked
		}
		return nil, fmt.Errorf("agent: control channel: %w", err)
	}
	c := &Control{conn: conn, done: make(chan struct{})}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := conn.ReadJSON(&c.Welcome); err != nil || c.Welcome.Type != wire.DevWelcome {
		conn.Close()
		return nil, fmt.Errorf("agent: no welcome: %v", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	hello.Type = wire.DevHello
	if err := c.Send(hello); err != nil {
		conn.Close()
		return nil, err
	}
	go func() {
		for {
			var m wire.DeviceMessage
			if err := conn.ReadJSON(&m); err != nil {
				c.end(err)
				return
			}
			if m.Type == wire.DevError && m.Fatal {
				c.end(fmt.Errorf("agent: server closed the control channel: %s", m.Code))
				if m.Code == "revoked" {
					c.end(ErrRevoked)
				}
				return
			}
			onMessage(c, m)
		}
	}()
	return c, nil
}

func (c *Control) end(err error) {
	c.once.Do(func() {
		c.err = err
		c.conn.Close()
		close(c.done)
	})
}

// Send writes one message (safe from any goroutine).
func (c *Control) Send(m wire.DeviceMessage) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteJSON(m)
}

// Done is closed when the channel ends; Err says why.
func (c *Control) Done() <-chan struct{} { return c.done }

// Err says why the channel ended.
func (c *Control) Err() error { <-c.done; return c.err }

// Close closes the channel cleanly.
func (c *Control) Close() {
	c.wmu.Lock()
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.end(errors.New("agent: closed"))
}

// Abort drops the connection without a close frame (a simulated network fault).
func (c *Control) Abort() { c.end(errors.New("agent: aborted")) }
