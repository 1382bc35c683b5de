package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"seatlink/casework"
	"seatlink/internal/mail"
	"seatlink/web"
)

// setupMail starts the mailer when --smtp-addr is set; casework's notices
// go through it.
func (a *app) setupMail() error {
	cfg := a.cfg.Mail()
	if cfg.Addr == "" {
		return nil
	}
	if a.cfg.SMTPCA != "" {
		pem, err := os.ReadFile(a.cfg.SMTPCA)
		if err != nil {
			return fmt.Errorf("smtp-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("smtp-ca %s: no PEM certificates in it", a.cfg.SMTPCA)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	m, err := mail.New(cfg, a.log.With("component", "mail"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	a.mailer, a.mailStop = m, cancel
	return nil
}

// stopMail sends what is queued (a few seconds at most) and stops.
func (a *app) stopMail() {
	if a.mailer == nil {
		return
	}
	a.mailStop()
	a.mailer.Wait()
	a.mailer = nil
}

// mailNotices writes casework's notices as e-mails in each person's
// language: what waits and a link to it, never the message itself.
type mailNotices struct {
	mailer *mail.Mailer
	base   func() string
}

func (n mailNotices) Notify(no casework.Notice) {
	lang := no.Lang
	if !web.Supported(lang) {
		lang = web.Languages[0]
	}
	words := web.Words(lang)
	if words == nil {
		return
	}
	link := n.base() + no.Path
	subject, _ := words.Text("mail."+no.Kind+".subject", nil)
	body, _ := words.Text("mail."+no.Kind+".body", map[string]string{"link": link})
	_ = n.mailer.Send(mail.Message{To: no.To, Subject: subject, Text: body, Lang: lang})
}
