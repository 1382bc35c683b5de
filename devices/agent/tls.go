package agent

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"
)

type tlsKey struct{}

// WithTLS has every connection an agent opens under ctx (the session's
// WebSocket, the control channel, enrolment) use conf: a server whose
// certificate the system does not trust (an LA's own CA, a demo's
// self-signed certificate) is trusted through conf.RootCAs.
func WithTLS(ctx context.Context, conf *tls.Config) context.Context {
	if conf == nil {
		return ctx
	}
	return context.WithValue(ctx, tlsKey{}, conf)
}

// TLSFrom is the TLS configuration WithTLS set (nil: the system's roots).
func TLSFrom(ctx context.Context) *tls.Config {
	c, _ := ctx.Value(tlsKey{}).(*tls.Config)
	return c
}

// httpClient is an HTTP client for ctx's TLS configuration.
func httpClient(ctx context.Context) *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if conf := TLSFrom(ctx); conf != nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = conf
		c.Transport = t
	}
	return c
}
