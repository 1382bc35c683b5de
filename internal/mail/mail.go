// Package mail sends short plain-text e-mails over SMTP from a bounded
// queue, so that a slow or absent mail server never holds up a request.
// It carries whatever it is given: callers write notices that hold a link
// and never the thing itself.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"time"
)

// TLS modes.
const (
	StartTLS = "starttls" // the usual submission port 587: STARTTLS required
	Implicit = "tls"      // port 465: TLS from the first byte
	None     = "none"     // no TLS: a relay on this machine or a test server only
)

// Config is where and how mail goes out.
type Config struct {
	Addr     string // host:port
	From     string // the sender's address
	Username string // empty: no authentication
	Password string
	TLS      string // StartTLS (default), Implicit or None
	// ServerName checks the server's certificate (default: Addr's host).
	ServerName string
	// RootCAs trusts a private CA (tests); nil: the system's roots.
	TLSConfig *tls.Config
}

// Message is one e-mail.
type Message struct {
	To      string
	Subject string
	Text    string
	Lang    string // Content-Language, if known
}

// Check says what is wrong with c, if anything.
func (c Config) Check() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("smtp-addr: want host:port: %v", err)
	}
	if _, err := mailAddress(c.From); err != nil {
		return fmt.Errorf("smtp-from: %v", err)
	}
	switch c.TLS {
	case "", StartTLS, Implicit:
	case None:
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return errors.New("smtp-tls none: only for a mail relay on this machine (127.0.0.1, ::1, localhost); a password or a parent's address must not cross a network in clear")
		}
	default:
		return fmt.Errorf("smtp-tls: want %s, %s or %s", StartTLS, Implicit, None)
	}
	return nil
}

// mailAddress checks a bare address (no display name, no line breaks).
func mailAddress(s string) (string, error) {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>\" ,;") || strings.Count(s, "@") != 1 ||
		strings.HasPrefix(s, "@") || strings.HasSuffix(s, "@") {
		return "", fmt.Errorf("%q is not an e-mail address", s)
	}
	return s, nil
}

// Mailer sends queued messages one at a time.
type Mailer struct {
	cfg   Config
	log   *slog.Logger
	queue chan Message
	wg    sync.WaitGroup
	now   func() time.Time

	mu      sync.Mutex
	sent    int
	failed  int
	dropped int
}

// queueSize bounds the messages waiting; more are dropped (and counted),
// never allowed to pile up in memory.
const queueSize = 256

// New returns a mailer; Start runs it.
func New(cfg Config, log *slog.Logger) (*Mailer, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	if log == nil {
		log = slog.Default()
	}
	return &Mailer{cfg: cfg, log: log, queue: make(chan Message, queueSize), now: time.Now}, nil
}

// Send queues m; it never blocks. A bad address is refused at once.
func (m *Mailer) Send(msg Message) error {
	if _, err := mailAddress(msg.To); err != nil {
		return err
	}
	select {
	case m.queue <- msg:
		return nil
	default:
		m.mu.Lock()
		m.dropped++
		m.mu.Unlock()
		m.log.Warn("mail queue full: message dropped")
		return errors.New("mail: queue full")
	}
}

// Start delivers queued mail until ctx ends, then what is queued, within
// a few seconds.
func (m *Mailer) Start(ctx context.Context) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			select {
			case msg := <-m.queue:
				m.deliver(ctx, msg)
			case <-ctx.Done():
				drain, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				for {
					select {
					case msg := <-m.queue:
						m.deliver(drain, msg)
					default:
						return
					}
				}
			}
		}
	}()
}

// Wait returns when Start's goroutine has ended.
func (m *Mailer) Wait() { m.wg.Wait() }

// Counts are the messages sent, failed after retries, and dropped.
func (m *Mailer) Counts() (sent, failed, dropped int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent, m.failed, m.dropped
}

// deliver tries three times, 1 and 3 s apart (a mail server that is down
// longer loses the notice, which is logged: the message itself waits on
// its page).
func (m *Mailer) deliver(ctx context.Context, msg Message) {
	var err error
	for attempt, wait := 0, time.Second; attempt < 3; attempt, wait = attempt+1, wait*3 {
		if attempt > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = m.send(actx, msg)
		cancel()
		if err == nil {
			m.mu.Lock()
			m.sent++
			m.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			break
		}
	}
	m.mu.Lock()
	m.failed++
	m.mu.Unlock()
	// No addresses in the log: they are personal data.
	m.log.Warn("mail not delivered", "err", err)
}

func (m *Mailer) send(ctx context.Context, msg Message) error {
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	name := m.cfg.ServerName
	if name == "" {
		name = host
	}
	tlsCfg := &tls.Config{ServerName: name, MinVersion: tls.VersionTLS12}
	if m.cfg.TLSConfig != nil {
		tlsCfg = m.cfg.TLSConfig.Clone()
		if tlsCfg.ServerName == "" {
			tlsCfg.ServerName = name
		}
	}
	d := net.Dialer{}
	var conn net.Conn
	var err error
	if m.cfg.TLS == Implicit {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsCfg}).DialContext(ctx, "tcp", m.cfg.Addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.cfg.Addr)
	}
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if m.cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the mail server offers no STARTTLS (set --smtp-tls)")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return err
	}
	if err := c.Rcpt(msg.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.compose(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes the message: UTF-8 text, quoted-printable, the subject
// encoded for its non-ASCII letters (ŵ, ŷ in Welsh).
func (m *Mailer) compose(msg Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := m.cfg.From[strings.LastIndex(m.cfg.From, "@")+1:]
	clean := func(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
	fmt.Fprintf(&b, "From: %s\r\n", m.cfg.From)
	fmt.Fprintf(&b, "To: %s\r\n", msg.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", clean(msg.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", m.now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), domain)
	if msg.Lang != "" {
		fmt.Fprintf(&b, "Content-Language: %s\r\n", clean(msg.Lang))
	}
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
