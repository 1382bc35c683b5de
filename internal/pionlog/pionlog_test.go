package pionlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	f := Factory{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	l := f.NewLogger("ice")
	l.Info("pion info is debug here")
	l.Warnf("Failed to accept RTP %s", "stream is already closed")
	l.Warnf("real trouble %d", 42)
	l.Errorf("worse %s", "trouble")
	out := buf.String()
	for _, want := range []string{"level=WARN msg=\"real trouble 42\" pion=ice", "level=ERROR msg=\"worse trouble\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, quiet := range []string{"pion info", "Failed to accept RTP"} {
		if strings.Contains(out, quiet) {
			t.Errorf("%q should be below info:\n%s", quiet, out)
		}
	}
}
