package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"seatlink/internal/webtls"
	"seatlink/media"
	"seatlink/media/turnrelay"
)

// setupTLS makes the public port's front: plain HTTP, or HTTPS from the
// configured certificate source with plain HTTP redirected.
func (a *app) setupTLS() error {
	if !a.cfg.TLSEnabled() {
		a.front = webtls.NewFront(a.ln, nil, false, a.log)
		return nil
	}
	cache := a.cfg.ACMECache
	if cache == "" {
		cache = filepath.Join(a.cfg.DataDir, "acme")
	}
	acmeClient, err := acmeHTTPClient(a.cfg.ACMECA)
	if err != nil {
		return err
	}
	s, err := webtls.New(webtls.Options{ACMEClient: acmeClient,
		CertFile: a.cfg.TLSCert, KeyFile: a.cfg.TLSKey,
		SelfSigned: a.cfg.TLSSelfSigned, SelfSignedHosts: a.selfSignedHosts(),
		ACMEDomains: a.cfg.ACMEDomains, ACMEEmail: a.cfg.ACMEEmail, ACMEDirectory: a.cfg.ACMEDirectory, ACMECache: cache,
		Log: a.log.With("component", "tls"),
	})
	if err != nil {
		return err
	}
	a.tls = s
	if s.SelfSigned != nil {
		if err := a.writeSelfSigned(); err != nil {
			return err
		}
	}
	shared := a.cfg.TURNTLSAddr != "" && a.cfg.TURNTLSAddr == a.cfg.HTTPAddr
	a.front = webtls.NewFront(a.ln, s.Config, shared, a.log.With("component", "tls"))
	a.log.Info("https", "certificate", s.Source, "turn_on_this_port", shared)
	return nil
}

// selfSignedHosts are the names a generated certificate covers: the
// listen host, every LAN address when listening on all, and the public
// URL's host.
func (a *app) selfSignedHosts() []string {
	host, _, _ := net.SplitHostPort(a.ln.Addr().String())
	hosts := []string{host}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		hosts = append(hosts, webtls.LocalIPs()...)
	}
	if u, err := url.Parse(a.cfg.PublicURL); err == nil && u.Hostname() != "" {
		hosts = append(hosts, u.Hostname())
	}
	return hosts
}

// serveRedirects serves plain HTTP that reached the HTTPS port, and
// --redirect-addr, with redirects to HTTPS.
func (a *app) serveRedirects() error {
	if a.tls == nil {
		return nil
	}
	base := ""
	if a.cfg.PublicURL != "" || len(a.cfg.ACMEDomains) > 0 {
		base = a.baseURL()
	}
	h := webtls.RedirectHandler(base)
	serve := func(ln net.Listener) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
		a.redirects = append(a.redirects, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	serve(a.front.Redirect())
	if a.cfg.RedirectAddr != "" {
		ln, err := net.Listen("tcp", a.cfg.RedirectAddr)
		if err != nil {
			return fmt.Errorf("listen redirect: %w", err)
		}
		if base == "" {
			base = a.baseURL()
			h = webtls.RedirectHandler(base)
		}
		serve(ln)
		a.log.Info("plain HTTP redirects to HTTPS", "addr", ln.Addr().String(), "to", base)
	}
	return nil
}

// setupTURN starts the built-in TURN server if configured, and has the
// SFU mint each joining peer a short-lived credential for it (or for an
// external TURN server sharing --turn-secret).
func (a *app) setupTURN(mcfg *media.Config) error {
	var static, external []string
	for _, u := range a.cfg.ICEServers {
		if a.cfg.TURNSecret != "" && (strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")) {
			external = append(external, u)
		} else {
			static = append(static, u)
		}
	}
	if len(static) > 0 {
		mcfg.ICEServers = []webrtc.ICEServer{{URLs: static}}
	}
	secret := a.cfg.TURNSecret
	if secret == "" && a.cfg.TURNEnabled() {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = hex.EncodeToString(b)
	}
	urls := external
	if a.cfg.TURNEnabled() {
		lo, hi, _ := a.cfg.RelayPortRange()
		relayIP, bind := a.relayAddress()
		var shared net.Listener
		if a.front != nil {
			shared = a.front.TURN()
		}
		tlsAddr := a.cfg.TURNTLSAddr
		if shared != nil {
			tlsAddr = ""
		}
		srv, err := turnrelay.Start(turnrelay.Config{
			UDPAddr: a.cfg.TURNUDPAddr, TCPAddr: a.cfg.TURNTCPAddr, TLSAddr: tlsAddr, TLSConfig: a.tlsConfig(), SharedTLS: shared,
			RelayIP: relayIP, RelayBind: bind, PortMin: lo, PortMax: hi, Secret: []byte(secret),
			AllowPeer: a.mediaPeerFilter(), Logger: a.log.With("component", "turn"), Registerer: a.reg,
		})
		if err != nil {
			return err
		}
		a.turn = srv
		urls = append(a.turnURLs(), urls...)
		a.log.Info("turn", "urls", strings.Join(urls, " "), "relay_ip", relayIP.String(),
			"relay_ports", a.cfg.TURNRelayPorts, "credential_ttl", a.cfg.TURNTTL.String())
	}
	if len(urls) > 0 {
		mcfg.TURN = &turnrelay.Minter{Secret: []byte(secret), TTL: a.cfg.TURNTTL, URLs: urls}
	}
	return nil
}

func (a *app) tlsConfig() *tls.Config {
	if a.tls == nil {
		return nil
	}
	return a.tls.Config
}

// relayAddress is the relay IP clients are told and where relay sockets
// bind.
func (a *app) relayAddress() (net.IP, string) {
	if ip := net.ParseIP(a.cfg.TURNRelayIP); ip != nil {
		return ip, relayBind(ip.String())
	}
	for _, addr := range []string{a.cfg.TURNUDPAddr, a.cfg.TURNTCPAddr, a.cfg.TURNTLSAddr} {
		host, _, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			return ip, ip.String()
		}
	}
	if lan := webtls.LocalIPs(); len(lan) > 0 {
		return net.ParseIP(lan[0]), "0.0.0.0"
	}
	return net.IPv4(127, 0, 0, 1), "127.0.0.1"
}

