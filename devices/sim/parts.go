package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"seatlink/internal/wire"
)

// Parts make the robot a real one (seatlink device-agent): its camera and
// microphone are external pipelines (ffmpeg, rpicam-vid, GStreamer) writing
// to a stream, the pupil's voice goes to a player's stdin as Ogg/Opus, and
// the head, hand, face and sleep go to an actuator's stdin as JSON lines,
// so that a servo or LED driver is a short script. Without Parts the robot
// plays its built-in test clip.
type Parts struct {
	// Video is the camera: IVF with VP8 (VideoFormat "ivf"), or H.264
	// Annex B (VideoFormat "h264", constrained baseline) at FPS frames a
	// second.
	Video       io.Reader
	VideoFormat string
	FPS         int
	// Audio is the microphone: Ogg with Opus (48 kHz).
	Audio io.Reader
	// Speaker receives the pupil's voice as Ogg/Opus (nil: not played).
	Speaker io.Writer
	// Actuator receives one JSON object per line for every change of head,
	// hand, face, modes, sleep and volume (nil: none).
	Actuator io.Writer
	// VideoAt, if set, starts the camera pipeline anew, encoding about
	// bps bit/s, and returns its stream (in VideoFormat, from its start);
	// closing the stream stops that pipeline. The robot calls it when the
	// pupil's line (the server's REMB) stays well away from what the
	// camera encodes (encoderPolicy), and reads the new stream in place
	// of the old, which it closes, once the new one flows. VideoBitrate
	// is what Video encodes at first (0: taken as the most a pupil is
	// sent, 2.5 Mbit/s). VideoCommand makes a VideoAt from a shell
	// command line.
	VideoAt      func(bps int) (io.ReadCloser, error)
	VideoBitrate int
	// BatteryFile and TemperatureFile are read at each heartbeat (sysfs:
	// /sys/class/power_supply/BAT0/capacity, a percentage, and
	// /sys/class/thermal/thermal_zone0/temp, in millidegrees); a reading
	// that is missing is reported as unknown.
	BatteryFile, TemperatureFile string
}

// ActuatorLine is what the actuator reads, one per line.
type ActuatorLine struct {
	Event      string  `json:"event"` // the command that changed it
	Pan        float64 `json:"pan"`
	Tilt       float64 `json:"tilt"`
	Hand       bool    `json:"hand"`
	Whisper    bool    `json:"whisper"`
	Passive    bool    `json:"passive"`
	Expression string  `json:"expression,omitempty"`
	Asleep     bool    `json:"asleep"`
	Muted      bool    `json:"muted"`
	Volume     int     `json:"volume"`
}

// videoCodec is the track codec for a video format.
func videoCodec(format string) (webrtc.RTPCodecCapability, error) {
	switch format {
	case "", "ivf":
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, nil
	case "h264":
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, nil
	}
	return webrtc.RTPCodecCapability{}, fmt.Errorf("sim: video format %q: use ivf (VP8) or h264 (Annex B)", format)
}

// pipeVideo sends the camera pipeline's frames as they come (the pipeline
// sets the pace); asleep, frames are read and dropped, so the pipeline
// never blocks and nothing leaves the robot. With VideoAt it follows the
// pupil's line (followLine), reading each new pipeline's stream as the
// old one is closed.
func (r *Robot) pipeVideo() error {
	p := r.cfg.Parts
	var next chan io.ReadCloser
	if p.VideoAt != nil {
		if _, ok := p.Video.(io.Closer); ok {
			next = make(chan io.ReadCloser, 1)
			done := make(chan struct{})
			defer close(done)
			go r.followLine(p.Video.(io.Closer), next, done)
		} else {
			r.log.Warn("camera stream cannot be closed: the encoder will not follow the pupil's line")
		}
	}
	stream := p.Video
	for {
		err := r.readVideo(stream)
		select {
		case s := <-next:
			stream = s // the old pipeline was closed for this one
		default:
			if c, ok := stream.(io.Closer); ok && stream != p.Video {
				_ = c.Close() // ours: the operator's first pipeline is theirs to stop
			}
			return err
		}
	}
}

