package signaling

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/internal/wire"
	"seatlink/media"
	"seatlink/people"
)

// WHIP ingest (RFC 9725): a robot maker's pipeline or a hardware encoder
// publishes into its paired pupil's link with its device credential as
// the bearer token. POST /whip answers an SDP offer (201, Location of the
// session); PATCH on the session trickles candidates or restarts ICE;
// DELETE ends it. Commands (head turn, hand, sleep) stay on the device
// WebSocket (docs/DEVICE-PROTOCOL.md).

// maxWHIPBody bounds an offer or a fragment: a robot's offer is a few KiB.
const maxWHIPBody = 64 << 10

// whipSession is one live ingest.
type whipSession struct {
	id   string
	srv  *Server
	part *media.Participant
	once sync.Once
}

// whipSessions are the live ingests of this node, by id.
type whipSessions struct {
	mu   sync.Mutex
	byID map[string]*whipSession
}

func (w *whipSessions) put(ws *whipSession) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byID == nil {
		w.byID = map[string]*whipSession{}
	}
	w.byID[ws.id] = ws
}

func (w *whipSessions) get(id string) *whipSession {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.byID[id]
}

func (w *whipSessions) drop(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.byID, id)
}

// end forgets the session and closes its media, once.
func (ws *whipSession) end() {
	ws.once.Do(func() {
		ws.srv.whip.drop(ws.id)
		ws.srv.live.remove(ws)
		if ws.part != nil {
			ws.part.Close()
		}
	})
}

// revoke ends the ingest because the device's access was removed.
func (ws *whipSession) revoke() { go ws.end() }

func (s *Server) routeWHIP(e *gin.Engine) {
	if s.deps.Links == nil || s.deps.SFU == nil {
		return
	}
	e.POST("/whip", s.whipPublish)
	e.PATCH("/whip/:session", s.whipPatch)
	e.DELETE("/whip/:session", s.whipDelete)
	e.OPTIONS("/whip", func(c *gin.Context) {
		c.Header("Accept-Post", "application/sdp")
		c.Status(http.StatusNoContent)
	})
}

// errBadBearer is a credential that does not open a link; it counts
// against the source like any failed redemption.
var errBadBearer = fmt.Errorf("%w: device credential", people.ErrInvalid)

// whipBody reads a body of the given content type, bounded.
func whipBody(c *gin.Context, contentType string) (string, bool) {
	if ct, _, _ := strings.Cut(c.GetHeader("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), contentType) {
		writeHTTPError(c, http.StatusUnsupportedMediaType, "bad_content_type", "send "+contentType)
		return "", false
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.Body, maxWHIPBody+1))
	if err != nil {
		writeHTTPError(c, http.StatusBadRequest, "bad_body", "the body could not be read")
		return "", false
	}
	if len(b) > maxWHIPBody {
		writeHTTPError(c, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("at most %d KiB", maxWHIPBody>>10))
		return "", false
	}
	return string(b), true
}

