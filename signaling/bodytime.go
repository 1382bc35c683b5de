package signaling

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Slow bodies: a client that opens a request and then sends its body a
// byte at a time must not hold a connection (and a goroutine) for ever.
// A body may take BodyGrace, plus one second for every MinBodyRate bytes it
// has delivered: a 200 MB upload over a slow school line gets the time its
// progress earns, a trickle gets the grace and no more.

// bodyDeadlines sets a progress-based read deadline on request bodies.
func (s *Server) bodyDeadlines() gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if r.Body == nil || r.Body == http.NoBody || (r.ContentLength == 0 && len(r.TransferEncoding) == 0) {
			c.Next()
			return
		}
		rc := http.NewResponseController(c.Writer)
		b := &deadlineBody{ReadCloser: r.Body, rc: rc, start: time.Now(), grace: s.cfg.BodyGrace, rate: s.cfg.MinBodyRate}
		b.extend()
		r.Body = b
		c.Next()
		// The response is written with no read deadline left behind.
		_ = rc.SetReadDeadline(time.Time{})
	}
}

type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int
	read  int64
}

func (b *deadlineBody) extend() {
	earned := time.Duration(b.read) * time.Second / time.Duration(b.rate)
	_ = b.rc.SetReadDeadline(b.start.Add(b.grace + earned))
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.read += int64(n)
		b.extend()
	}
	if err != nil {
		// The body is over: no deadline may fire under the handler (the
		// server would take it for the client gone and cancel the request).
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