// readVideo sends the frames of one camera stream until it ends.
func (r *Robot) readVideo(stream io.Reader) error {
	p := r.cfg.Parts
	asleep := func() bool { return r.deviceState().Asleep }
	switch p.VideoFormat {
	case "", "ivf":
		ivf, hdr, err := ivfreader.NewWith(stream)
		if err != nil {
			return fmt.Errorf("sim: camera stream: %w", err)
		}
		if hdr.FourCC != "VP80" {
			return fmt.Errorf("sim: camera stream is %s, want VP80 in IVF", hdr.FourCC)
		}
		d := time.Second * time.Duration(hdr.TimebaseNumerator) / time.Duration(max(1, hdr.TimebaseDenominator))
		for {
			frame, _, err := ivf.ParseNextFrame()
			if err != nil {
				return err
			}
			if !asleep() {
				_ = r.video.WriteSample(media.Sample{Data: frame, Duration: d})
				r.videoBytes.Add(int64(len(frame)))
			}
		}
	case "h264":
		h, err := h264reader.NewReader(stream)
		if err != nil {
			return fmt.Errorf("sim: camera stream: %w", err)
		}
		d := time.Second / time.Duration(max(1, p.FPS))
		for {
			nal, err := h.NextNAL()
			if err != nil {
				return err
			}
			if asleep() {
				continue
			}
			dur := time.Duration(0)
			if nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr {
				dur = d // a picture ends here
			}
			_ = r.video.WriteSample(media.Sample{Data: nal.Data, Duration: dur})
			r.videoBytes.Add(int64(len(nal.Data)))
		}
	}
	return fmt.Errorf("sim: video format %q", p.VideoFormat)
}

// An external encoder cannot change its bitrate while it runs (ffmpeg,
// rpicam-vid and a GStreamer pipeline given on a command line cannot be
// told), so the robot starts it anew: each start costs the encoder's
// start-up and a keyframe, so the policy is debounced. It lowers the
// bitrate when the pupil's line has stood under 80 % of what the camera
// encodes for encoderLowerAfter, to 90 % of the line (room for the
// container and the encoder's overshoot), at most every encoderLowerGap;
// it raises it when the line has stood over 130 % for encoderRaiseAfter,
// by at most half at a time (a browser's estimate grows only with what it
// receives), at most every encoderRaiseGap. Never under encoderMin. The
// frame rate and size are the pipeline's own: a command that wants fewer
// frames on a weak line can read SEATLINK_VIDEO_KBPS and choose (with
// h264, -fps must stay what the stream sends).
const (
	encoderLowerAfter = time.Second
	encoderLowerGap   = 5 * time.Second
	encoderRaiseAfter = 5 * time.Second
	encoderRaiseGap   = 10 * time.Second
	encoderMin        = 100_000
	encoderMax        = 2_500_000
	encoderEvery      = 500 * time.Millisecond
)

// encoderPolicy decides when an external encoder starts anew, and at what
// bitrate.
type encoderPolicy struct {
	cur   int // bit/s the pipeline encodes at
	away  int // -1: the line stands under it, +1: over, 0: near
	since time.Time
	last  time.Time // the last start
}

// decide takes the line's latest estimate (bit/s, 0: none) and says
// whether to start the encoder anew, at bps.
func (e *encoderPolicy) decide(line int64, now time.Time) (bps int, restart bool) {
	if line <= 0 {
		e.away = 0
		return 0, false
	}
	want := min(max(int(line)*9/10, encoderMin), encoderMax)
	away := 0
	switch {
	case want < e.cur*8/10:
		away = -1
	case want > e.cur*13/10:
		away = 1
	}
	if away != e.away {
		e.away, e.since = away, now
	}
	switch {
	case away < 0 && now.Sub(e.since) >= encoderLowerAfter && now.Sub(e.last) >= encoderLowerGap:
		bps = want
	case away > 0 && now.Sub(e.since) >= encoderRaiseAfter && now.Sub(e.last) >= encoderRaiseGap:
		bps = min(want, e.cur*3/2)
	default:
		return 0, false
	}
	e.cur, e.last, e.away = bps, now, 0
	return bps, true
}

