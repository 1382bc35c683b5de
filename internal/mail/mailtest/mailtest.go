// Package mailtest starts a real SMTP server for a test: mailpit (built
// by deploy/mailpit.sh), on loopback ports of its own, with STARTTLS on a
// certificate made for the test and any password accepted, and reads what
// it received over its HTTP API. Without mailpit a test skips, except
// under CI, where it fails.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"seatlink/internal/webtls"
)

// Server is a running mailpit.
type Server struct {
	SMTPAddr string
	api      string
	// TLS trusts the server's certificate (for the client's STARTTLS);
	// CAFile is that certificate as a PEM file.
	TLS    *tls.Config
	CAFile string
}

// Path finds mailpit: $SEATLINK_MAILPIT, or where deploy/mailpit.sh
// builds it.
func Path() string {
	if p := os.Getenv("SEATLINK_MAILPIT"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	matches, _ := filepath.Glob(filepath.Join(home, ".cache", "seatlink", "mailpit-*", "mailpit"))
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return ""
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs mailpit until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Path()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("mailpit not found (deploy/test.sh builds it: source deploy/mailpit.sh); CI does not skip")
		}
		t.Skip("mailpit not found; source deploy/mailpit.sh")
	}
	dir := t.TempDir()
	ss, err := webtls.NewSelfSigned(nil)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalECPrivateKey(ss.Cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ss.Cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	smtpAddr, httpAddr := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(dir, "mail.db"),
		"--smtp-tls-cert", certPath, "--smtp-tls-key", keyPath, "--smtp-require-starttls", "--smtp-auth-accept-any",
		"--smtp-disable-rdns", "--disable-version-check", "--quiet")
	log, err := os.Create(filepath.Join(dir, "mailpit.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); log.Close() })
	pool := x509.NewCertPool()
	pool.AddCert(ss.Cert.Leaf)
	s := &Server{SMTPAddr: smtpAddr, api: "http://" + httpAddr, TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"},
		CAFile: certPath}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", smtpAddr, time.Second)
		if err == nil {
			c.Close()
			if r, err := http.Get(s.api + "/api/v1/messages"); err == nil {
				r.Body.Close()
				if r.StatusCode == http.StatusOK {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "mailpit.log"))
			t.Fatalf("mailpit did not start: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Mail is one message mailpit received.
type Mail struct {
	ID      string
	To      []string
	Subject string
	Text    string
	Headers map[string][]string
}

// Messages are the messages received so far, with their text.
func (s *Server) Messages(t testing.TB) []Mail {
	t.Helper()
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	s.get(t, "/api/v1/messages", &list)
	out := []Mail{}
	for _, m := range list.Messages {
		var full struct {
			To      []struct{ Address string } `json:"To"`
			Subject string                     `json:"Subject"`
			Text    string                     `json:"Text"`
		}
		s.get(t, "/api/v1/message/"+m.ID, &full)
		var headers map[string][]string
		s.get(t, "/api/v1/message/"+m.ID+"/headers", &headers)
		mail := Mail{ID: m.ID, Subject: full.Subject, Text: full.Text, Headers: headers}
		for _, to := range full.To {
			mail.To = append(mail.To, to.Address)
		}
		out = append(out, mail)
	}
	return out
}

// WaitFor waits up to d for n messages.
func (s *Server) WaitFor(t testing.TB, n int, d time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := s.Messages(t)
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				t.Fatalf("mailpit received %d messages in %s, want %d", len(got), d, n)
			}
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	r, err := http.Get(s.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, r.Status)
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatal(fmt.Errorf("mailpit %s: %w", path, err))
	}
}
