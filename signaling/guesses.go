package signaling

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Guessing: join codes, join tokens and enrollment codes are redeemed by
// people who hold no session yet, so the only thing to throttle on is the
// source. A source whose redemptions fail guessLimit times within
// guessWindow is refused (429, Retry-After) until the window has passed,
// and the burst is logged. With 31^8 ≈ 8.5 × 10^11 codes (docs/SECURITY.md
// works out the worst case), that is years for any one source.
const (
	guessLimit  = 10
	guessWindow = time.Minute
	// guessSources bounds the sources remembered (the oldest are forgotten).
	guessSources = 100_000
)

// errGuessing refuses a source that failed too often.
var errGuessing = &apiError{Status: http.StatusTooManyRequests, Code: "too_many_attempts",
	Message: "too many codes that did not work; wait a minute and try again"}

type guessSource struct {
	from     time.Time // the window's start
	failures int
}

// guesses counts failed redemptions per source.
type guesses struct {
	mu  sync.Mutex
	m   map[string]*guessSource
	now func() time.Time
}

// blocked says how long the source must still wait (0: not blocked).
func (g *guesses) blocked(source string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.m[source]
	if e == nil || e.failures < guessLimit {
		return 0
	}
	left := e.from.Add(guessWindow).Sub(g.clock())
	if left <= 0 {
		delete(g.m, source)
		return 0
	}
	return left
}

// failed counts a failure; it says whether the source just reached the
// limit (to be logged once per burst).
func (g *guesses) failed(source string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	if g.m == nil {
		g.m = map[string]*guessSource{}
	}
	e := g.m[source]
	if e == nil || now.Sub(e.from) > guessWindow {
		if len(g.m) >= guessSources {
			for k, v := range g.m { // forget a stale source, else any
				if now.Sub(v.from) > guessWindow {
					delete(g.m, k)
					break
				}
			}
			if len(g.m) >= guessSources {
				for k := range g.m {
					delete(g.m, k)
					break
				}
			}
		}
		e = &guessSource{from: now}
		g.m[source] = e
	}
	e.failures++
	return e.failures == guessLimit
}

func (g *guesses) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// redeeming wraps a redemption by source: refused while the source is
// blocked; a failure is counted, and a burst logged.
func (s *Server) redeeming(source, what string, redeem func() error) error {
	if left := s.guesses.blocked(source); left > 0 {
		return &apiError{Status: errGuessing.Status, Code: errGuessing.Code, Message: errGuessing.Message,
			retryAfter: strconv.Itoa(int(left.Seconds()) + 1)}
	}
	err := redeem()
	if err != nil && isRefusal(err) {
		if s.guesses.failed(source) {
			s.log.Warn("repeated failed redemptions from one source; refusing it for a minute",
				"what", what, "source", source, "failures", guessLimit)
		}
	}
	return err
}