// followLine starts the camera pipeline anew when the policy says, and
// hands the new stream to the reader once it flows, closing the old one
// (which ends the reader's read of it). It stops when done closes.
func (r *Robot) followLine(old io.Closer, next chan<- io.ReadCloser, done <-chan struct{}) {
	p := r.cfg.Parts
	pol := encoderPolicy{cur: p.VideoBitrate}
	if pol.cur <= 0 {
		pol.cur = encoderMax
	}
	t := time.NewTicker(encoderEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		bps, restart := pol.decide(r.target.Load(), time.Now())
		if !restart {
			continue
		}
		stream, err := p.VideoAt(bps)
		if err != nil {
			r.log.Warn("camera pipeline cannot start anew; keeping the old one", "bps", bps, "err", err)
			continue
		}
		// Wait for its first bytes, so the picture pauses only for the
		// switch, not for the encoder's start.
		br := &readCloser{bufio.NewReaderSize(stream, 64<<10), stream}
		flowing := make(chan error, 1)
		go func() { _, err := br.r.Peek(1); flowing <- err }()
		select {
		case err = <-flowing:
		case <-time.After(10 * time.Second):
			err = errors.New("no output in 10 s")
		case <-done:
			_ = stream.Close()
			return
		}
		if err != nil {
			_ = stream.Close()
			r.log.Warn("camera pipeline started anew gave nothing; keeping the old one", "bps", bps, "err", err)
			continue
		}
		r.log.Info("camera encoder follows the pupil's line", "target_bps", r.target.Load(), "encoder_bps", bps)
		next <- br
		_ = old.Close()
		old = br
	}
}

// readCloser reads through a buffer and closes what it buffers.
type readCloser struct {
	r *bufio.Reader
	c io.Closer
}

func (b *readCloser) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *readCloser) Close() error               { return b.c.Close() }

// VideoCommand is a Parts.VideoAt that runs a shell command line (as
// device-agent runs -video-cmd) with SEATLINK_VIDEO_KBPS set to the
// bitrate in kbit/s, e.g. ffmpeg ... -b:v ${SEATLINK_VIDEO_KBPS}k ...;
// closing its stream stops the command (SIGTERM, then SIGKILL after 5 s).
// Its standard error goes to stderr; it is stopped when ctx ends.
func VideoCommand(ctx context.Context, line string, stderr io.Writer) func(bps int) (io.ReadCloser, error) {
	return func(bps int) (io.ReadCloser, error) {
		c := exec.CommandContext(ctx, "/bin/sh", "-c", line)
		c.Env = append(os.Environ(), "SEATLINK_VIDEO_KBPS="+strconv.Itoa(bps/1000))
		c.Stderr = stderr
		c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
		c.WaitDelay = 5 * time.Second
		out, err := c.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := c.Start(); err != nil {
			return nil, fmt.Errorf("sim: camera pipeline: %w", err)
		}
		return &command{ReadCloser: out, cmd: c}, nil
	}
}

// command is a running pipeline's output; Close stops it.
type command struct {
	io.ReadCloser
	cmd  *exec.Cmd
	once sync.Once
}

func (c *command) Close() error {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		_ = c.ReadCloser.Close()
		_ = c.cmd.Wait()
	})
	return nil
}

// pipeAudio sends the microphone pipeline's Opus packets, one by one: a
// page may hold many (ffmpeg's pages are a second long unless told
// -page_duration 20000), and each is paced at its own duration.
func (r *Robot) pipeAudio() error {
	const packet = 20 * time.Millisecond
	pr := &oggPackets{r: bufio.NewReader(r.cfg.Parts.Audio)}
	for {
		pkts, err := pr.page()
		if err != nil {
			return err
		}
		for i, pkt := range pkts {
			if bytes.HasPrefix(pkt, []byte("OpusHead")) || bytes.HasPrefix(pkt, []byte("OpusTags")) {
				continue
			}
			if i > 0 {
				time.Sleep(packet) // a page of many: spread them as they were spoken
			}
			if st := r.deviceState(); !st.Asleep && !st.Muted {
				_ = r.audio.WriteSample(media.Sample{Data: pkt, Duration: packet})
			}
		}
	}
}

