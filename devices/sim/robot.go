package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"seatlink/devices/agent"
	"seatlink/internal/wire"
)

// Head limits of the simulated robot, in degrees.
const (
	maxPan  = 90
	maxTilt = 30
)

// Config configures a simulated robot.
type Config struct {
	Server string // the server's base URL
	// Token is the robot's device credential. Without it, the robot
	// enrolls with EnrollCode and keeps the credential at StatePath.
	Token      string
	EnrollCode string
	StatePath  string
	// FlatBattery starts the battery at 12%; Flaky drops the control
	// channel every 20 to 40 seconds.
	FlatBattery bool
	Flaky       bool
	// NoControl skips the device control channel (media only).
	NoControl bool
	// ReportEvery is how often the level of the pupil's audio is logged.
	ReportEvery time.Duration
	// NetworkTypes restricts ICE (e.g. TCP only); default UDP.
	NetworkTypes []webrtc.NetworkType
	// TLS trusts a server whose certificate the system does not (an
	// LA's own CA, a demo's self-signed certificate); nil: system roots.
	TLS    *tls.Config
	Logger *slog.Logger
	// Parts, if set, are a real robot's camera, microphone, speaker,
	// actuator and sensors (seatlink device-agent) in place of the clip.
	Parts *Parts
}

// Stats are what the robot has seen so far.
type Stats struct {
	Commands          int64
	Chats             int64 // chat messages shown to the class
	PupilAudioPackets int64
	// PupilAudioLevel is the last RFC 6464 level of the pupil's audio in
	// -dBov (0 loudest, 127 silence), or -1 if the pupil sends none.
	PupilAudioLevel int
	PLIs            int64
	Connects        int64
	// ReceiverReports and TWCCFeedback count the SFU's RTCP about our media.
	ReceiverReports int64
	TWCCFeedback    int64
	// REMBs counts the SFU's estimates of what the pupil's line carries;
	// VideoTarget is the last (bit/s, 0: none yet), VideoRendition the
	// bitrate of the rendition now sent, VideoBytes what has been sent.
	REMBs          int64
	VideoTarget    int64
	VideoRendition int
	VideoBytes     int64
}

// Robot is a simulated classroom robot.
type Robot struct {
	cfg   Config
	log   *slog.Logger
	clip  *Clip
	video *webrtc.TrackLocalStaticSample
	audio *webrtc.TrackLocalStaticSample

	cur      atomic.Pointer[agent.Agent]
	ctl      atomic.Pointer[agent.Control]
	keyframe atomic.Bool

	mu    sync.Mutex
	state wire.RobotState
	dev   wire.DeviceState

	actMu   sync.Mutex // one actuator line at a time
	speaker *speaker

	commands, chats, audioPackets, plis, connects atomic.Int64
	receiverReports, twcc                         atomic.Int64
	level                                         atomic.Int32
	// rembs, target (bit/s), rendition (bit/s) and videoBytes follow the
	// SFU's estimate of the pupil's line (playVideo).
	rembs, target, rendition, videoBytes atomic.Int64
}

// New loads the clip and prepares the robot's tracks.
func New(cfg Config) (*Robot, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = 5 * time.Second
	}
	clip, err := LoadClip()
	if err != nil {
		return nil, err
	}
	vcodec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
	if cfg.Parts != nil {
		if vcodec, err = videoCodec(cfg.Parts.VideoFormat); err != nil {
			return nil, err
		}
	}
	video, err := webrtc.NewTrackLocalStaticSample(vcodec, "camera", "robot")
	if err != nil {
		return nil, err
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "microphone", "robot")
	if err != nil {
		return nil, err
	}
	r := &Robot{cfg: cfg, log: cfg.Logger.With("device", "sim-robot"), clip: clip, video: video, audio: audio,
		dev: wire.DeviceState{Volume: 70, Light: "steady #2c6e63"}}
	r.level.Store(-1)
	if cfg.Parts != nil {
		if r.speaker, err = newSpeaker(cfg.Parts.Speaker); err != nil {
			return nil, err
		}
		r.log = cfg.Logger.With("device", "robot")
	}
	return r, nil
}

// Stats returns counters for tests and logs.
func (r *Robot) Stats() Stats {
	return Stats{Commands: r.commands.Load(), Chats: r.chats.Load(), PupilAudioPackets: r.audioPackets.Load(),
		PupilAudioLevel: int(r.level.Load()), PLIs: r.plis.Load(), Connects: r.connects.Load(),
		ReceiverReports: r.receiverReports.Load(), TWCCFeedback: r.twcc.Load(),
		REMBs: r.rembs.Load(), VideoTarget: r.target.Load(), VideoRendition: int(r.rendition.Load()),
		VideoBytes: r.videoBytes.Load()}
}

// State is the robot's head, hand and modes.
func (r *Robot) State() wire.RobotState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// DeviceState is the robot's state as the device protocol reports it
// (asleep, muted, volume, head, light).
func (r *Robot) DeviceState() wire.DeviceState { return r.deviceState() }

