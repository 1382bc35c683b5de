package signaling

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Guessing codes from one place is refused after ten failures in a
// minute (429 with Retry-After), the right code included, until the
// minute has passed; another source is not affected.
func TestCodeGuessingIsThrottledBySource(t *testing.T) {
	w := newAPIWorld(t)
	c := w.client(t)
	for i := 0; i < guessLimit; i++ {
		if status, body := c.do("POST", "/api/v1/pupil/session", map[string]string{"code": fmt.Sprintf("ZZZZ%04d", i)}, nil); status != 410 && status != 400 {
			t.Fatalf("guess %d: %d %s", i, status, body)
		}
	}
	for _, path := range []string{"/api/v1/pupil/session", "/api/v1/devices/enroll"} {
		req, _ := http.NewRequest("POST", w.srv.URL+path, strings.NewReader(`{"code":"ABCD2345"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 429 || errCode(body) != "too_many_attempts" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s after ten failures: %d %s (Retry-After %q)", path, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}
	// The window passes.
	g := &guesses{now: func() time.Time { return time.Now() }}
	for i := 0; i < guessLimit; i++ {
		g.failed("192.0.2.1")
	}
	if g.blocked("192.0.2.1") == 0 || g.blocked("192.0.2.2") != 0 {
		t.Fatal("a source at the limit is not blocked, or another source is")
	}
	g.now = func() time.Time { return time.Now().Add(guessWindow + time.Second) }
	if g.blocked("192.0.2.1") != 0 {
		t.Fatal("still blocked after the window")
	}
}
