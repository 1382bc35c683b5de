// Package config is Seatlink's configuration in layers: built-in defaults,
// then SEATLINK_* environment variables, then command-line flags, then
// Validate. Unknown SEATLINK_* variables are refused, so a typo is never
// silently ignored.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"seatlink/internal/mail"
)

// Serve is the configuration of `seatlink serve`.
type Serve struct {
	// HTTPAddr is where the control plane (REST, WebSocket, UI) listens.
	HTTPAddr string
	// PublicURL is the base URL people reach the server at, used in join
	// links. Default: http://HTTPAddr.
	PublicURL string
	// MediaUDPAddr is the single UDP port all peers' media uses (ICE UDP mux).
	MediaUDPAddr string
	// MediaTCPAddr is the ICE-TCP listen address; "off" disables ICE-TCP.
	MediaTCPAddr string
	// PublicIPs are advertised in ICE host candidates instead of the listen
	// address (a server behind 1:1 NAT).
	PublicIPs []string
	// ICEServers are STUN/TURN URLs handed to clients.
	ICEServers []string
	// ShutdownGrace is how long a stopping server waits for sessions to
	// close before it closes them hard.
	ShutdownGrace time.Duration
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string
	// DatabaseURL is postgres://… for PostgreSQL, or a SQLite file path.
	// Empty: ./seatlink-data/seatlink.db, or with --demo a fresh temporary
	// database, so the demo never mixes with real records.
	DatabaseURL string
	// DataDir holds the embedded defaults' files.
	DataDir string
	// SecureCookies marks cookies Secure behind a TLS-terminating proxy.
	SecureCookies bool
	// HeartbeatInterval is what devices are told to keep; two missed
	// intervals mark a device offline.
	HeartbeatInterval time.Duration
	// TelemetryDays is how long device telemetry is kept.
	TelemetryDays int
	// Demo creates a demo link with an in-process simulated robot.
	Demo bool
	// DemoRobot runs the demo's simulated robot in-process (with Demo).
	DemoRobot bool
	// S3Endpoint (host:port) keeps lesson material in MinIO or another S3
	// store; empty keeps it in DATA-DIR/materials.
	S3Endpoint  string
	S3AccessKey string
	S3SecretKey string
	S3Bucket    string
	S3Secure    bool
	S3Region    string
	// MaterialMaxMB bounds one upload of lesson material.
	MaterialMaxMB int
	// PprofAddr serves Go's profiler (/debug/pprof/) on a loopback
	// address of its own, for load tests; empty is off.
	PprofAddr string
	// MetricsAddr serves Prometheus metrics (/metrics) on an address of
	// its own, never on the public HTTP port; empty is off.
	MetricsAddr string

	// TLS: serve HTTPS on HTTPAddr from a certificate and key file
	// (reloaded when they change), from an ACME CA for ACMEDomains
	// (TLS-ALPN-01, so only this port is needed), or from a generated
	// self-signed certificate (a demo on a LAN). At most one.
	TLSCert, TLSKey string
	TLSSelfSigned   bool
	ACMEDomains     []string
	ACMEEmail       string
	// ACMEDirectory is the CA's directory URL (default Let's Encrypt).
	ACMEDirectory string
	// ACMECache holds issued certificates (default DATA-DIR/acme).
	ACMECache string
	// ACMECA is a PEM file of CA certificates to trust for the ACME
	// directory itself (an LA's private ACME CA, such as step-ca).
	ACMECA string
	// RedirectAddr, with TLS on, is a plain-HTTP address (often :80)
	// that only redirects to HTTPS; plain HTTP on the HTTPS port is
	// redirected too.
	RedirectAddr string

	// TURN built in: UDP, TCP and TLS listen addresses (TLS may be the
	// HTTPS address itself, sharing 443). Off unless one is set.
	TURNUDPAddr, TURNTCPAddr, TURNTLSAddr string
	// TURNRelayIP is the address relayed media is sent from and that
	// clients are told (needed behind NAT or on an unspecified bind).
	TURNRelayIP string
	// TURNRelayPorts is the relay port range, MIN-MAX.
	TURNRelayPorts string
	// TURNHost is the name or IP clients reach TURN at (default: the
	// public URL's host).
	TURNHost string
	// TURNSecret signs short-lived credentials (the TURN REST
	// convention); with an external TURN server (coturn's
	// static-auth-secret) and turn: URLs in ICEServers, the same.
	// Generated at start for the built-in server when empty.
	TURNSecret string
	// TURNTTL is how long a minted credential may open an allocation.
	TURNTTL time.Duration

	// SMTPAddr (host:port) turns on e-mail notices: a family or a key
	// adult is told that a message waits, with a link and never its words.
	SMTPAddr     string
	SMTPFrom     string
	SMTPUser     string
	SMTPPassword string
	// SMTPTLS is starttls (default), tls, or none (a relay on this
	// machine only).
	SMTPTLS string
	// SMTPCA is a PEM file of CA certificates to trust for the mail
	// server (an LA's private CA); default: the system's.
	SMTPCA string
}

