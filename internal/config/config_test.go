package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsHoldAndValidate(t *testing.T) {
	c, _, err := LoadServe(nil, nil)
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.MediaUDPAddr != "127.0.0.1:8443" || c.MediaTCPAddr != "127.0.0.1:8443" ||
		c.ShutdownGrace != 5*time.Second || c.Demo || !c.DemoRobot {
		t.Fatalf("defaults changed: %+v", c)
	}
}

func TestLayers(t *testing.T) {
	env := []string{"SEATLINK_HTTP_ADDR=127.0.0.1:9000", "SEATLINK_MEDIA_TCP=off", "PATH=/bin",
		"SEATLINK_PUBLIC_IPS=203.0.113.5, 203.0.113.6"}
	c, _, err := LoadServe([]string{"--http-addr", "127.0.0.1:9001", "--demo"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9001" {
		t.Errorf("flag should beat env: %s", c.HTTPAddr)
	}
	if c.TCPEnabled() || !c.Demo || len(c.PublicIPs) != 2 || c.PublicIPs[1] != "203.0.113.6" {
		t.Errorf("env not applied: %+v", c)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"unknown env key", nil, []string{"SEATLINK_HTTP_ADRR=1"}, "unknown setting SEATLINK_HTTP_ADRR"},
		{"unknown flag", []string{"--bogus"}, nil, "bogus"},
		{"stray argument", []string{"extra"}, nil, "unexpected argument"},
		{"bad http addr", []string{"--http-addr", "nowhere"}, nil, "http-addr"},
		{"bad public ip", nil, []string{"SEATLINK_PUBLIC_IPS=not-an-ip"}, "public-ips"},
		{"bad ice server", []string{"--ice-servers", "http://x"}, nil, "ice-servers"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "log-level"},
		{"bad log format", []string{"--log-format", "xml"}, nil, "log-format"},
		{"bad public url", []string{"--public-url", "ftp://x"}, nil, "public-url"},
		{"bad grace", []string{"--shutdown-grace", "1h"}, nil, "shutdown-grace"},
		{"profiler on the network", []string{"--pprof-addr", "0.0.0.0:6060"}, nil, "pprof-addr"},
		{"profiler without a port", []string{"--pprof-addr", "127.0.0.1"}, nil, "pprof-addr"},
		{"metrics without a port", []string{"--metrics-addr", "127.0.0.1"}, nil, "metrics-addr"},
		{"metrics on the public port", []string{"--http-addr", "127.0.0.1:8080", "--metrics-addr", "127.0.0.1:8080"}, nil, "metrics-addr"},
		{"S3 without keys", []string{"--s3-endpoint", "127.0.0.1:9000"}, nil, "s3-endpoint needs"},
		{"huge uploads", []string{"--material-max-mb", "0"}, nil, "material-max-mb"},
		{"certificate without key", []string{"--tls-cert", "c.pem"}, nil, "tls-cert and tls-key go together"},
		{"two certificate sources", []string{"--tls-self-signed", "--acme-domain", "seatlink.example.org"}, nil, "choose one"},
		{"ACME for an IP", []string{"--acme-domain", "203.0.113.5"}, nil, "acme-domain"},
		{"ACME for a bare name", []string{"--acme-domain", "seatlink"}, nil, "acme-domain"},
		{"ACME over plain HTTP", []string{"--acme-domain", "a.example.org", "--acme-directory", "http://ca"}, nil, "acme-directory"},
		{"redirect without TLS", []string{"--redirect-addr", ":80"}, nil, "redirect-addr needs TLS"},
		{"TURN over TLS without TLS", []string{"--turn-tls", ":5349"}, nil, "turn-tls needs TLS"},
		{"TURN without a port", []string{"--turn-udp", "0.0.0.0"}, nil, "turn-udp"},
		{"relay IP unspecified", []string{"--turn-relay-ip", "0.0.0.0"}, nil, "turn-relay-ip"},
		{"relay ports reversed", []string{"--turn-relay-ports", "50000-49000"}, nil, "turn-relay-ports"},
		{"relay ports privileged", []string{"--turn-relay-ports", "80-90"}, nil, "turn-relay-ports"},
		{"relay ports not a range", []string{"--turn-relay-ports", "49160"}, nil, "turn-relay-ports"},
		{"relay ports with trailing junk", []string{"--turn-relay-ports", "49160-49999x"}, nil, "turn-relay-ports"},
		{"relay ports with a sign", []string{"--turn-relay-ports", "+49160-49999"}, nil, "turn-relay-ports"},
		{"short TURN secret", nil, []string{"SEATLINK_TURN_SECRET=short"}, "turn-secret"},
		{"long-lived TURN credentials", []string{"--turn-ttl", "720h"}, nil, "turn-ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadServe(tc.args, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}