// oggPackets reads the packets of an Ogg stream (RFC 3533), page by page,
// joining a packet continued across pages.
type oggPackets struct {
	r       *bufio.Reader
	partial []byte
}

// maxOggPacket bounds a packet joined across pages (an Opus packet is at
// most 120 ms, a few KiB).
const maxOggPacket = 64 << 10

// page returns the packets completed by the next page.
func (o *oggPackets) page() ([][]byte, error) {
	var hdr [27]byte
	if _, err := io.ReadFull(o.r, hdr[:]); err != nil {
		return nil, err
	}
	if string(hdr[:4]) != "OggS" || hdr[4] != 0 {
		return nil, errors.New("sim: not an Ogg page")
	}
	lacing := make([]byte, hdr[26])
	if _, err := io.ReadFull(o.r, lacing); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, n := range lacing {
		seg := make([]byte, n)
		if _, err := io.ReadFull(o.r, seg); err != nil {
			return nil, err
		}
		o.partial = append(o.partial, seg...)
		if len(o.partial) > maxOggPacket {
			return nil, errors.New("sim: Ogg packet too large")
		}
		if n < 255 { // a lacing value under 255 ends a packet
			out = append(out, o.partial)
			o.partial = nil
		}
	}
	return out, nil
}

// speaker writes the pupil's voice to the player, if there is one.
type speaker struct {
	mu sync.Mutex
	w  *oggwriter.OggWriter
}

func newSpeaker(w io.Writer) (*speaker, error) {
	if w == nil {
		return nil, nil
	}
	ow, err := oggwriter.NewWith(w, 48000, 2)
	if err != nil {
		return nil, err
	}
	return &speaker{w: ow}, nil
}

// actuate tells the actuator the robot's state after a command.
func (r *Robot) actuate(event string) {
	if r.cfg.Parts == nil || r.cfg.Parts.Actuator == nil {
		return
	}
	r.mu.Lock()
	line := ActuatorLine{Event: event, Pan: r.state.Pan, Tilt: r.state.Tilt, Hand: r.state.Hand, Whisper: r.state.Whisper,
		Passive: r.state.Passive, Expression: r.state.Expression, Asleep: r.dev.Asleep, Muted: r.dev.Muted, Volume: r.dev.Volume}
	r.mu.Unlock()
	b, _ := json.Marshal(line)
	r.actMu.Lock()
	defer r.actMu.Unlock()
	if _, err := r.cfg.Parts.Actuator.Write(append(b, '\n')); err != nil {
		r.log.Warn("actuator", "err", err)
	}
}

// readings are the battery and temperature the operator's files say,
// each nil when it cannot be read.
func (p *Parts) readings() (battery *int, tempC *float64) {
	if p.BatteryFile != "" {
		if n, err := readNumber(p.BatteryFile); err == nil && n >= 0 && n <= 100 {
			b := int(n)
			battery = &b
		}
	}
	if p.TemperatureFile != "" {
		if n, err := readNumber(p.TemperatureFile); err == nil {
			if n > 1000 { // sysfs gives millidegrees
				n /= 1000
			}
			if n >= -40 && n <= 125 {
				t := float64(int(n*10)) / 10
				tempC = &t
			}
		}
	}
	return battery, tempC
}

func readNumber(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 64)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(line), 64)
}

// partsHeartbeat is a heartbeat from the parts' readings: what the
// operator's files say, and no Wi-Fi figure (none is measured).
func (r *Robot) partsHeartbeat(start time.Time) wire.DeviceMessage {
	b, t := r.cfg.Parts.readings()
	up := int64(time.Since(start).Seconds())
	return wire.DeviceMessage{Type: wire.DevHeartbeat, Battery: b, TemperatureC: t, UptimeS: &up}
}