// Mail is the SMTP configuration, zero when mail is off.
func (c Serve) Mail() mail.Config {
	if c.SMTPAddr == "" {
		return mail.Config{}
	}
	return mail.Config{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUser, Password: c.SMTPPassword, TLS: c.SMTPTLS}
}

// Defaults are the embedded defaults: loopback only, no setup.
func Defaults() Serve {
	return Serve{
		HTTPAddr:          "127.0.0.1:8080",
		MediaUDPAddr:      "127.0.0.1:8443",
		MediaTCPAddr:      "127.0.0.1:8443",
		ShutdownGrace:     5 * time.Second,
		DataDir:           "seatlink-data",
		HeartbeatInterval: 10 * time.Second,
		TelemetryDays:     30,
		LogLevel:          "info",
		LogFormat:         "text",
		DemoRobot:         true,
		S3Bucket:          "seatlink",
		MaterialMaxMB:     200,
		ACMEDirectory:     "https://acme-v02.api.letsencrypt.org/directory",
		TURNRelayPorts:    "49160-49999",
		TURNTTL:           30 * time.Minute,
	}
}

type listValue struct{ p *[]string }

func (l listValue) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listValue) Set(s string) error {
	*l.p = splitList(s)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// bind registers every setting as a flag; env names are SEATLINK_ plus the
// flag name upper-cased with dashes as underscores.
func (c *Serve) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base URL for join links (default http://HTTP-ADDR)")
	fs.StringVar(&c.MediaUDPAddr, "media-udp", c.MediaUDPAddr, "ICE UDP mux address (one port for all media)")
	fs.StringVar(&c.MediaTCPAddr, "media-tcp", c.MediaTCPAddr, "ICE-TCP listen address, or off")
	fs.Var(listValue{&c.PublicIPs}, "public-ips", "comma-separated IPs to advertise in ICE candidates")
	fs.Var(listValue{&c.ICEServers}, "ice-servers", "comma-separated STUN/TURN URLs for clients")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "time to drain sessions on shutdown")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL,
		"postgres://… or a SQLite file (default DATA-DIR/seatlink.db; with --demo a temporary one)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder for the embedded defaults' files")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", c.SecureCookies, "mark cookies Secure (behind a TLS proxy)")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", c.HeartbeatInterval,
		"device heartbeat interval; two missed mark a device offline")
	fs.IntVar(&c.TelemetryDays, "telemetry-days", c.TelemetryDays, "days of device telemetry to keep")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "create a demo link with a simulated robot and print the pupil's join link")
	fs.BoolVar(&c.DemoRobot, "demo-robot", c.DemoRobot, "with --demo, run the simulated robot in-process")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", c.S3Endpoint, "MinIO/S3 host:port for lesson material (default: DATA-DIR/materials)")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", c.S3AccessKey, "S3 access key")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", c.S3SecretKey, "S3 secret key (prefer the environment variable)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", c.S3Bucket, "S3 bucket (created if missing)")
	fs.BoolVar(&c.S3Secure, "s3-secure", c.S3Secure, "reach S3 over HTTPS")
	fs.StringVar(&c.S3Region, "s3-region", c.S3Region, "S3 region, if the store needs one")
	fs.IntVar(&c.MaterialMaxMB, "material-max-mb", c.MaterialMaxMB, "largest lesson-material upload, in MB")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr, "serve Go's profiler on this loopback address (off by default)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "serve Prometheus /metrics on this address of its own, not the public port (off by default)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "serve HTTPS with this PEM certificate (chain) file; reloaded when it changes")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "the PEM private key for --tls-cert")
	fs.BoolVar(&c.TLSSelfSigned, "tls-self-signed", c.TLSSelfSigned, "serve HTTPS with a generated self-signed certificate (a demo on a LAN; its fingerprint is printed)")
	fs.Var(listValue{&c.ACMEDomains}, "acme-domain", "serve HTTPS with automatic certificates for these public names (TLS-ALPN-01 on this port; needs :443 reachable)")
	fs.StringVar(&c.ACMEEmail, "acme-email", c.ACMEEmail, "contact address given to the ACME CA")
	fs.StringVar(&c.ACMEDirectory, "acme-directory", c.ACMEDirectory, "ACME directory URL")
	fs.StringVar(&c.ACMECA, "acme-ca", c.ACMECA, "PEM CA certificates to trust for the ACME directory (a private ACME CA)")
	fs.StringVar(&c.ACMECache, "acme-cache", c.ACMECache, "folder for ACME certificates (default DATA-DIR/acme)")
	fs.StringVar(&c.RedirectAddr, "redirect-addr", c.RedirectAddr, "with TLS, a plain-HTTP address (e.g. :80) that redirects to HTTPS")
	fs.StringVar(&c.TURNUDPAddr, "turn-udp", c.TURNUDPAddr, "built-in TURN server over UDP on this address (e.g. :3478; off by default)")
	fs.StringVar(&c.TURNTCPAddr, "turn-tcp", c.TURNTCPAddr, "built-in TURN server over TCP on this address (e.g. :3478)")
	fs.StringVar(&c.TURNTLSAddr, "turn-tls", c.TURNTLSAddr, "built-in TURN over TLS on this address (e.g. :5349), or the --http-addr itself to share the HTTPS port (443)")
	fs.StringVar(&c.TURNRelayIP, "turn-relay-ip", c.TURNRelayIP, "the IP relayed media leaves from and clients are told (default: the TURN listen IP)")
	fs.StringVar(&c.TURNRelayPorts, "turn-relay-ports", c.TURNRelayPorts, "relay port range MIN-MAX")
	fs.StringVar(&c.TURNHost, "turn-host", c.TURNHost, "name or IP clients reach TURN at (default: the public URL's host)")
	fs.StringVar(&c.TURNSecret, "turn-secret", c.TURNSecret, "shared secret for short-lived TURN credentials (built-in TURN, or coturn's static-auth-secret with turn: URLs in --ice-servers); prefer the environment variable")
	fs.DurationVar(&c.TURNTTL, "turn-ttl", c.TURNTTL, "how long a TURN credential minted at a join may open a relay")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP server host:port for e-mail notices of new messages (off by default)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "the notices' sender address")
	fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "SMTP user name (none: no authentication)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", c.SMTPPassword, "SMTP password; prefer the environment variable")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", c.SMTPTLS, "starttls (default), tls, or none for a relay on this machine")
	fs.StringVar(&c.SMTPCA, "smtp-ca", c.SMTPCA, "PEM CA certificates to trust for the mail server (a private CA)")
}

