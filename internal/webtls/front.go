package webtls

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Front sorts the connections of the public TCP port. With TLS on, a
// connection that opens with a TLS handshake is handshaken here and goes
// to HTTPS, or to TURN when it carries STUN (so TURN over TLS can share
// port 443 when the school's firewall opens nothing else); a connection
// that opens with plain HTTP goes to Redirect. With TLS off, every
// connection goes to HTTP untouched.
type Front struct {
	ln   net.Listener
	conf *tls.Config
	log  *slog.Logger
	// SniffTimeout bounds the first bytes and the handshake (default 10 s).
	SniffTimeout time.Duration

	https, redirect, turn *chanListener
	wg                    sync.WaitGroup
	closeOnce             sync.Once
}

// NewFront wraps ln. conf nil: plain HTTP. turn: hand STUN-carrying TLS
// connections to TURN() (else they go to HTTPS, which refuses them).
func NewFront(ln net.Listener, conf *tls.Config, turn bool, log *slog.Logger) *Front {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Front{ln: ln, conf: conf, log: log, SniffTimeout: 10 * time.Second}
	if conf == nil {
		return f
	}
	f.https, f.redirect = newChanListener(ln.Addr()), newChanListener(ln.Addr())
	if turn {
		f.turn = newChanListener(ln.Addr())
	}
	return f
}

// HTTP is what the application server serves: TLS connections (handshake
// done) or, with TLS off, the port itself.
func (f *Front) HTTP() net.Listener {
	if f.conf == nil {
		return f.ln
	}
	return f.https
}

// Redirect carries plain-HTTP connections that reached a TLS port (nil
// with TLS off).
func (f *Front) Redirect() net.Listener {
	if f.redirect == nil {
		return nil
	}
	return f.redirect
}

// TURN carries TURN-over-TLS connections (nil unless asked for).
func (f *Front) TURN() net.Listener {
	if f.turn == nil {
		return nil
	}
	return f.turn
}

// Addr is the public port's address.
func (f *Front) Addr() net.Addr { return f.ln.Addr() }

// Run accepts until the port is closed; with TLS off it returns at once
// (the HTTP server accepts on the port itself).
func (f *Front) Run() {
	if f.conf == nil {
		return
	}
	defer f.closeChans()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.sort(c)
		}()
	}
}

// Close closes the port and the sorted listeners.
func (f *Front) Close() error {
	err := f.ln.Close()
	f.closeChans()
	return err
}

func (f *Front) closeChans() {
	f.closeOnce.Do(func() {
		for _, l := range []*chanListener{f.https, f.redirect, f.turn} {
			if l != nil {
				_ = l.Close()
			}
		}
	})
}

// tlsRecordHandshake is the first byte of a TLS ClientHello.
const tlsRecordHandshake = 0x16

func (f *Front) sort(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(f.SniffTimeout))
	pc := &prefixConn{Conn: c}
	first, err := pc.peek()
	if err != nil {
		_ = c.Close()
		return
	}
	if first != tlsRecordHandshake {
		_ = c.SetDeadline(time.Time{})
		f.redirect.deliver(pc)
		return
	}
	tc := tls.Server(pc, f.conf)
	if err := tc.Handshake(); err != nil {
		f.log.Debug("tls handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		_ = c.Close()
		return
	}
	proto := tc.ConnectionState().NegotiatedProtocol
	if proto != "" || f.turn == nil {
		// Browsers and HTTP clients name h2 or http/1.1; the connection
		// stays a *tls.Conn so the server sees the TLS state. (An ACME
		// TLS-ALPN-01 check has ended inside the handshake.)
		_ = c.SetDeadline(time.Time{})
		f.https.deliver(tc)
		return
	}
	// No ALPN: a TURN client (browsers' TURN over TLS names none) or a
	// plain HTTP/1 client. STUN messages begin with two zero bits; every
	// HTTP method begins with a capital letter.
	app := &prefixConn{Conn: tc}
	b, err := app.peek()
	if err != nil {
		_ = tc.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	if b < 0x40 {
		f.turn.deliver(app)
		return
	}
	f.https.deliver(app)
}

// prefixConn gives back the byte a sort peeked.
type prefixConn struct {
	net.Conn
	buf  [1]byte
	have bool
}

func (p *prefixConn) peek() (byte, error) {
	if _, err := io.ReadFull(p.Conn, p.buf[:]); err != nil {
		return 0, err
	}
	p.have = true
	return p.buf[0], nil
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if p.have && len(b) > 0 {
		b[0] = p.buf[0]
		p.have = false
		return 1, nil
	}
	return p.Conn.Read(b)
}

// chanListener is a net.Listener fed by the sorter.
type chanListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) deliver(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// RedirectHandler sends plain HTTP to the same address over HTTPS, or to
// publicBase (an https:// URL) when given.
func RedirectHandler(publicBase string) http.Handler {
	publicBase = strings.TrimRight(publicBase, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := publicBase
		if target == "" || !strings.HasPrefix(target, "https://") {
			if r.Host == "" {
				http.Error(w, "use https://", http.StatusBadRequest)
				return
			}
			target = "https://" + r.Host
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}
