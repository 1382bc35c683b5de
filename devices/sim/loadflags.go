package sim

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// LoadFlags are the workload flags every load client shares (Seatlink's
// own and a peer SFU's), so both drive the same shape with the same limits.
type LoadFlags struct {
	Links    int
	Seconds  float64
	Ramp     float64
	Bitrate  int
	FPS      int
	JSON     string
	PID      int
	progress io.Writer
}

// Register defines the flags on fs; progress lines go to progress.
func (f *LoadFlags) Register(fs *flag.FlagSet, progress io.Writer) {
	f.progress = progress
	fs.IntVar(&f.Links, "links", 10, "links (robot + pupil) to run, 1 to 500")
	fs.Float64Var(&f.Seconds, "seconds", 20, "steady seconds measured after the last join, 1 to 600")
	fs.Float64Var(&f.Ramp, "ramp", 10, "joins per second")
	fs.IntVar(&f.Bitrate, "bitrate", 1_500_000, "robot video bitrate, bit/s")
	fs.IntVar(&f.FPS, "fps", 30, "robot video frames per second")
	fs.StringVar(&f.JSON, "json", "", "also write the report as JSON to this file")
	fs.IntVar(&f.PID, "server-pid", 0, "the server's process id, to read its CPU and memory from /proc")
}

// Check bounds the run: at most 500 links and 600 seconds.
func (f *LoadFlags) Check() error {
	if f.Links < 1 || f.Links > 500 || f.Seconds < 1 || f.Seconds > 600 || f.Ramp <= 0 || f.Ramp > 200 ||
		f.Bitrate < 50_000 || f.Bitrate > 20_000_000 || f.FPS < 1 || f.FPS > 60 {
		return errors.New("--links 1 to 500, --seconds 1 to 600, --ramp up to 200/s, --bitrate 50k to 20M, --fps 1 to 60")
	}
	return nil
}

// Config is the run the flags describe, against server with links.
func (f *LoadFlags) Config(server string, links []LinkCreds) LoadConfig {
	return LoadConfig{Server: server, Links: links, Duration: time.Duration(f.Seconds * float64(time.Second)),
		RampPerSec: f.Ramp, VideoBitrate: f.Bitrate, FPS: f.FPS, ServerPID: f.PID,
		Progress: func(p LoadProgress) {
			if f.progress != nil {
				fmt.Fprint(f.progress, p)
			}
		}}
}