// EnvName is the environment variable for a flag.
func EnvName(flagName string) string {
	return "SEATLINK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// LoadServe builds the configuration from defaults, environ (KEY=VALUE
// strings, as os.Environ) and args, and validates it.
func LoadServe(args, environ []string) (Serve, *flag.FlagSet, error) {
	c := Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.bind(fs)
	if err := applyEnv(fs, environ); err != nil {
		return c, fs, err
	}
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	if fs.NArg() > 0 {
		return c, fs, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	return c, fs, c.Validate()
}

// applyEnv sets flags from SEATLINK_* variables and refuses unknown ones.
func applyEnv(fs *flag.FlagSet, environ []string) error {
	known := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { known[EnvName(f.Name)] = f.Name })
	var errs []error
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "SEATLINK_") {
			continue
		}
		name, ok := known[k]
		if !ok {
			if allowedElsewhere[k] {
				continue
			}
			errs = append(errs, fmt.Errorf("config: unknown setting %s", k))
			continue
		}
		if err := fs.Set(name, v); err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// allowedElsewhere are SEATLINK_* variables read by other parts (tests,
// device-sim), not by serve.
var allowedElsewhere = map[string]bool{
	"SEATLINK_CHROMIUM":          true,
	"SEATLINK_ROBOT_TOKEN":       true,
	"SEATLINK_TEST_DATABASE_URL": true,
	"SEATLINK_TEST_LOG":          true,
	"SEATLINK_SCREENSHOTS":       true,
	// The tests' MinIO (deploy/minio.sh), the load test's admin, the
	// benchmark's size.
	"SEATLINK_TEST_S3_ENDPOINT":        true,
	"SEATLINK_TEST_S3_ACCESS_KEY":      true,
	"SEATLINK_TEST_S3_SECRET_KEY":      true,
	"SEATLINK_TEST_PEBBLE":             true, // the ACME test's CA (deploy/pebble.sh)
	"SEATLINK_TEST_PEBBLE_DIR":         true,
	"SEATLINK_LOADTEST_ADMIN_EMAIL":    true,
	"SEATLINK_LOADTEST_ADMIN_PASSWORD": true,
	"SEATLINK_BENCH_PUPILS":            true,
	"SEATLINK_BENCH_WEEKS":             true,
	// device-agent gives its camera pipeline the bitrate to encode at.
	"SEATLINK_VIDEO_KBPS": true,
	// The accessibility checks' axe-core and the mail tests' mailpit
	// (deploy/test.sh, deploy/mailpit.sh).
	"SEATLINK_AXE":             true,
	"SEATLINK_MAILPIT":         true,
	"SEATLINK_MAILPIT_VERSION": true,
	"SEATLINK_MAILPIT_CACHE":   true,
}

// Validate checks every setting and says what is wrong with each.
func (c *Serve) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("http-addr %q: %w", c.HTTPAddr, err))
	}
	if _, err := net.ResolveUDPAddr("udp", c.MediaUDPAddr); err != nil {
		errs = append(errs, fmt.Errorf("media-udp %q: %w", c.MediaUDPAddr, err))
	}
	if c.MediaTCPAddr != "off" && c.MediaTCPAddr != "" {
		if _, err := net.ResolveTCPAddr("tcp", c.MediaTCPAddr); err != nil {
			errs = append(errs, fmt.Errorf("media-tcp %q: %w", c.MediaTCPAddr, err))
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public-url %q: want http(s)://host[:port]", c.PublicURL))
		}
	}
	for _, ip := range c.PublicIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("public-ips: %q is not an IP address", ip))
		}
	}
	for _, s := range c.ICEServers {
		if !(strings.HasPrefix(s, "stun:") || strings.HasPrefix(s, "turn:") || strings.HasPrefix(s, "turns:")) {
			errs = append(errs, fmt.Errorf("ice-servers: %q must start with stun:, turn: or turns:", s))
		}
	}
	if c.ShutdownGrace < 0 || c.ShutdownGrace > 5*time.Minute {
		errs = append(errs, fmt.Errorf("shutdown-grace %s: want 0 to 5m", c.ShutdownGrace))
	}
	if _, err := c.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	if c.HeartbeatInterval < time.Second || c.HeartbeatInterval > 5*time.Minute {
		errs = append(errs, fmt.Errorf("heartbeat-interval %s: want 1s to 5m", c.HeartbeatInterval))
	}
	if c.TelemetryDays < 1 || c.TelemetryDays > 3650 {
		errs = append(errs, fmt.Errorf("telemetry-days %d: want 1 to 3650", c.TelemetryDays))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "" || c.S3Bucket == "") {
		errs = append(errs, errors.New("s3-endpoint needs s3-access-key, s3-secret-key and s3-bucket"))
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			errs = append(errs, fmt.Errorf("pprof-addr %q: want a loopback host:port (the profiler is never served to the network)", c.PprofAddr))
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics-addr %q: want host:port", c.MetricsAddr))
		} else if c.MetricsAddr == c.HTTPAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
			errs = append(errs, fmt.Errorf("metrics-addr %q: must not be the public HTTP address", c.MetricsAddr))
		}
	}
	if c.MaterialMaxMB < 1 || c.MaterialMaxMB > 10240 {
		errs = append(errs, fmt.Errorf("material-max-mb %d: want 1 to 10240", c.MaterialMaxMB))
	}
	errs = append(errs, c.validateTLS()...)
	errs = append(errs, c.validateTURN()...)
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

