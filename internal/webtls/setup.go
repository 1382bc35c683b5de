package webtls

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ErrNoCertificate is returned when TLS is asked for without a source.
var ErrNoCertificate = errors.New("tls: no certificate source")

// Options chooses where certificates come from; exactly one source.
type Options struct {
	CertFile, KeyFile string
	SelfSigned        bool
	// SelfSignedHosts are the names and IPs the generated certificate
	// covers (besides localhost and loopback).
	SelfSignedHosts []string
	ACMEDomains     []string
	ACMEEmail       string
	ACMEDirectory   string
	ACMECache       string
	// ACMEClient reaches the CA (tests trust a test CA with it).
	ACMEClient *http.Client
	Log        *slog.Logger
}

// Setup is a ready TLS configuration and what it serves.
type Setup struct {
	Config     *tls.Config
	SelfSigned *SelfSigned // when generated
	Files      *FileCert
	ACME       *autocert.Manager
	// Source says in a few words where the certificate comes from.
	Source string
}

// New builds the TLS configuration: TLS 1.2 and up, HTTP/2 and HTTP/1.1
// offered by ALPN, and with ACME the TLS-ALPN-01 protocol answered on the
// same port.
func New(o Options) (*Setup, error) {
	s := &Setup{Config: &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}}
	switch {
	case o.CertFile != "":
		f, err := LoadFiles(o.CertFile, o.KeyFile, o.Log)
		if err != nil {
			return nil, err
		}
		s.Files, s.Source = f, "certificate files (reloaded on change)"
		s.Config.GetCertificate = f.GetCertificate
	case o.SelfSigned:
		ss, err := NewSelfSigned(o.SelfSignedHosts)
		if err != nil {
			return nil, err
		}
		s.SelfSigned, s.Source = ss, "a self-signed certificate, SHA-256 "+ss.SHA256
		s.Config.Certificates = []tls.Certificate{ss.Cert}
	case len(o.ACMEDomains) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(o.ACMEDomains...),
			Cache:      autocert.DirCache(o.ACMECache),
			Email:      o.ACMEEmail,
			Client:     &acme.Client{DirectoryURL: o.ACMEDirectory, HTTPClient: o.ACMEClient},
		}
		s.ACME, s.Source = m, fmt.Sprintf("ACME certificates for %v from %s", o.ACMEDomains, o.ACMEDirectory)
		s.Config.GetCertificate = m.GetCertificate
		s.Config.NextProtos = append(s.Config.NextProtos, acme.ALPNProto)
	default:
		return nil, ErrNoCertificate
	}
	return s, nil
}
