package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
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
// never blocks and nothing leaves the robot.
func (r *Robot) pipeVideo() error {
	p := r.cfg.Parts
	asleep := func() bool { return r.deviceState().Asleep }
	switch p.VideoFormat {
	case "", "ivf":
		ivf, hdr, err := ivfreader.NewWith(p.Video)
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
			}
		}
	case "h264":
		h, err := h264reader.NewReader(p.Video)
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
		}
	}
	return fmt.Errorf("sim: video format %q", p.VideoFormat)
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