func (c *Serve) validateTLS() []error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	sources := 0
	for _, on := range []bool{c.TLSCert != "", c.TLSSelfSigned, len(c.ACMEDomains) > 0} {
		if on {
			sources++
		}
	}
	if sources > 1 {
		errs = append(errs, errors.New("choose one of tls-cert/tls-key, tls-self-signed and acme-domain"))
	}
	for _, d := range c.ACMEDomains {
		if net.ParseIP(d) != nil || !strings.Contains(d, ".") || strings.ContainsAny(d, "/: ") {
			errs = append(errs, fmt.Errorf("acme-domain %q: want a public DNS name (a CA will not certify an IP)", d))
		}
	}
	if len(c.ACMEDomains) > 0 {
		if u, err := url.Parse(c.ACMEDirectory); err != nil || u.Scheme != "https" {
			errs = append(errs, fmt.Errorf("acme-directory %q: want an https:// URL", c.ACMEDirectory))
		}
	}
	if c.ACMECA != "" && len(c.ACMEDomains) == 0 {
		errs = append(errs, errors.New("acme-ca needs acme-domain"))
	}
	if c.RedirectAddr != "" {
		if !c.TLSEnabled() {
			errs = append(errs, errors.New("redirect-addr needs TLS on (tls-cert, tls-self-signed or acme-domain)"))
		} else if _, _, err := net.SplitHostPort(c.RedirectAddr); err != nil {
			errs = append(errs, fmt.Errorf("redirect-addr %q: want host:port", c.RedirectAddr))
		}
	}
	return errs
}

