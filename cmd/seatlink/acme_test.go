package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"seatlink/internal/config"
)

// TestACMECertificateByTLSALPN01 gets a certificate from a real ACME CA,
// Let's Encrypt's test server pebble (deploy/pebble.sh builds it), which
// checks the TLS-ALPN-01 challenge by connecting to the server's own
// HTTPS port: it resolves the name through a DNS server in this test that
// knows only that name, at 127.0.0.1.
func TestACMECertificateByTLSALPN01(t *testing.T) {
	bin, dir := os.Getenv("SEATLINK_TEST_PEBBLE"), os.Getenv("SEATLINK_TEST_PEBBLE_DIR")
	if bin == "" || dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SEATLINK_TEST_PEBBLE or SEATLINK_TEST_PEBBLE_DIR is not set: the ACME test cannot run, and CI does not skip it (run deploy/test.sh)")
		}
		t.Skip("SEATLINK_TEST_PEBBLE not set; source deploy/pebble.sh (or run deploy/test.sh) to test ACME against pebble")
	}
	const domain = "school.seatlink.test"
	start := time.Now()
	dnsAddr, lookups := startTestDNS(t, domain)

	// Pebble needs the server's port and the server pebble's URL: the
	// server listens at once, and fetches the directory only when the
	// first handshake asks for a certificate, so pebble's ports are chosen
	// first and pebble started after the server.
	pebbleAddr, mgmtAddr := freePort(t), freePort(t)
	cache := t.TempDir()
	serveWith := func(c *config.Serve) {
		c.ACMEDomains = []string{domain}
		c.ACMEDirectory = "https://" + pebbleAddr + "/dir"
		c.ACMECA = filepath.Join(dir, "test", "certs", "pebble.minica.pem")
		c.ACMECache = cache
	}
	a := testAppWith(t, serveWith)
	_, port, _ := net.SplitHostPort(a.httpAddr().String())
	pebble := startPebble(t, bin, dir, pebbleAddr, mgmtAddr, port, dnsAddr)
	t.Logf("pebble up after %s", time.Since(start).Round(time.Millisecond))

	// Pebble makes a new root and intermediate at each start.
	root, inter := pebble.cert(t, "/roots/0"), pebble.cert(t, "/intermediates/0")
	roots := x509.NewCertPool()
	roots.AddCert(root)

	// The first handshake for the name starts the order; it may end
	// before the certificate comes (the server bounds a handshake), so
	// try again until it does.
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: domain, RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, a.httpAddr().String())
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	issued := time.Now()
	var leaf *x509.Certificate
	var last string
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := client.Get("https://" + net.JoinHostPort(domain, port) + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /healthz over ACME HTTPS: %s", resp.Status)
			}
			leaf = resp.TLS.PeerCertificates[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate from pebble within 60 s: %v\npebble:\n%s", err, pebble.out.String())
		}
		if err.Error() != last { // once per different error
			last = err.Error()
			t.Logf("not yet (%s): %v", time.Since(issued).Round(time.Millisecond), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("certificate served %s after the first request (%s from the test's start)",
		time.Since(issued).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	if !slices.Contains(leaf.DNSNames, domain) {
		t.Errorf("certificate names %v, want %s", leaf.DNSNames, domain)
	}
	// It chains to pebble's intermediate and root (not only to what the
	// server sent along).
	inters := x509.NewCertPool()
	inters.AddCert(inter)
	chains, err := leaf.Verify(x509.VerifyOptions{DNSName: domain, Roots: roots, Intermediates: inters})
	if err != nil {
		t.Fatalf("the served certificate does not chain to pebble's: %v", err)
	}
	if got := chains[0]; len(got) != 3 || !got[1].Equal(inter) || !got[2].Equal(root) {
		t.Errorf("chain is %d long, want leaf, pebble's intermediate, pebble's root", len(got))
	}
	// Pebble checked the challenge for real: it looked the name up (to
	// reach our port), and the server offers TLS-ALPN-01 alone (autocert
	// answers HTTP-01 only with its HTTP handler mounted, and seatlink
	// mounts none).
	if n := lookups(); n == 0 {
		t.Error("pebble never looked the name up: the challenge was not checked on our port")
	} else {
		t.Logf("pebble looked %s up %d times (A) to check the challenge", domain, n)
	}

	// A name outside --acme-domain gets no certificate, and no order.
	orders := strings.Count(pebble.out.String(), "Added order")
	err = handshake(a.httpAddr().String(), "other.seatlink.test", nil)
	if err == nil {
		t.Error("a handshake for other.seatlink.test succeeded; the host policy should refuse it")
	}
	if n := strings.Count(pebble.out.String(), "Added order"); n != orders {
		t.Errorf("a handshake for other.seatlink.test made an order at the CA (%d orders, then %d)", orders, n)
	}

	// The certificate is in the cache: a second server on the same cache
	// serves it with pebble gone.
	b, err := os.ReadFile(filepath.Join(cache, domain))
	if err != nil {
		t.Fatalf("the certificate is not in the ACME cache: %v", err)
	}
	if !bytes.Contains(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})) {
		t.Error("the cache's entry for the name is not the served certificate")
	}
	pebble.stop()
	a2 := testAppWith(t, serveWith)
	var again *x509.Certificate
	err = handshake(a2.httpAddr().String(), domain, func(cs tls.ConnectionState) {
		again = cs.PeerCertificates[0]
	})
	if err != nil {
		t.Fatalf("a second server on the same cache, pebble stopped: %v", err)
	}
	if !again.Equal(leaf) {
		t.Error("the second server serves a different certificate from the cached one")
	}
	t.Logf("whole test %s", time.Since(start).Round(time.Millisecond))
}

