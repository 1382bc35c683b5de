package mail_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"seatlink/internal/mail"
	"seatlink/internal/mail/mailtest"
)

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		cfg mail.Config
		ok  bool
	}{
		{mail.Config{Addr: "smtp.la.gov.uk:587", From: "seatlink@la.gov.uk"}, true},
		{mail.Config{Addr: "smtp.la.gov.uk:465", From: "seatlink@la.gov.uk", TLS: mail.Implicit}, true},
		{mail.Config{Addr: "127.0.0.1:25", From: "seatlink@la.gov.uk", TLS: mail.None}, true},
		{mail.Config{Addr: "smtp.la.gov.uk:25", From: "seatlink@la.gov.uk", TLS: mail.None}, false}, // clear text across a network
		{mail.Config{Addr: "smtp.la.gov.uk", From: "seatlink@la.gov.uk"}, false},                    // no port
		{mail.Config{Addr: "smtp.la.gov.uk:587", From: "Seatlink <seatlink@la.gov.uk>"}, false},
		{mail.Config{Addr: "smtp.la.gov.uk:587", From: "x@y\r\nBcc: z@w"}, false},
		{mail.Config{Addr: "smtp.la.gov.uk:587", From: "seatlink@la.gov.uk", TLS: "ssl"}, false},
	} {
		if err := c.cfg.Check(); (err == nil) != c.ok {
			t.Errorf("%+v: %v, want ok=%v", c.cfg, err, c.ok)
		}
	}
}

// Mail reaches a real SMTP server over STARTTLS with a password, with its
// Welsh subject and text intact; a bad address is refused before it is
// queued, and header injection through the subject goes nowhere.
func TestMailArrivesOverSTARTTLS(t *testing.T) {
	srv := mailtest.Start(t)
	m, err := mail.New(mail.Config{Addr: srv.SMTPAddr, From: "seatlink@la.test", Username: "seatlink", Password: "secret",
		TLSConfig: srv.TLS}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	defer func() { cancel(); m.Wait() }()
	if err := m.Send(mail.Message{To: "mum@home.test\r\nBcc: spy@evil.test"}); err == nil {
		t.Error("an address with a line break was queued")
	}
	if err := m.Send(mail.Message{To: "mum@home.test", Subject: "Neges newydd gan yr ysgol\r\nBcc: spy@evil.test", Lang: "cy",
		Text: "Mae neges newydd i chi. Darllenwch hi yma: https://seatlink.test/parent\nŴ ŷ"}); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, 15*time.Second)
	g := got[0]
	if len(g.To) != 1 || g.To[0] != "mum@home.test" {
		t.Errorf("to %v", g.To)
	}
	if !strings.HasPrefix(g.Subject, "Neges newydd gan yr ysgol") || strings.Contains(strings.ToLower(g.Subject), "\n") {
		t.Errorf("subject %q", g.Subject)
	}
	if len(g.Headers["Bcc"]) > 0 {
		t.Errorf("a Bcc header got in: %v", g.Headers["Bcc"])
	}
	if !strings.Contains(g.Text, "https://seatlink.test/parent") || !strings.Contains(g.Text, "Ŵ ŷ") {
		t.Errorf("text %q", g.Text)
	}
	if l := g.Headers["Content-Language"]; len(l) != 1 || l[0] != "cy" {
		t.Errorf("Content-Language %v", l)
	}
	if sent, failed, dropped := m.Counts(); sent != 1 || failed != 0 || dropped != 0 {
		t.Errorf("counts %d sent, %d failed, %d dropped", sent, failed, dropped)
	}
}

// A server that offers no STARTTLS is not sent to in clear.
func TestNoMailInClearWhenTLSIsExpected(t *testing.T) {
	srv := mailtest.Start(t)
	m, err := mail.New(mail.Config{Addr: srv.SMTPAddr, From: "seatlink@la.test", TLS: mail.Implicit, TLSConfig: srv.TLS},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m.Start(ctx)
	if err := m.Send(mail.Message{To: "mum@home.test", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(25 * time.Second)
	for {
		if _, failed, _ := m.Counts(); failed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a send with TLS from the first byte to a STARTTLS server did not fail")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := srv.Messages(t); len(got) != 0 {
		t.Errorf("%d messages arrived without TLS", len(got))
	}
	cancel()
	m.Wait()
}
