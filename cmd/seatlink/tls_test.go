package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/turn/v5"

	"seatlink/internal/browsertest"
	"seatlink/internal/config"
	"seatlink/internal/webtls"
)

// writeCertFiles writes a fresh certificate for 127.0.0.1 (and name) as
// PEM files in dir, replacing any by rename as renewal tools do.
func writeCertFiles(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	ss, err := webtls.NewSelfSigned([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(ss.Cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	for file, b := range map[string]*pem.Block{"cert.pem": {Type: "CERTIFICATE", Bytes: ss.Cert.Certificate[0]},
		"key.pem": {Type: "PRIVATE KEY", Bytes: key}} {
		if err := os.WriteFile(filepath.Join(dir, file+".tmp"), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, file+".tmp"), filepath.Join(dir, file)); err != nil {
			t.Fatal(err)
		}
	}
	return ss.Cert.Leaf
}

func trusting(certs ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// serve --tls-cert/--tls-key: HTTPS with HSTS, join links and cookies
// that say so, plain HTTP on the same port redirected, and a replaced
// certificate file served without a restart.
func TestServeHTTPSFromCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	first := writeCertFiles(t, dir, "seatlink.test")
	a := testAppWith(t, func(c *config.Serve) {
		c.TLSCert, c.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	})
	a.tls.Files.CheckEvery = 50 * time.Millisecond
	base := a.baseURL()
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base URL %q: want https:// by default when TLS is on", base)
	}
	c := trusting(first)
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Fatalf("healthz over HTTPS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}

	// Plain HTTP on the HTTPS port is redirected, path and query kept.
	plain := "http://" + a.httpAddr().String()
	resp, err = c.Get(plain + "/join?lang=cy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != base+"/join?lang=cy" {
		t.Fatalf("plain HTTP: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Join links and the session cookie are for HTTPS.
	if err := a.startDemo(io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.demo.JoinURL, base+"/join#") {
		t.Fatalf("join link %q", a.demo.JoinURL)
	}
	body := `{"email":"` + a.demo.Teacher.Email + `","password":"` + a.demo.passwords[a.demo.Teacher.Email] + `"}`
	resp, err = c.Post(base+"/api/v1/session", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), "; Secure") {
		t.Fatalf("sign-in over HTTPS: %d, cookies %q: want Secure", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}

	// A renewed certificate is served within a few seconds.
	second := writeCertFiles(t, dir, "renewed.seatlink.test")
	waitFor(t, 5*time.Second, "the replaced certificate to be served", func() bool {
		conn, err := tls.Dial("tcp", a.httpAddr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return false
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Equal(second)
	})
	if _, err := trusting(second).Get(base + "/healthz"); err != nil {
		t.Fatalf("with the renewed certificate: %v", err)
	}
}

// The demo's own words for serving to the LAN work as printed: HTTPS
// with a generated certificate whose fingerprint is printed, a join
// link on a LAN address the certificate covers, and the in-process
// robot connected over TLS.
func TestDemoLANLineServesHTTPS(t *testing.T) {
	var out strings.Builder
	plain := testApp(t)
	if err := plain.startDemo(&out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^to serve the demo to other devices on this network \(HTTPS, self-signed\): seatlink (.+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the demo does not say how to serve it to the LAN:\n%s", out.String())
	}
	// The printed command, on free ports.
	args := strings.Fields(regexp.MustCompile(`:(8443|8444)\b`).ReplaceAllString(m[1], ":0"))
	if args[0] != "serve" {
		t.Fatalf("printed %q", m[1])
	}
	cfg, _, err := config.LoadServe(args[1:], nil)
	if err != nil {
		t.Fatalf("the printed command does not parse: %v", err)
	}
	cfg.DatabaseURL, cfg.DataDir = "", t.TempDir()
	a, err := startApp(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("the printed command does not start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.stop(ctx)
	})
	out.Reset()
	if err := a.startDemo(&out); err != nil {
		t.Fatal(err)
	}
	fp := regexp.MustCompile(`(?m)^certificate: self-signed, SHA-256 ([0-9A-F:]{95}) `).FindStringSubmatch(out.String())
	if fp == nil {
		t.Fatalf("no fingerprint printed:\n%s", out.String())
	}
	u, err := url.Parse(a.demo.JoinURL)
	if err != nil || u.Scheme != "https" {
		t.Fatalf("join link %q", a.demo.JoinURL)
	}
	if lan := webtls.LocalIPs(); len(lan) > 0 && u.Hostname() != lan[0] {
		t.Errorf("join link host %s: want this machine's LAN address %s", u.Hostname(), lan[0])
	}
	leaf := a.tls.SelfSigned.Cert.Leaf
	if a.tls.SelfSigned.SHA256 != fp[1] {
		t.Fatal("the printed fingerprint is not the served certificate's")
	}
	if err := leaf.VerifyHostname(u.Hostname()); err != nil {
		t.Fatalf("the certificate does not cover the join link's host: %v", err)
	}
	resp, err := trusting(leaf).Get("https://" + u.Host + "/join")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("join page over HTTPS: %d", resp.StatusCode)
	}
	// The certificate file the demo names makes a device trust it.
	cf := regexp.MustCompile(`(?m)^certificate file for devices \(-ca-file\): (\S+)$`).FindStringSubmatch(out.String())
	if cf == nil {
		t.Fatalf("no certificate file printed:\n%s", out.String())
	}
	fs := flag.NewFlagSet("device-sim", flag.ContinueOnError)
	rf := newRobotFlags(fs, "x.json")
	if err := fs.Parse([]string{"-ca-file", cf[1]}); err != nil {
		t.Fatal(err)
	}
	dev, err := rf.tls()
	if err != nil {
		t.Fatal(err)
	}
	resp, err = (&http.Client{Transport: &http.Transport{TLSClientConfig: dev}}).Get("https://" + u.Host + "/healthz")
	if err != nil {
		t.Fatalf("a device trusting -ca-file %s: %v", cf[1], err)
	}
	resp.Body.Close()
	waitFor(t, 15*time.Second, "the demo robot connected over TLS", func() bool {
		return a.demoRobot != nil && a.demoRobot.Stats().Connects > 0
	})
}

// TURN over TLS on the HTTPS port itself: a school firewall that opens
// only 443 still lets a pupil relay, with a credential minted at join.
func TestTURNSharesTheHTTPSPort(t *testing.T) {
	a := testAppWith(t, func(c *config.Serve) {
		c.TLSSelfSigned = true
		c.TURNTLSAddr = c.HTTPAddr
	})
	ice := a.sfu.ICEServersFor("peer-t")
	if len(ice) != 1 || len(ice[0].URLs) != 1 || !strings.HasPrefix(ice[0].URLs[0], "turns:127.0.0.1:") {
		t.Fatalf("ICE servers %+v: want one turns: URL on the HTTPS port", ice)
	}
	_, port, _ := net.SplitHostPort(a.httpAddr().String())
	if !strings.Contains(ice[0].URLs[0], ":"+port+"?transport=tcp") {
		t.Fatalf("TURN URL %s is not on the HTTPS port %s", ice[0].URLs[0], port)
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.tls.SelfSigned.Cert.Leaf)
	tc, err := tls.Dial("tcp", a.httpAddr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	client, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: a.httpAddr().String(), STUNServerAddr: a.httpAddr().String(),
		Conn: turn.NewSTUNConn(tc), Username: ice[0].Username, Password: ice[0].Credential.(string), Realm: "seatlink"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := client.Allocate()
	if err != nil {
		t.Fatalf("TURN over TLS on the HTTPS port: %v", err)
	}
	defer relay.Close()
	// The same port still serves HTTPS to browsers.
	resp, err := trusting(a.tls.SelfSigned.Cert.Leaf).Get(a.baseURL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// The pupil page over HTTPS on a LAN address (not loopback, so only TLS
// makes it a secure context) with the self-signed certificate trusted
// as a person would after checking its fingerprint: the page is a secure
// context, the microphone reaches the robot and the class is seen.
func TestBrowserPupilOverHTTPS(t *testing.T) {
	a := testAppWith(t, func(c *config.Serve) {
		c.TLSSelfSigned = true
		c.HTTPAddr = "0.0.0.0:0"
	})
	host := "127.0.0.1"
	if lan := webtls.LocalIPs(); len(lan) > 0 {
		host = lan[0]
	} else {
		t.Log("no LAN address: the page is served on loopback")
	}
	ctx, _ := browsertest.New(t, chromedp.Flag("ignore-certificate-errors-spki-list", a.tls.SelfSigned.SPKI))
	link := newTestLink(t, a)
	robot := startRobot(t, a, link, nil)
	waitFor(t, 10*time.Second, "the robot to join", func() bool { return robot.Stats().Connects > 0 })

	_, port, _ := net.SplitHostPort(a.httpAddr().String())
	page := "https://" + net.JoinHostPort(host, port) + "/join#" + link.PupilToken
	if err := browsertest.Do(ctx, 20*time.Second, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	secure, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.isSecureContext && location.protocol === 'https:'`))
	if err != nil || !secure {
		t.Fatalf("the page over HTTPS is not a secure context: %v %v", secure, err)
	}
	const decoded = `(() => { const v = document.getElementById('classroom');
		return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0; })()`
	waitFor(t, 20*time.Second, "30 decoded frames of the class", func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[float64](decoded))
		return err == nil && n > 30
	})
	waitFor(t, 15*time.Second, "the pupil's microphone at the robot", func() bool {
		return robot.Stats().PupilAudioPackets > 50
	})
}
