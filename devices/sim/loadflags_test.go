package sim

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// Every load client is bounded the same way: the flags refuse runs
// outside 1 to 500 links and 1 to 600 seconds, and sane media.
func TestLoadFlagsBoundTheRun(t *testing.T) {
	for _, tc := range []struct {
		args string
		ok   bool
	}{
		{"", true}, {"--links 500 --seconds 600 --ramp 200", true}, {"--links 1 --seconds 1 --bitrate 50000 --fps 1", true},
		{"--links 0", false}, {"--links 501", false}, {"--seconds 0.5", false}, {"--seconds 601", false},
		{"--ramp 0", false}, {"--ramp 201", false}, {"--bitrate 49999", false}, {"--bitrate 20000001", false},
		{"--fps 0", false}, {"--fps 61", false}, {"--links -3", false},
	} {
		var f LoadFlags
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.Register(fs, nil)
		if err := fs.Parse(strings.Fields(tc.args)); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if err := f.Check(); (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok %v", tc.args, err, tc.ok)
		}
	}
	var f LoadFlags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f.Register(fs, nil)
	_ = fs.Parse([]string{"--links", "7", "--seconds", "2.5", "--server-pid", "42"})
	cfg := f.Config("http://127.0.0.1:1", make([]LinkCreds, 7))
	if cfg.Duration != 2500*time.Millisecond || cfg.ServerPID != 42 || cfg.VideoBitrate != 1_500_000 || cfg.FPS != 30 || len(cfg.Links) != 7 {
		t.Errorf("config %+v", cfg)
	}
	cfg.Progress(LoadProgress{}) // no progress writer: nothing written, no panic
}
