package webtls

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a fresh self-signed pair for host into dir, replacing
// the files by rename as renewal tools do, and returns its certificate.
func writePair(t *testing.T, dir, host string) *x509.Certificate {
	t.Helper()
	ss, err := NewSelfSigned([]string{host})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(ss.Cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"cert.pem": {Type: "CERTIFICATE", Bytes: ss.Cert.Certificate[0]},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		tmp := filepath.Join(dir, name+".new")
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return ss.Cert.Leaf
}

// serveFront starts a Front on loopback with an HTTPS handler that says
// whether it saw TLS, and the redirect handler.
func serveFront(t *testing.T, conf *tls.Config, turn bool) *Front {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFront(ln, conf, turn, nil)
	f.SniffTimeout = 2 * time.Second
	go f.Run()
	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app tls="+boolString(r.TLS != nil)+" proto="+r.Proto)
	})}
	go func() { _ = app.Serve(f.HTTP()) }()
	if r := f.Redirect(); r != nil {
		red := &http.Server{Handler: RedirectHandler("")}
		go func() { _ = red.Serve(r) }()
		t.Cleanup(func() { _ = red.Close() })
	}
	t.Cleanup(func() { _ = app.Close(); _ = f.Close() })
	return f
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func servedCert(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

func TestCertificateFileReplacedIsServed(t *testing.T) {
	dir := t.TempDir()
	first := writePair(t, dir, "first.example")
	s, err := New(Options{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	s.Files.CheckEvery = 20 * time.Millisecond
	f := serveFront(t, s.Config, false)
	addr := f.Addr().String()
	if got := servedCert(t, addr); !got.Equal(first) {
		t.Fatalf("served %v, want the first certificate", got.DNSNames)
	}

	second := writePair(t, dir, "second.example")
	deadline := time.Now().Add(5 * time.Second)
	for !servedCert(t, addr).Equal(second) {
		if time.Now().After(deadline) {
			t.Fatal("the replaced certificate was not served within 5 s")
		}
		time.Sleep(30 * time.Millisecond)
	}

	// A broken replacement is not served: the last good pair stays.
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if got := servedCert(t, addr); !got.Equal(second) {
			t.Fatalf("after a broken file, served %v, want the last good one", got.DNSNames)
		}
	}
}

func TestLoadFilesRefusesBadPair(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir, "a.example")
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), nil); err == nil {
		t.Fatal("a bad key loaded")
	}
	if _, err := LoadFiles(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "key.pem"), nil); err == nil {
		t.Fatal("a missing file loaded")
	}
}

func TestFrontSortsConnections(t *testing.T) {
	ss, err := NewSelfSigned([]string{"192.0.2.7", "seatlink.test"})
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{ss.Cert}, NextProtos: []string{"h2", "http/1.1"}}
	f := serveFront(t, conf, true)
	addr := f.Addr().String()
	pool := x509.NewCertPool()
	pool.AddCert(ss.Cert.Leaf)

	t.Run("https with ALPN", func(t *testing.T) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		resp, err := c.Get("https://" + addr + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(b); got != "app tls=yes proto=HTTP/2.0" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("plain HTTP is redirected", func(t *testing.T) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get("http://" + addr + "/join?x=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != "https://"+addr+"/join?x=1" {
			t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("TLS without ALPN carrying STUN goes to TURN", func(t *testing.T) {
		got := make(chan []byte, 1)
		go func() {
			c, err := f.TURN().Accept()
			if err != nil {
				got <- nil
				return
			}
			defer c.Close()
			b := make([]byte, 20)
			_, _ = io.ReadFull(c, b)
			got <- b
		}()
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "seatlink.test"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A STUN binding request header: type 0x0001, length 0, magic cookie, id.
		msg := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if string(b) != string(msg) {
				t.Fatalf("TURN got %x, want %x", b, msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("TURN listener got nothing")
		}
	})
	t.Run("TLS without ALPN carrying HTTP goes to HTTPS", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "seatlink.test"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /y HTTP/1.1\r\nHost: seatlink.test\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if !strings.HasPrefix(string(b), "app ") {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("a silent connection is closed", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		if _, err := c.Read(make([]byte, 1)); err == nil || time.Since(start) > 4*time.Second {
			t.Fatalf("silent connection: err %v after %s, want closed after the 2 s sniff timeout", err, time.Since(start))
		}
	})
}

func TestSelfSignedNamesHosts(t *testing.T) {
	ss, err := NewSelfSigned([]string{"192.168.1.20", "0.0.0.0", "class.local"})
	if err != nil {
		t.Fatal(err)
	}
	leaf := ss.Cert.Leaf
	for _, h := range []string{"192.168.1.20", "127.0.0.1", "localhost", "class.local"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	for _, ip := range leaf.IPAddresses {
		if ip.IsUnspecified() {
			t.Error("an unspecified address was certified")
		}
	}
	if len(ss.SHA256) != 95 || strings.Count(ss.SHA256, ":") != 31 {
		t.Errorf("fingerprint %q: want 32 colon-separated bytes", ss.SHA256)
	}
}