// handshake makes a TLS handshake to addr for name, trusting anything
// (what is checked is the server's choice), and hands its state to seen.
func handshake(addr, name string, seen func(tls.ConnectionState)) error {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second},
		Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if seen != nil {
		seen(c.(*tls.Conn).ConnectionState())
	}
	return nil
}

// startTestDNS answers, at 127.0.0.1 on one port over UDP and TCP
// (pebble asks over TCP), A 127.0.0.1 for name, an empty answer for its
// other types and NXDOMAIN for every other name. lookups counts the A
// questions for name.
func startTestDNS(t *testing.T, name string) (addr string, lookups func() int64) {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ln == nil; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			if try == 20 {
				t.Fatalf("no port free for DNS over both UDP and TCP: %v", err)
			}
		}
	}
	fqdn := strings.ToLower(name) + "."
	var asked atomic.Int64
	answer := func(q []byte) ([]byte, bool) {
		out, ok, a := dnsAnswer(q, fqdn)
		if a {
			asked.Add(1)
		}
		return out, ok
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out, ok := answer(buf[:n]); ok {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { mu.Lock(); delete(conns, c); mu.Unlock(); c.Close() }()
				for { // messages with a two-byte length before each
					_ = c.SetDeadline(time.Now().Add(10 * time.Second))
					var n [2]byte
					if _, err := io.ReadFull(c, n[:]); err != nil {
						return
					}
					q := make([]byte, int(n[0])<<8|int(n[1]))
					if _, err := io.ReadFull(c, q); err != nil {
						return
					}
					out, ok := answer(q)
					if !ok {
						return
					}
					if _, err := c.Write(append([]byte{byte(len(out) >> 8), byte(len(out))}, out...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return pc.LocalAddr().String(), asked.Load
}

// dnsAnswer is the answer to query; a says it was the A question for fqdn.
func dnsAnswer(query []byte, fqdn string) (out []byte, ok, a bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil, false, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	ours := strings.ToLower(q.Name.String()) == fqdn
	if !ours {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false, false
	}
	a = ours && q.Type == dnsmessage.TypeA && q.Class == dnsmessage.ClassINET
	if a {
		err := b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
		if err != nil {
			return nil, false, false
		}
	}
	out, err = b.Finish()
	return out, err == nil, a
}

// testPebble is a running pebble and what it printed.
type testPebble struct {
	mgmt   string
	client *http.Client
	out    *syncBuffer
	stop   func()
}

// startPebble runs pebble with its directory at addr, its management
// interface at mgmt, TLS-ALPN-01 checked on tlsPort and names resolved
// by dns, and waits (bounded) until the directory answers.
func startPebble(t *testing.T, bin, dir, addr, mgmt, tlsPort, dns string) *testPebble {
	t.Helper()
	var port int
	if _, err := fmt.Sscan(tlsPort, &port); err != nil {
		t.Fatal(err)
	}
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":           addr,
		"managementListenAddress": mgmt,
		"certificate":             filepath.Join(dir, "test", "certs", "localhost", "cert.pem"),
		"privateKey":              filepath.Join(dir, "test", "certs", "localhost", "key.pem"),
		"httpPort":                1, // unused: the server answers TLS-ALPN-01 only
		"tlsPort":                 port,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"profiles": map[string]any{"default": map[string]any{
			"description": "90 days", "validityPeriod": 90 * 24 * 3600}},
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(t.TempDir(), "pebble.json")
	if err := os.WriteFile(confFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &testPebble{mgmt: mgmt, out: &syncBuffer{}}
	cmd := exec.Command(bin, "-config", confFile, "-dnsserver", dns)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PEBBLE_") { // never PEBBLE_VA_ALWAYS_VALID from outside
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pebble: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("pebble (pid %d) did not exit after kill", cmd.Process.Pid)
			}
		})
	}
	t.Cleanup(p.stop)

	pem, err := os.ReadFile(filepath.Join(dir, "test", "certs", "pebble.minica.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("pebble.minica.pem holds no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	p.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case <-exited:
			t.Fatalf("pebble exited:\n%s", p.out.String())
		default:
		}
		resp, err := p.client.Get("https://" + addr + "/dir")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble's directory did not answer within 30 s: %v\n%s", err, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cert fetches a PEM certificate from pebble's management interface.
func (p *testPebble) cert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	resp, err := p.client.Get("https://" + p.mgmt + path)
	if err != nil {
		t.Fatalf("pebble %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pebble %s: %s %v", path, resp.Status, err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("pebble %s: no PEM in %q", path, b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("pebble %s: %v", path, err)
	}
	return c
}

// syncBuffer is a bytes.Buffer a subprocess and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