// Run publishes until ctx ends, rejoining (with its resume key) after a
// dropped connection, and keeps the device control channel up. It returns
// nil when ctx ends, or the error that makes rejoining pointless (a bad or
// revoked credential).
func (r *Robot) Run(ctx context.Context) error {
	ctx = agent.WithTLS(ctx, r.cfg.TLS)
	cred, err := r.credential(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.report(ctx) }()
	if p := r.cfg.Parts; p != nil {
		// A pipeline that ends ends the agent (its service manager
		// restarts both); the readers stop when their pipelines close.
		for name, pipe := range map[string]func() error{"camera": r.pipeVideo, "microphone": r.pipeAudio} {
			if (name == "camera" && p.Video == nil) || (name == "microphone" && p.Audio == nil) {
				continue
			}
			go func() {
				err := pipe()
				if ctx.Err() != nil {
					return // stopping: the pipelines are closed under the readers
				}
				r.log.Error("pipeline ended", "pipeline", name, "err", err)
				cancel(fmt.Errorf("sim: the %s pipeline ended: %w", name, err))
			}()
		}
	} else {
		wg.Add(2)
		go func() { defer wg.Done(); r.playVideo(ctx) }()
		go func() { defer wg.Done(); r.playAudio(ctx) }()
	}
	if !r.cfg.NoControl {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.runControl(ctx, cred); err != nil {
				r.log.Error("control channel refused; stopping", "err", err)
				cancel(err)
			}
		}()
	}
	defer wg.Wait()
	r.cfg.Token = cred

	backoff := 500 * time.Millisecond
	resume := ""
	for ctx.Err() == nil {
		a, err := agent.Dial(ctx, agent.Config{
			Server: r.cfg.Server, Token: r.cfg.Token, Role: wire.RoleRobot,
			Publish: wire.Publish{Audio: true, Video: true},
			Tracks:  []webrtc.TrackLocal{r.video, r.audio},
			Resume:  resume, Client: r.firmware(), NetworkTypes: r.cfg.NetworkTypes,
			Logger: r.log, OnTrack: r.onTrack, OnSender: r.onSender, OnControl: r.onControl,
		})
		if err != nil {
			var se *agent.ErrServer
			if errors.As(err, &se) && se.Msg.Code == wire.CodeBadToken {
				cancel(err)
				return err
			}
			if ctx.Err() != nil {
				break
			}
			r.log.Warn("cannot join; retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 500 * time.Millisecond
		resume = a.ResumeKey()
		r.cur.Store(a)
		r.connects.Add(1)
		r.log.Info("joined link", "peer", a.Joined().Peer, "others", a.Joined().Peers)
		select {
		case <-ctx.Done():
			_ = a.Close()
		case <-a.Done():
			r.log.Warn("session ended; rejoining", "err", a.Err())
		}
		r.cur.Store(nil)
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// every calls f every d until ctx ends; a ticker, not sleeps, so that
// the time spent in f does not accumulate as drift.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// playVideo sends the clip at the rendition the SFU's estimate of the
// pupil's line allows (REMB), switching at a keyframe, as a camera's
// encoder lowers and raises its bitrate and frame rate. Time is counted in
// ticks of the full rendition's frame; a rendition at half the frame rate
// sends on every other tick.
func (r *Robot) playVideo(ctx context.Context) {
	t := 0
	var lad ladder
	r.rendition.Store(int64(r.clip.Renditions[0].Bitrate))
	every(ctx, r.clip.FrameDuration, func() {
		if r.deviceState().Asleep {
			return // privacy: the camera is off
		}
		target := r.target.Load()
		prev := lad.cur
		next := lad.step(r.clip, target, time.Now())
		if r.keyframe.Swap(false) || next != prev {
			t = r.clip.nextKeyframe(t)
			if next != prev {
				r.log.Info("video follows the pupil's line", "target_bps", target,
					"rendition_bps", r.clip.Renditions[next].Bitrate)
				r.rendition.Store(int64(r.clip.Renditions[next].Bitrate))
			}
		}
		rend := r.clip.Renditions[next]
		step := max(int(rend.FrameDuration/r.clip.FrameDuration), 1)
		if t%step == 0 {
			frame := rend.Video[(t/step)%len(rend.Video)]
			_ = r.video.WriteSample(media.Sample{Data: frame, Duration: rend.FrameDuration})
			r.videoBytes.Add(int64(len(frame)))
		}
		t = (t + 1) % len(r.clip.Video)
	})
}

// ladder chooses the rendition (0 the highest) as an encoder follows an
// estimate: one rung at a time, at most every half second, because an
// estimate made while the line's queue drains overshoots downwards. It
// never goes above the estimate: the SFU probes the pupil's line itself
// (padding, media/sendside.go) and raises the estimate before the robot
// may send more, so an upward step is never a guess that overflows the
// line and freezes the picture (a blind probe a rung up did, under a
// 600 kbit/s cap, for 3.7 s).
type ladder struct {
	cur   int
	moved time.Time
}

// step returns the rendition to send now for target bit/s.
func (l *ladder) step(c *Clip, target int64, now time.Time) int {
	fits := c.renditionFor(target)
	if fits == l.cur || now.Sub(l.moved) < 500*time.Millisecond {
		return l.cur
	}
	if fits > l.cur {
		l.cur++
	} else {
		l.cur--
	}
	l.moved = now
	return l.cur
}

func (r *Robot) playAudio(ctx context.Context) {
	i := 0
	every(ctx, r.clip.AudioDuration, func() {
		if r.deviceState().Asleep {
			return // privacy: the microphone is off
		}
		_ = r.audio.WriteSample(media.Sample{Data: r.clip.Audio[i], Duration: r.clip.AudioDuration})
		i = (i + 1) % len(r.clip.Audio)
	})
}

// onSender reads the RTCP of our senders: a PLI or FIR makes the video
// jump to the clip's next keyframe (a real camera would encode one).
func (r *Robot) onSender(t webrtc.TrackLocal, s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.ReceiverReport:
				r.receiverReports.Add(1)
			case *rtcp.TransportLayerCC:
				r.twcc.Add(1)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				if t.Kind() == webrtc.RTPCodecTypeVideo {
					r.rembs.Add(1)
					r.target.Store(int64(p.Bitrate))
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if t.Kind() == webrtc.RTPCodecTypeVideo {
					r.plis.Add(1)
					r.keyframe.Store(true)
				}
			}
		}
	}
}

// onTrack counts the pupil's audio and reads its RFC 6464 level.
func (r *Robot) onTrack(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	r.log.Info("receiving pupil track", "kind", t.Kind().String(), "codec", t.Codec().MimeType)
	levelID := uint8(0)
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			levelID = uint8(e.ID)
		}
	}
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		if t.Kind() != webrtc.RTPCodecTypeAudio {
			continue
		}
		r.audioPackets.Add(1)
		if r.speaker != nil {
			r.speaker.mu.Lock()
			err := r.speaker.w.WriteRTP(p)
			r.speaker.mu.Unlock()
			if err != nil {
				r.log.Warn("speaker", "err", err)
			}
		}
		if levelID != 0 {
			if ext := p.GetExtension(levelID); len(ext) > 0 {
				r.level.Store(int32(ext[0] & 0x7f))
			}
		}
	}
}