func (c *Serve) validateTURN() []error {
	var errs []error
	for _, a := range []struct{ name, v string }{{"turn-udp", c.TURNUDPAddr}, {"turn-tcp", c.TURNTCPAddr}, {"turn-tls", c.TURNTLSAddr}} {
		if a.v == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want host:port", a.name, a.v))
		}
	}
	if c.TURNTLSAddr != "" && !c.TLSEnabled() {
		errs = append(errs, errors.New("turn-tls needs TLS on (tls-cert, tls-self-signed or acme-domain)"))
	}
	if c.TURNRelayIP != "" {
		if ip := net.ParseIP(c.TURNRelayIP); ip == nil || ip.IsUnspecified() {
			errs = append(errs, fmt.Errorf("turn-relay-ip %q: want a specific IP address", c.TURNRelayIP))
		}
	}
	if _, _, err := c.RelayPortRange(); err != nil {
		errs = append(errs, err)
	}
	if c.TURNSecret != "" && len(c.TURNSecret) < 16 {
		errs = append(errs, errors.New("turn-secret: want at least 16 characters"))
	}
	if c.TURNTTL < time.Minute || c.TURNTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("turn-ttl %s: want 1m to 24h", c.TURNTTL))
	}
	if c.SMTPAddr != "" {
		if err := c.Mail().Check(); err != nil {
			errs = append(errs, err)
		}
	} else if c.SMTPFrom != "" || c.SMTPUser != "" || c.SMTPPassword != "" || c.SMTPTLS != "" || c.SMTPCA != "" {
		errs = append(errs, errors.New("smtp-from, smtp-user, smtp-password, smtp-tls and smtp-ca need smtp-addr"))
	}
	return errs
}

// RelayPortRange parses TURNRelayPorts.
func (c *Serve) RelayPortRange() (lo, hi uint16, err error) {
	a, b, ok := strings.Cut(c.TURNRelayPorts, "-")
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	digits := func(v string) bool { return v != "" && strings.Trim(v, "0123456789") == "" }
	ok = ok && digits(a) && digits(b) && err1 == nil && err2 == nil && x >= 1024 && y <= 65535 && x <= y
	if !ok {
		return 0, 0, fmt.Errorf("turn-relay-ports %q: want MIN-MAX within 1024-65535", c.TURNRelayPorts)
	}
	return uint16(x), uint16(y), nil
}

// TLSEnabled reports whether serve terminates TLS itself.
func (c *Serve) TLSEnabled() bool {
	return c.TLSCert != "" || c.TLSSelfSigned || len(c.ACMEDomains) > 0
}

// TURNEnabled reports whether the built-in TURN server runs.
func (c *Serve) TURNEnabled() bool {
	return c.TURNUDPAddr != "" || c.TURNTCPAddr != "" || c.TURNTLSAddr != ""
}

// SlogLevel parses LogLevel.
func (c *Serve) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// TCPEnabled reports whether ICE-TCP is on.
func (c *Serve) TCPEnabled() bool { return c.MediaTCPAddr != "" && c.MediaTCPAddr != "off" }

// Logger builds the process logger.
func (c *Serve) Logger() *slog.Logger {
	lvl, _ := c.SlogLevel()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