// relayBind binds relays on ip when it is this machine's, else on all
// addresses (a relay IP behind 1:1 NAT is not a local address).
func relayBind(ip string) string {
	if isLocalIP(ip) {
		return ip
	}
	return "0.0.0.0"
}

func isLocalIP(s string) bool {
	ip := net.ParseIP(s)
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// turnURLs are the built-in server's URLs as clients reach them: UDP,
// then TCP, then TLS (browsers try them in that order of preference).
func (a *app) turnURLs() []string {
	host := a.cfg.TURNHost
	if host == "" {
		if u, err := url.Parse(a.baseURL()); err == nil {
			host = u.Hostname()
		}
	}
	host = hostForURL(host)
	port := func(addr net.Addr, fallback string) string {
		if addr != nil {
			_, p, _ := net.SplitHostPort(addr.String())
			return p
		}
		_, p, _ := net.SplitHostPort(fallback)
		return p
	}
	var out []string
	if a.turn.UDPAddr() != nil {
		out = append(out, "turn:"+host+":"+port(a.turn.UDPAddr(), "")+"?transport=udp")
	}
	if a.turn.TCPAddr() != nil {
		out = append(out, "turn:"+host+":"+port(a.turn.TCPAddr(), "")+"?transport=tcp")
	}
	if a.turn.TLSAddr() != nil {
		out = append(out, "turns:"+host+":"+port(a.turn.TLSAddr(), "")+"?transport=tcp")
	} else if a.front != nil && a.front.TURN() != nil {
		out = append(out, "turns:"+host+":"+port(a.ln.Addr(), "")+"?transport=tcp")
	}
	return out
}

// mediaPeerFilter lets the relay send only to the media server's own
// addresses (advertised public IPs, or what the media sockets are bound
// to: every local address when bound to all).
func (a *app) mediaPeerFilter() func(net.IP) bool {
	var once sync.Once
	var allowed []net.IP
	return func(ip net.IP) bool {
		once.Do(func() {
			for _, p := range a.cfg.PublicIPs {
				allowed = append(allowed, net.ParseIP(p))
			}
			for _, addr := range []string{a.cfg.MediaUDPAddr, a.cfg.MediaTCPAddr} {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					continue
				}
				bound := net.ParseIP(host)
				if bound == nil || bound.IsUnspecified() {
					addrs, _ := net.InterfaceAddrs()
					for _, x := range addrs {
						if n, ok := x.(*net.IPNet); ok {
							allowed = append(allowed, n.IP)
						}
					}
					continue
				}
				allowed = append(allowed, bound)
			}
		})
		for _, x := range allowed {
			if x.Equal(ip) {
				return true
			}
		}
		return false
	}
}

// loopbackURL reaches this server from inside the process (the demo's
// robot): its own port on loopback, over HTTPS when it serves HTTPS.
func (a *app) loopbackURL() string {
	host, port, _ := net.SplitHostPort(a.httpAddr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http://"
	if a.tls != nil {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, port)
}

// selfTrust is a TLS client configuration for connections from this
// process to itself: it accepts exactly the certificate this server
// serves now (whatever its source), so the demo's robot needs no CA.
func (a *app) selfTrust() *tls.Config {
	if a.tls == nil {
		return nil
	}
	return &tls.Config{
		InsecureSkipVerify: true, // replaced by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			own, err := a.ownCertificate(cs.ServerName)
			if err != nil {
				return err
			}
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, own) {
				return errors.New("tls: the server presented a certificate that is not this server's")
			}
			return nil
		},
	}
}

func (a *app) ownCertificate(name string) ([]byte, error) {
	conf := a.tls.Config
	if len(conf.Certificates) > 0 {
		return conf.Certificates[0].Certificate[0], nil
	}
	c, err := conf.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
	if err != nil {
		return nil, err
	}
	return c.Certificate[0], nil
}

// acmeHTTPClient reaches the ACME directory trusting caFile's
// certificates besides the system's (nil: the default client).
func acmeHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("acme-ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("acme-ca %s: no PEM certificate in it", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t, Timeout: time.Minute}, nil
}

// writeSelfSigned keeps the generated certificate (not its key) in a
// file, for devices to trust with -ca-file.
func (a *app) writeSelfSigned() error {
	dir := a.cfg.DataDir
	if a.tmpDir != "" {
		dir = a.tmpDir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	a.selfSignedPEM = filepath.Join(dir, "self-signed-cert.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.tls.SelfSigned.Cert.Certificate[0]})
	return os.WriteFile(a.selfSignedPEM, b, 0o644)
}