func (r *Robot) report(ctx context.Context) {
	t := time.NewTicker(r.cfg.ReportEvery)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := r.audioPackets.Load()
		if n == last {
			continue
		}
		lvl := r.level.Load()
		attrs := []any{"packets_per_s", float64(n-last) / r.cfg.ReportEvery.Seconds()}
		if lvl >= 0 {
			attrs = append(attrs, "level_dbov", -lvl)
		} else {
			attrs = append(attrs, "level", "not sent")
		}
		r.log.Info("pupil audio", attrs...)
		last = n
	}
}

// onControl obeys a pupil's command and acknowledges it with the new state.
func (r *Robot) onControl(c wire.Control) {
	if c.Type != wire.ControlCommand {
		return
	}
	r.commands.Add(1)
	r.mu.Lock()
	s := &r.state
	switch c.Command {
	case wire.CmdRaiseHand:
		s.Hand = true
	case wire.CmdLowerHand:
		s.Hand = false
	case wire.CmdTurn:
		if c.Pan != nil {
			s.Pan = math.Max(-maxPan, math.Min(maxPan, s.Pan+*c.Pan))
		}
		if c.Tilt != nil {
			s.Tilt = math.Max(-maxTilt, math.Min(maxTilt, s.Tilt+*c.Tilt))
		}
	case wire.CmdWhisper:
		s.Whisper = *c.On
	case wire.CmdPassive:
		s.Passive = *c.On
	case wire.CmdChat:
		r.chats.Add(1) // a real robot shows the text on its screen
	case wire.CmdExpression:
		s.Expression = c.Expression // a real robot shows the face on its screen
	}
	state := *s
	r.mu.Unlock()
	r.log.Info("command", "command", c.Command, "hand", state.Hand, "pan", state.Pan, "tilt", state.Tilt,
		"whisper", state.Whisper, "passive", state.Passive)
	r.actuate(c.Command)
	if a := r.cur.Load(); a != nil {
		if err := a.SendControl(wire.Ack(c.ID, true, "", &state)); err != nil {
			r.log.Warn("cannot acknowledge", "err", err)
		}
	}
}

// firmware names the device in hello and join.
func (r *Robot) firmware() string {
	if r.cfg.Parts != nil {
		return "seatlink-device-agent/1"
	}
	return "seatlink-device-sim/1"
}
