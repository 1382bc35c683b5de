package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTarget(t *testing.T) {
	for _, c := range []struct {
		addr string
		env  map[string]string
		want string
		sni  string
	}{
		{"", nil, "http://127.0.0.1:8080/healthz", ""},
		{":8080", nil, "http://127.0.0.1:8080/healthz", ""},
		{"0.0.0.0:9000", nil, "http://127.0.0.1:9000/healthz", ""},
		{"[::]:9000", nil, "http://[::1]:9000/healthz", ""},
		{"10.1.2.3:8080", nil, "http://10.1.2.3:8080/healthz", ""},
		{":443", map[string]string{"SEATLINK_TLS_CERT": "/c.pem"}, "https://127.0.0.1:443/healthz", ""},
		{":443", map[string]string{"SEATLINK_TLS_SELF_SIGNED": "true"}, "https://127.0.0.1:443/healthz", ""},
		{":443", map[string]string{"SEATLINK_TLS_SELF_SIGNED": "false"}, "http://127.0.0.1:443/healthz", ""},
		{":443", map[string]string{"SEATLINK_ACME_DOMAIN": "a.example.org,b.example.org"}, "https://127.0.0.1:443/healthz", "a.example.org"},
	} {
		got, sni, err := target(c.addr, "/healthz", env(c.env))
		if err != nil || got != c.want || sni != c.sni {
			t.Errorf("target(%q, %v) = %q, %q, %v; want %q, %q", c.addr, c.env, got, sni, err, c.want, c.sni)
		}
	}
	if _, _, err := target("nonsense", "/healthz", env(nil)); err == nil {
		t.Error("an address without a port was taken")
	}
}

func TestRun(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/readyz" && ready:
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/readyz":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusPermanentRedirect)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var stderr bytes.Buffer
	if code := run(nil, env(map[string]string{"SEATLINK_HTTP_ADDR": addr}), &stderr); code != 0 {
		t.Fatalf("alive server: exit %d, %s", code, stderr.String())
	}
	if code := run([]string{"-addr", addr, "-path", "/readyz"}, env(nil), &stderr); code != 0 {
		t.Fatalf("ready server: exit %d, %s", code, stderr.String())
	}
	ready = false
	stderr.Reset()
	if code := run([]string{"-addr", addr, "-path", "readyz"}, env(nil), &stderr); code != 1 || !strings.Contains(stderr.String(), "503") {
		t.Fatalf("draining server: exit %d, %q; want 1 and the status", code, stderr.String())
	}
	// A redirect is not health: it is not followed off the machine.
	if code := run([]string{"-addr", addr, "-path", "/elsewhere"}, env(nil), &stderr); code != 1 {
		t.Fatalf("redirect: exit %d, want 1", code)
	}
	// Nothing listening: a quick failure, not a hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	if code := run([]string{"-addr", dead, "-timeout", "2s"}, env(nil), &stderr); code != 1 {
		t.Fatalf("no server: exit %d, want 1", code)
	}
	if code := run([]string{"-addr", "nonsense"}, env(nil), &stderr); code != 2 {
		t.Fatalf("bad address: exit %d, want 2", code)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	var stderr bytes.Buffer
	if code := run(nil, env(map[string]string{"SEATLINK_HTTP_ADDR": addr, "SEATLINK_TLS_SELF_SIGNED": "true"}), &stderr); code != 0 {
		t.Fatalf("self-signed server: exit %d, %s", code, stderr.String())
	}
}
