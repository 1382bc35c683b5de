package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"seatlink/devices"
	"seatlink/engagement"
	"seatlink/materials"
	"seatlink/people"
	"seatlink/plans"
)

// apiError is an error with an HTTP status and a stable code.
type apiError struct {
	Status  int
	Code    string
	Message string
	Fields  []*people.FieldError
	// retryAfter, if set, is sent as the Retry-After header (seconds).
	retryAfter string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// Errors shared by the API.
var (
	errBadJSON      = apiErr(http.StatusBadRequest, "bad_json", "the body is not valid JSON for this request")
	errBodyTooLarge = apiErr(http.StatusRequestEntityTooLarge, "body_too_large", "the body is too large")
	errCSRF         = apiErr(http.StatusForbidden, "csrf", "missing or wrong CSRF token")
	errCrossOrigin  = apiErr(http.StatusForbidden, "cross_origin", "requests from other sites are refused")
	errNeedsSession = apiErr(http.StatusUnauthorized, "unauthenticated", "sign in first")
	// errStoreUnavailable: the database is down; nothing is wrong with the
	// request or the caller's session.
	errStoreUnavailable = apiErr(http.StatusServiceUnavailable, "store_unavailable",
		"the records cannot be reached just now; try again in a minute")
	// errHandled means the handler has written its own answer.
	errHandled = errors.New("handled")
)

// toAPIError is the one place domain errors become HTTP answers.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var pe *plans.InputError
	if errors.As(err, &pe) {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_plan", Message: pe.Error(), Fields: pe.Problems}
	}
	switch {
	case errors.Is(err, materials.ErrTooLarge):
		return apiErr(http.StatusRequestEntityTooLarge, "too_large", "the file is larger than the upload limit")
	case errors.Is(err, materials.ErrBadType):
		return apiErr(http.StatusUnsupportedMediaType, "unsupported_type",
			"this kind of file is not accepted: PDF, pictures, plain text, office documents, MP3, MP4 and WebM are")
	}
	if errors.Is(err, engagement.ErrFuture) {
		return &apiError{Status: http.StatusBadRequest, Code: "future_date", Message: engagement.ErrFuture.Message,
			Fields: []*people.FieldError{engagement.ErrFuture}}
	}
	var fe *people.FieldError
	if errors.As(err, &fe) {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid", Message: fe.Error(), Fields: []*people.FieldError{fe}}
	}
	var ce *people.ConflictError
	if errors.As(err, &ce) {
		code := ce.Code
		if code == "" {
			code = "duplicate"
		}
		return &apiError{Status: http.StatusConflict, Code: "conflict", Message: ce.Message,
			Fields: []*people.FieldError{{Field: ce.Field, Code: code, Message: ce.Message}}}
	}
	var le *people.LockedError
	if errors.As(err, &le) {
		return apiErr(http.StatusTooManyRequests, "locked", le.Error())
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	var cmdErr *devices.CommandError
	if errors.As(err, &cmdErr) {
		return apiErr(http.StatusConflict, "command_refused", "the device refused: "+cmdErr.Code)
	}
	switch {
	case errors.Is(err, devices.ErrExpired):
		return apiErr(http.StatusGone, "expired", "this enrollment code has expired or was already used")
	case errors.Is(err, devices.ErrOffline):
		return apiErr(http.StatusConflict, "device_offline", "the device is not connected")
	case errors.Is(err, devices.ErrCommandTimeout):
		return apiErr(http.StatusGatewayTimeout, "device_timeout", "the device did not answer in time")
	case errors.Is(err, devices.ErrWrongPlace):
		return apiErr(http.StatusBadRequest, "wrong_place", "the classroom or pupil is not at the device's school")
	case errors.Is(err, devices.ErrNotRobot):
		return apiErr(http.StatusBadRequest, "not_robot", "only a robot or a classroom station can be paired with a pupil")
	case errors.Is(err, people.ErrUnauthenticated):
		return errNeedsSession
	case errors.Is(err, people.ErrStoreUnavailable):
		return errStoreUnavailable
	case errors.Is(err, people.ErrBusy):
		return apiErr(http.StatusTooManyRequests, "busy", "too many sign-ins at once; try again in a moment")
	case errors.Is(err, people.ErrBadCredentials):
		return apiErr(http.StatusUnauthorized, "bad_credentials", "wrong email or password")
	case errors.Is(err, people.ErrForbidden):
		return apiErr(http.StatusForbidden, "forbidden", "your role may not do this")
	case errors.Is(err, people.ErrNotFound):
		return apiErr(http.StatusNotFound, "not_found", "no such record")
	case errors.Is(err, people.ErrExpired):
		return apiErr(http.StatusGone, "expired", "this link or code has expired, been used or been revoked")
	case errors.Is(err, people.ErrConflict):
		return apiErr(http.StatusConflict, "conflict", "that already exists")
	case errors.Is(err, people.ErrInvalid):
		return apiErr(http.StatusBadRequest, "invalid", err.Error())
	}
	return apiErr(http.StatusInternalServerError, "internal", "internal error")
}

// isRefusal says whether a redemption failed on what was sent (a wrong,
// used, expired or revoked code or token), not on the server.
func isRefusal(err error) bool {
	return errors.Is(err, people.ErrExpired) || errors.Is(err, devices.ErrExpired) || errors.Is(err, people.ErrInvalid)
}

// renderError writes err as JSON; internal errors are logged, not shown.
func (s *Server) renderError(c *gin.Context, err error) {
	var ie *people.ImportError
	if errors.As(err, &ie) { // every row's error, and nothing stored
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{"code": "import_failed",
			"message": localize(c, "import_failed", ie.Error())}, "report": ie.Report})
		return
	}
	ae := toAPIError(err)
	if ae.Status == http.StatusInternalServerError && s.deps.People != nil && c.Request.Context().Err() == nil {
		// The failure was the store's if it does not answer now (asked
		// apart from the request, whose end is no outage).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 2*time.Second)
		if s.deps.People.Ping(ctx) != nil {
			ae = errStoreUnavailable
		}
		cancel()
	}
	if ae.Status >= 500 {
		s.log.Error("api", "route", c.FullPath(), "code", ae.Code, "err", err)
	}
	if ae == errStoreUnavailable {
		c.Header("Retry-After", "30")
	}
	var le *people.LockedError
	if errors.As(err, &le) {
		c.Header("Retry-After", strconv.Itoa(int(time.Until(le.Until).Seconds())+1))
	}
	if errors.Is(err, people.ErrBusy) {
		c.Header("Retry-After", "1")
	}
	if ae.retryAfter != "" {
		c.Header("Retry-After", ae.retryAfter)
	}
	body := gin.H{"code": ae.Code, "message": localize(c, ae.Code, ae.Message)}
	if len(ae.Fields) > 0 {
		body["fields"] = ae.Fields
	}
	c.AbortWithStatusJSON(ae.Status, gin.H{"error": body})
}

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads a strict JSON body: unknown fields, trailing data, wrong
// types and oversized bodies are refused.
func decodeJSON(c *gin.Context, v any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return apiErr(http.StatusUnsupportedMediaType, "bad_content_type", "send application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiErr(http.StatusBadRequest, "bad_type", "field "+te.Field+" has the wrong type")
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return apiErr(http.StatusBadRequest, "unknown_field", strings.TrimPrefix(err.Error(), "json: "))
		}
		return errBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadJSON
	}
	return nil
}