func (s *Server) whipPublish(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	token := bearer(c.Request)
	if token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="seatlink"`)
		writeHTTPError(c, http.StatusUnauthorized, "no_token", "send the device credential as Authorization: Bearer")
		return
	}
	offer, ok := whipBody(c, "application/sdp")
	if !ok {
		return
	}
	if err := media.CheckIngestOffer(offer); err != nil {
		writeHTTPError(c, http.StatusBadRequest, "bad_sdp", "the offer is not usable: "+err.Error())
		return
	}
	ctx := c.Request.Context()
	var link string
	err := s.redeeming(c.ClientIP(), "whip_token", func() error {
		var e error
		if link, e = s.deps.Links.ResolveRobot(ctx, token); e != nil {
			return errBadBearer
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errBadBearer) {
			c.Header("WWW-Authenticate", `Bearer realm="seatlink", error="invalid_token"`)
			writeHTTPError(c, http.StatusUnauthorized, wire.CodeBadToken, "this device credential is not valid (revoked, or never issued)")
			return
		}
		s.renderError(c, err)
		return
	}
	ws := &whipSession{id: randomToken(), srv: s}
	g := grant{role: wire.RoleRobot, link: link, token: token}
	// Live from here, as a WebSocket join is: a revocation from now on
	// ends the ingest.
	s.live.add(ws, g)
	if err := s.admit(ctx, g); err != nil {
		s.live.remove(ws)
		writeHTTPError(c, http.StatusUnauthorized, wire.CodeBadToken, "this device credential is not valid (revoked, or never issued)")
		return
	}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	part, answer, err := s.deps.SFU.Ingest(actx, link, media.RoleRobot, offer, "", func(error) { go ws.end() })
	switch {
	case errors.Is(err, media.ErrRoleTaken):
		s.live.remove(ws)
		writeHTTPError(c, http.StatusConflict, wire.CodeRoleTaken, "this device is already publishing (end that session with DELETE first)")
		return
	case errors.Is(err, media.ErrClosed):
		s.live.remove(ws)
		writeHTTPError(c, http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is stopping; publish again in a moment")
		return
	case errors.Is(err, media.ErrBadSDP), errors.Is(err, media.ErrNothingToPublish):
		s.live.remove(ws)
		writeHTTPError(c, http.StatusBadRequest, "bad_sdp", "the offer is not usable: "+err.Error())
		return
	case err != nil:
		s.live.remove(ws)
		s.log.Error("whip ingest failed", "link", link, "err", err)
		writeHTTPError(c, http.StatusInternalServerError, wire.CodeInternal, "could not publish; try again")
		return
	}
	ws.part = part
	s.whip.put(ws)
	s.log.Info("whip ingest", "link", link, "session", ws.id)
	for _, ice := range s.deps.SFU.ICEServersFor(ws.id) {
		for _, u := range ice.URLs {
			link := fmt.Sprintf("<%s>; rel=\"ice-server\"", u)
			if cred, _ := ice.Credential.(string); ice.Username != "" {
				link += fmt.Sprintf("; username=%q; credential=%q; credential-type=\"password\"", ice.Username, cred)
			}
			c.Writer.Header().Add("Link", link)
		}
	}
	c.Header("Location", "/whip/"+ws.id)
	c.Header("ETag", `"`+ws.id+`"`)
	c.Data(http.StatusCreated, "application/sdp", []byte(answer))
}

// session finds the ingest a request names, for the same credential that
// made it; anything else is 404 (no telling whether it exists).
func (s *Server) whipSessionOf(c *gin.Context) *whipSession {
	ws := s.whip.get(c.Param("session"))
	if ws == nil || bearer(c.Request) == "" {
		writeHTTPError(c, http.StatusNotFound, "not_found", "no such WHIP session")
		return nil
	}
	g, ok := s.live.grantOf(ws)
	if !ok || !constantEqual(g.token, bearer(c.Request)) {
		writeHTTPError(c, http.StatusNotFound, "not_found", "no such WHIP session")
		return nil
	}
	return ws
}

func (s *Server) whipDelete(c *gin.Context) {
	if ws := s.whipSessionOf(c); ws != nil {
		ws.end()
		c.Status(http.StatusOK)
	}
}

func (s *Server) whipPatch(c *gin.Context) {
	ws := s.whipSessionOf(c)
	if ws == nil {
		return
	}
	body, ok := whipBody(c, "application/trickle-ice-sdpfrag")
	if !ok {
		return
	}
	if m := c.GetHeader("If-Match"); m != "" && m != "*" && m != `"`+ws.id+`"` {
		writeHTTPError(c, http.StatusPreconditionFailed, "etag_mismatch", "this fragment is for another ICE session")
		return
	}
	frag, err := media.ParseIceFragment(body)
	if err != nil {
		writeHTTPError(c, http.StatusBadRequest, "bad_fragment", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	answer, err := ws.part.Patch(ctx, frag)
	switch {
	case errors.Is(err, media.ErrBadSDP), errors.Is(err, media.ErrBadCandidate):
		writeHTTPError(c, http.StatusBadRequest, "bad_fragment", err.Error())
	case err != nil:
		writeHTTPError(c, http.StatusConflict, "not_ready", err.Error())
	case answer == "":
		c.Status(http.StatusNoContent)
	default:
		c.Data(http.StatusOK, "application/trickle-ice-sdpfrag", []byte(answer))
	}
}

// randomToken names an ingest session: 128 random bits, so one device's
// session cannot be guessed by another.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func constantEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
