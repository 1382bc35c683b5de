// Package webtls is how `serve` terminates TLS itself: certificates from
// files (reloaded when they change), from an ACME CA (autocert, answering
// TLS-ALPN-01 on the same port), or generated and self-signed for a demo
// on a LAN; and one front listener that sorts each connection on the
// public port into HTTPS, a redirect for plain HTTP, or TURN over TLS.
package webtls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// FileCert serves a certificate and key from two PEM files and loads them
// again when either changes (checked at most once per CheckEvery, on a
// handshake), so a renewed certificate (certbot, cert-manager, an LA's own
// CA) is served without a restart. A pair that does not load is logged
// and the last good one kept.
type FileCert struct {
	certPath, keyPath string
	// CheckEvery bounds how often the files are looked at (default 1 s).
	CheckEvery time.Duration
	log        *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string
	lastCheck time.Time
}

// LoadFiles loads the pair now; an unusable pair is an error at start.
func LoadFiles(certPath, keyPath string, log *slog.Logger) (*FileCert, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &FileCert{certPath: certPath, keyPath: keyPath, CheckEvery: time.Second, log: log}
	stamp, err := f.fileStamp()
	if err != nil {
		return nil, err
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	f.cert, f.stamp, f.lastCheck = &c, stamp, time.Now()
	return f, nil
}

// fileStamp names the files' current versions: size and modification
// time of both (a rename over the file, as renewal tools do, changes it).
func (f *FileCert) fileStamp() (string, error) {
	var b strings.Builder
	for _, p := range []string{f.certPath, f.keyPath} {
		st, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("tls: %w", err)
		}
		fmt.Fprintf(&b, "%d/%d;", st.Size(), st.ModTime().UnixNano())
	}
	return b.String(), nil
}

// GetCertificate is for tls.Config.
func (f *FileCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.lastCheck) >= f.CheckEvery {
		f.lastCheck = time.Now()
		f.reloadLocked()
	}
	return f.cert, nil
}

func (f *FileCert) reloadLocked() {
	stamp, err := f.fileStamp()
	if err != nil || stamp == f.stamp {
		if err != nil {
			f.log.Warn("tls: certificate files unreadable; serving the last good pair", "err", err)
		}
		return
	}
	c, err := tls.LoadX509KeyPair(f.certPath, f.keyPath)
	if err != nil {
		// Often the two files are mid-replacement; the next check retries.
		f.log.Warn("tls: new certificate files do not load; serving the last good pair", "err", err)
		return
	}
	f.cert, f.stamp = &c, stamp
	f.log.Info("tls: certificate reloaded", "not_after", notAfter(&c))
}

func notAfter(c *tls.Certificate) string {
	if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil {
		return leaf.NotAfter.UTC().Format(time.RFC3339)
	}
	return "?"
}

// SelfSigned is a generated certificate for hosts (names or IPs), valid
// for 30 days from now, with its fingerprints for the person to check.
type SelfSigned struct {
	Cert tls.Certificate
	// SHA256 is the certificate's fingerprint as browsers show it
	// (AA:BB:…); SPKI is the base64 SHA-256 of its public key, as
	// Chromium's --ignore-certificate-errors-spki-list takes it.
	SHA256, SPKI string
}

// NewSelfSigned makes a P-256 certificate naming hosts, localhost and the
// loopback addresses.
func NewSelfSigned(hosts []string) (*SelfSigned, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"Seatlink demo (self-signed)"}, CommonName: "seatlink"},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() && !containsIP(tmpl.IPAddresses, ip) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if h != "" && h != "localhost" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return &SelfSigned{
		Cert:   tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		SHA256: colonHex(sum[:]),
		SPKI:   base64.StdEncoding.EncodeToString(spki[:]),
	}, nil
}

func containsIP(ips []net.IP, ip net.IP) bool {
	for _, x := range ips {
		if x.Equal(ip) {
			return true
		}
	}
	return false
}

func colonHex(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var out bytes.Buffer
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			out.WriteByte(':')
		}
		out.WriteString(h[i : i+2])
	}
	return out.String()
}

// LocalIPs are this machine's addresses other than loopback and
// link-local, for a self-signed certificate served to the LAN.
func LocalIPs() []string {
	var out []string
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range ifs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, n.IP.String())
	}
	return out
}
