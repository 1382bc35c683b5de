package signaling

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"seatlink/internal/wire"
	"seatlink/media"
	"seatlink/people"
)

// writeWait bounds one WebSocket write; a client that cannot take a
// message in that time is dropped rather than allowed to stall the server.
const writeWait = 10 * time.Second

// outQueue bounds messages waiting for the writer. Media callbacks never
// block on a slow client: past this the session is closed.
const outQueue = 256

// session is one WebSocket client. Per gorilla's rules it has exactly one
// reader goroutine and one writer goroutine; the handler goroutine runs the
// session loop, selecting over incoming messages, the join deadline and
// server shutdown. Media callbacks (the Signaler methods) only enqueue.
type session struct {
	srv  *Server
	conn *websocket.Conn
	log  *slog.Logger

	out       chan []byte
	closeReq  chan closeFrame
	closeOnce sync.Once
	closed    chan struct{} // closed when the session must end
	readerEnd chan struct{} // closed when the reader goroutine has returned
	mediaGone chan error    // the SFU closed our participant
	revoked   chan struct{} // access was removed (recheckAccess)

	limiter *rate.Limiter
	part    *media.Participant
	// cookie is the session cookie sent with the upgrade request: a
	// pupil's remembered device joins with it.
	cookie string
	actor  *people.Actor
}

type closeFrame struct {
	code   int
	reason string
}

type inMsg struct {
	data []byte
	err  error
}

func (s *Server) serveWS(c *gin.Context) {
	select {
	case <-s.stopping:
		writeHTTPError(c, 503, wire.CodeShuttingDown, "server is shutting down")
		return
	default:
	}
	conn, err := s.upgrader.Upgrade(c.Writer, c.Request, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	s.sessions.Add(1)
	defer s.sessions.Done()
	cookie, _ := c.Cookie(sessionCookie)
	ss := &session{
		srv:       s,
		conn:      conn,
		log:       s.log.With("conn", remoteHint(c)),
		out:       make(chan []byte, outQueue),
		closeReq:  make(chan closeFrame, 1),
		closed:    make(chan struct{}),
		readerEnd: make(chan struct{}),
		mediaGone: make(chan error, 1),
		revoked:   make(chan struct{}, 1),
		limiter:   rate.NewLimiter(rate.Limit(s.cfg.MessageRate), s.cfg.MessageBurst),
		cookie:    cookie,
	}
	ss.run()
}

// remoteHint identifies a connection in logs without personal data: the
// remote port only.
func remoteHint(c *gin.Context) string {
	addr := c.Request.RemoteAddr
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return ""
}

func (ss *session) run() {
	writerDone := make(chan struct{})
	go ss.writer(writerDone)
	in := make(chan inMsg)
	go ss.reader(in)

	joinTimer := time.NewTimer(ss.srv.cfg.JoinTimeout)
	defer joinTimer.Stop()
	defer func() {
		ss.srv.live.remove(ss)
		if ss.part != nil {
			ss.part.Close()
		}
		ss.shutdown(websocket.CloseNormalClosure, "")
		<-writerDone
		// Unblock the reader if it is waiting to hand over a message.
		for {
			select {
			case <-in:
			default:
				return
			}
		}
	}()

	for {
		select {
		case m := <-in:
			if m.err != nil {
				if errors.Is(m.err, errTooLarge) {
					ss.fail(wire.Errorf(wire.CodeMessageTooLarge, "messages are limited to %d bytes", wire.MaxMessageBytes))
				}
				return
			}
			if !ss.limiter.Allow() {
				ss.fail(wire.Errorf(wire.CodeRateLimited, "too many messages"))
				return
			}
			if !ss.handle(m.data) {
				return
			}
			if ss.part != nil {
				joinTimer.Stop()
			}
		case <-joinTimer.C:
			if ss.part == nil {
				ss.fail(wire.Errorf(wire.CodeJoinTimeout, "no join within %s", ss.srv.cfg.JoinTimeout))
				return
			}
		case err := <-ss.mediaGone:
			ss.mediaClosed(err)
			return
		case <-ss.revoked:
			// The deferred Close evicts the media before this returns.
			ss.fail(wire.Errorf(wire.CodeAccessRemoved, "access to this class was removed"))
			return
		case <-ss.srv.stopping:
			ss.fail(wire.Errorf(wire.CodeShuttingDown, "the server is stopping; rejoin in a moment"))
			return
		case <-ss.closed:
			return
		}
	}
}

var errTooLarge = errors.New("message too large")

// reader is the one goroutine that reads the socket. Frames are read
// through a limit, so an oversized frame is refused without buffering it.
func (ss *session) reader(in chan<- inMsg) {
	defer close(ss.readerEnd)
	wait := 3 * ss.srv.cfg.PingInterval
	_ = ss.conn.SetReadDeadline(time.Now().Add(wait))
	ss.conn.SetPongHandler(func(string) error {
		return ss.conn.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		typ, r, err := ss.conn.NextReader()
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(r, wire.MaxMessageBytes+1))
			if err == nil && len(data) > wire.MaxMessageBytes {
				err = errTooLarge
			}
		}
		if err == nil && typ != websocket.TextMessage {
			data = []byte{0} // binary frames are not JSON; reported as bad_json
		}
		if err == nil {
			_ = ss.conn.SetReadDeadline(time.Now().Add(wait))
		}
		select {
		case in <- inMsg{data: data, err: err}:
		case <-ss.closed:
			ss.drain(err)
			return
		}
		if err != nil {
			return
		}
	}
}

