// Command seatlink-healthcheck asks the seatlink server on this machine
// whether it is alive: GET /healthz (or -path /readyz) on loopback, exit 0
// on 200 and 1 otherwise. It is the container image's HEALTHCHECK, since
// the distroless image has no shell, curl or wget; it reads the address and
// TLS settings from the same SEATLINK_* variables as `seatlink serve`, so
// it needs no flags in the image.
//
//	seatlink-healthcheck                 # liveness, as the HEALTHCHECK runs it
//	seatlink-healthcheck -path /readyz   # readiness (503 while draining or the database is down)
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("seatlink-healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("path", "/healthz", "what to ask: /healthz (alive) or /readyz (taking new joins)")
	addr := fs.String("addr", "", "the server's HTTP address (default: SEATLINK_HTTP_ADDR, else 127.0.0.1:8080)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *addr == "" {
		*addr = getenv("SEATLINK_HTTP_ADDR")
	}
	u, serverName, err := target(*addr, *path, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "seatlink-healthcheck:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := probe(ctx, u, serverName); err != nil {
		fmt.Fprintln(stderr, "seatlink-healthcheck:", err)
		return 1
	}
	return 0
}

// target is the URL to ask: loopback on the serve port, https when serve
// terminates TLS itself (it redirects plain HTTP there). serverName is the
// name to send for SNI (an ACME certificate is chosen by it).
func target(addr, path string, getenv func(string) string) (u, serverName string, err error) {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	scheme := "http"
	acme := strings.TrimSpace(strings.Split(getenv("SEATLINK_ACME_DOMAIN"), ",")[0])
	if getenv("SEATLINK_TLS_CERT") != "" || truthy(getenv("SEATLINK_TLS_SELF_SIGNED")) || acme != "" {
		scheme = "https"
		serverName = acme
	}
	return scheme + "://" + net.JoinHostPort(host, port) + path, serverName, nil
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true":
		return true
	}
	return false
}

func probe(ctx context.Context, u, serverName string) error {
	client := &http.Client{
		Transport: &http.Transport{
			Proxy: nil, // never through a proxy: this is the server on this machine
			// The server's own certificate on loopback: this asks whether it
			// is alive, not who it is, and a self-signed or ACME certificate
			// does not name 127.0.0.1.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: serverName}, //nolint:gosec
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: no answer in time", u)
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return nil
}
