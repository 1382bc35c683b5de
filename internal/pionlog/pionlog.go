// Package pionlog sends Pion's logs into log/slog, at their own level, with
// the Pion scope (ice, dtls, sctp, ...) as an attribute.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// Factory implements logging.LoggerFactory. Pion is chatty: its info lines
// are logged at debug, and only its warnings and errors at their own level.
type Factory struct {
	Logger *slog.Logger
}

var _ logging.LoggerFactory = Factory{}

// NewLogger returns a logger for one Pion scope.
func (f Factory) NewLogger(scope string) logging.LeveledLogger {
	return logger{l: f.Logger.With("pion", scope)}
}

type logger struct{ l *slog.Logger }

func (g logger) log(level slog.Level, msg string) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, msg)
	}
}

func (g logger) logf(level slog.Level, format string, args ...any) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

// slog has no trace level; Pion's trace goes four below debug.
const levelTrace = slog.LevelDebug - 4

func (g logger) Trace(msg string)                  { g.log(levelTrace, msg) }
func (g logger) Tracef(format string, args ...any) { g.logf(levelTrace, format, args...) }
func (g logger) Debug(msg string)                  { g.log(levelTrace, msg) }
func (g logger) Debugf(format string, args ...any) { g.logf(levelTrace, format, args...) }
func (g logger) Info(msg string)                   { g.log(slog.LevelDebug, msg) }
func (g logger) Infof(format string, args ...any)  { g.logf(slog.LevelDebug, format, args...) }
func (g logger) Warn(msg string)                   { g.log(warnLevel(msg), msg) }
func (g logger) Warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	g.log(warnLevel(msg), msg)
}

// routineWarnings are what Pion warns about while a connection starts or
// closes normally.
var routineWarnings = []string{
	"Failed to ping without candidate pairs",
	"Failed to accept RTP stream is already closed",
	"Failed to accept RTCP stream is already closed",
	"Failed to read from candidate",
	"Failed to read streaming packet",
	"failed to close connection",
	"Warning: mux: no endpoint for packet",
}

// warnLevel demotes Pion warnings that are part of normal operation.
func warnLevel(msg string) slog.Level {
	for _, p := range routineWarnings {
		if strings.HasPrefix(msg, p) {
			return slog.LevelDebug
		}
	}
	return slog.LevelWarn
}
func (g logger) Error(msg string)                  { g.log(slog.LevelError, msg) }
func (g logger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args...) }