// drain reads and discards what the client still sends after the session
// ended, until it closes or the writer's linger deadline passes: closing a
// socket with unread data in it makes the kernel reset the connection,
// which can destroy the error and close frame on their way to the client.
func (ss *session) drain(err error) {
	for err == nil {
		_, _, err = ss.conn.NextReader()
	}
}

// writer is the one goroutine that writes the socket: queued messages with
// a write deadline, keep-alive pings, and finally the close frame.
func (ss *session) writer(done chan<- struct{}) {
	defer close(done)
	defer ss.conn.Close()
	ping := time.NewTicker(ss.srv.cfg.PingInterval)
	defer ping.Stop()
	write := func(b []byte) bool {
		_ = ss.conn.SetWriteDeadline(time.Now().Add(writeWait))
		return ss.conn.WriteMessage(websocket.TextMessage, b) == nil
	}
	for {
		select {
		case b := <-ss.out:
			if !write(b) {
				ss.shutdown(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if ss.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)) != nil {
				ss.shutdown(websocket.CloseAbnormalClosure, "")
				return
			}
		case cf := <-ss.closeReq:
			// Flush what was queued (an error message, a bye) first.
			for flushing := true; flushing; {
				select {
				case b := <-ss.out:
					if !write(b) {
						flushing = false
					}
				default:
					flushing = false
				}
			}
			if cf.code != websocket.CloseAbnormalClosure {
				_ = ss.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(cf.code, cf.reason), time.Now().Add(time.Second))
				// Linger: let the client read the close before the socket
				// goes (the reader drains what it still sends).
				_ = ss.conn.SetReadDeadline(time.Now().Add(time.Second))
				select {
				case <-ss.readerEnd:
				case <-time.After(time.Second):
				}
			}
			return
		}
	}
}

// shutdown ends the session once, with a close frame of code.
func (ss *session) shutdown(code int, reason string) {
	ss.closeOnce.Do(func() {
		ss.closeReq <- closeFrame{code: code, reason: reason}
		close(ss.closed)
	})
}

// send queues a message; a client too slow to drain its queue is dropped.
func (ss *session) send(m wire.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		ss.log.Error("marshal", "type", m.Type, "err", err)
		return
	}
	select {
	case <-ss.closed:
	case ss.out <- b:
	default:
		ss.log.Warn("client too slow; closing", "queued", len(ss.out))
		ss.shutdown(websocket.ClosePolicyViolation, "too slow")
	}
}

// reply sends a non-fatal error.
func (ss *session) reply(err *wire.Error) {
	ss.send(wire.Message{Type: wire.TypeError, Code: err.Code, Message: err.Message})
}

// fail sends a fatal error and closes with the matching close code.
func (ss *session) fail(err *wire.Error) {
	ss.log.Info("closing session", "code", err.Code)
	ss.send(wire.Message{Type: wire.TypeError, Code: err.Code, Message: err.Message, Fatal: true})
	ss.shutdown(closeCode(err.Code), err.Code)
}

// closeCode maps a fatal error code to a WebSocket close code.
func closeCode(code string) int {
	switch code {
	case wire.CodeMessageTooLarge:
		return websocket.CloseMessageTooBig
	case wire.CodeShuttingDown:
		return websocket.CloseGoingAway
	case wire.CodeInternal:
		return websocket.CloseInternalServerErr
	default:
		return websocket.ClosePolicyViolation
	}
}

func (ss *session) mediaClosed(reason error) {
	switch {
	case errors.Is(reason, media.ErrClosed):
		ss.fail(wire.Errorf(wire.CodeShuttingDown, "the server is stopping; rejoin in a moment"))
	case errors.Is(reason, media.ErrEvicted):
		ss.fail(wire.Errorf(wire.CodeRevoked, "this device's credential was revoked"))
	case errors.Is(reason, media.ErrReplaced):
		ss.send(wire.Message{Type: wire.TypeBye, Reason: "replaced"})
		ss.shutdown(websocket.CloseNormalClosure, "replaced")
	default:
		ss.send(wire.Message{Type: wire.TypeBye, Reason: "media_failed"})
		ss.shutdown(websocket.CloseNormalClosure, "media_failed")
	}
}

// revoke ends the session because its access was removed; it never
// blocks (recheckAccess calls it for many sessions).
func (ss *session) revoke() {
	select {
	case ss.revoked <- struct{}{}:
	default:
	}
}

// Signaler: called by the SFU from its own goroutines; they only enqueue.

func (ss *session) SendOffer(sdp string) { ss.send(wire.Message{Type: wire.TypeOffer, SDP: sdp}) }

func (ss *session) SendCandidate(c webrtc.ICECandidateInit) {
	ss.send(wire.Message{Type: wire.TypeCandidate, Candidate: &wire.Candidate{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment,
	}})
}

func (ss *session) PeerJoined(role media.Role) {
	ss.send(wire.Message{Type: wire.TypePeerJoined, Role: string(role)})
}

func (ss *session) PeerLeft(role media.Role) {
	ss.send(wire.Message{Type: wire.TypePeerLeft, Role: string(role)})
}

func (ss *session) Closed(reason error) {
	select {
	case ss.mediaGone <- reason:
	default:
	}
}

var _ media.Signaler = (*session)(nil)
