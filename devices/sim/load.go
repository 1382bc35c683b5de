package sim

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"seatlink/devices/agent"
	"seatlink/internal/wire"
)

// LoadConfig shapes a load test run against a server on loopback.
type LoadConfig struct {
	Server       string
	Links        []LinkCreds
	Duration     time.Duration // steady time after the last join
	RampPerSec   float64       // joins (links) per second
	VideoBitrate int           // bits per second of the robot's VP8 (default 1.5 Mbit/s)
	FPS          int           // frames per second (default 30)
	Logger       *slog.Logger
	// Progress, if set, is told how the run goes about twice a second.
	Progress func(LoadProgress)
	// Join joins one side of a link; nil joins Seatlink's own server
	// (and reads its /metrics). Another SFU's load client sets its own.
	Join JoinFunc
	// ServerPID, if set, is the server's process: its CPU time and
	// resident memory are read from /proc, the same way for any server.
	ServerPID int
	// Metrics, if set, is the URL of the server's Prometheus metrics
	// (serve --metrics-addr; never on the public port): forwarded rates,
	// NACKs and goroutines are read from it.
	Metrics string
}

// Side is which end of a link a load peer plays.
type Side int

const (
	RobotSide Side = iota // publishes video and audio
	PupilSide             // publishes audio
)

// JoinFunc joins one side of a link, publishing tracks. It calls onTrack
// for each track the server sends and onPLI when the server asks for a
// keyframe; leave ends the session.
type JoinFunc func(ctx context.Context, link LinkCreds, side Side, tracks []webrtc.TrackLocal,
	onTrack func(*webrtc.TrackRemote), onPLI func()) (leave func(), err error)

// LoadProgress is the run so far.
type LoadProgress struct {
	Joined, WithMedia, Links int
	Elapsed, Total           time.Duration
}

// String is the progress line: a bar, the time, links joined and with
// media, starting with a carriage return so each line overwrites the last.
func (p LoadProgress) String() string {
	return fmt.Sprintf("\rrunning %s %3.0fs/%3.0fs  joined %d/%d  with media %d", Bar(p.Elapsed.Seconds()/p.Total.Seconds()),
		p.Elapsed.Seconds(), p.Total.Seconds(), p.Joined, p.Links, p.WithMedia)
}

// Bar draws a progress bar for a fraction done.
func Bar(f float64) string {
	f = min(max(f, 0), 1)
	n := int(f * 24)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 24-n) + "]"
}

// LoopbackOnly refuses any load test target but this machine.
func LoopbackOnly(server string) error {
	u, err := url.Parse(server)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("%q is not a URL", server)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("%s: want http://, https://, ws:// or wss://", server)
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil && u.Hostname() != "localhost") || (ip != nil && !ip.IsLoopback()) {
		return fmt.Errorf("%s: the load test only drives a server on loopback (127.0.0.1, ::1)", server)
	}
	return nil
}

// histogram keeps durations in microseconds to within about 1.5 % (the
// top 7 bits of each value: 64 steps per power of two), in fixed memory.
// Adding is lock-free: every receiving goroutine of the run adds to it.
type histogram struct {
	counts [64 * 128]atomic.Uint64
	n      atomic.Uint64
}

func (h *histogram) add(d time.Duration) {
	us := uint64(max(d.Microseconds(), 0))
	e := bits.Len64(us)
	var i int
	if e <= 7 {
		i = int(us)
	} else {
		i = e*128 + int(us>>(e-7))&127
	}
	h.counts[i].Add(1)
	h.n.Add(1)
}

func (h *histogram) quantile(q float64) time.Duration {
	total := h.n.Load()
	if total == 0 {
		return 0
	}
	target := uint64(q*float64(total-1)) + 1
	var c uint64
	for i := range h.counts {
		c += h.counts[i].Load()
		if c >= target {
			if i < 128 {
				return time.Duration(i) * time.Microsecond
			}
			e := i / 128
			return time.Duration(uint64(i%128)<<(e-7)) * time.Microsecond
		}
	}
	return 0
}

// Percentiles are a distribution's p50, p95 and p99 in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	N   uint64  `json:"n"`
}

func (h *histogram) percentiles() Percentiles {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Percentiles{P50: ms(h.quantile(0.50)), P95: ms(h.quantile(0.95)), P99: ms(h.quantile(0.99)), N: h.n.Load()}
}

// LoadReport is what a run measured.
type LoadReport struct {
	Links             int         `json:"links"`
	LinksWithMedia    int         `json:"links_with_media"`
	LinksFailed       int         `json:"links_failed"`
	Seconds           float64     `json:"steady_seconds"`
	JoinToFirstVideo  Percentiles `json:"join_to_first_video_packet"`
	JoinToKeyframe    Percentiles `json:"join_to_first_keyframe"`
	ForwardLatency    Percentiles `json:"forwarding_latency"`
	LossPct           float64     `json:"loss_pct"`
	NACKs             float64     `json:"nacks"`
	ForwardedMbitS    float64     `json:"forwarded_mbit_per_s"`
	ForwardedPktS     float64     `json:"forwarded_packets_per_s"`
	ReceivedMbitS     float64     `json:"received_mbit_per_s"` // RTP that reached the load test's subscribers
	ServerCPUSeconds  float64     `json:"server_cpu_seconds"`
	ServerCoresPerGbS float64     `json:"server_cpu_s_per_s_per_gbit_s"` // cores busy per Gbit/s received by subscribers
	ServerCPUPerLink  float64     `json:"server_cpu_s_per_s_per_link"`   // cores busy per link
	ServerRSSMiB      float64     `json:"server_rss_mib"`
	ServerRSSPerLink  float64     `json:"server_rss_mib_per_link"`
	ServerGoroutines  float64     `json:"server_goroutines"`
	LoadCPUSeconds    float64     `json:"loadtest_cpu_seconds"`
	// KernelUDPDrops counts datagrams the kernel dropped for a full socket
	// receive buffer, on the whole machine (server and load test alike),
	// in the measured window: loss that never reached either program.
	KernelUDPDrops int64    `json:"kernel_udp_receive_buffer_drops"`
	Errors         []string `json:"errors,omitempty"`
}

// Finish writes the summary, the JSON report if jsonPath is set, and
// fails the run if any link never got media.
func (r LoadReport) Finish(summary io.Writer, jsonPath string) error {
	r.WriteSummary(summary)
	if jsonPath != "" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if r.LinksFailed > 0 {
		return fmt.Errorf("%d of %d links never got media", r.LinksFailed, r.Links)
	}
	return nil
}

// WriteSummary writes the report for people.
func (r LoadReport) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "links: %d, with media %d, failed %d (steady %.1f s)\n", r.Links, r.LinksWithMedia, r.LinksFailed, r.Seconds)
	fmt.Fprintf(w, "join → first video packet: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n", r.JoinToFirstVideo.P50, r.JoinToFirstVideo.P95, r.JoinToFirstVideo.P99)
	fmt.Fprintf(w, "join → first keyframe:     p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n", r.JoinToKeyframe.P50, r.JoinToKeyframe.P95, r.JoinToKeyframe.P99)
	fmt.Fprintf(w, "forwarding latency added:  p50 %.2f ms, p99 %.2f ms (%d packets)\n", r.ForwardLatency.P50, r.ForwardLatency.P99, r.ForwardLatency.N)
	fmt.Fprintf(w, "loss %.3f %%, NACKs %.0f\n", r.LossPct, r.NACKs)
	fmt.Fprintf(w, "forwarded: %.1f Mbit/s, %.0f packets/s; received by subscribers %.1f Mbit/s\n", r.ForwardedMbitS, r.ForwardedPktS, r.ReceivedMbitS)
	fmt.Fprintf(w, "server: %.2f CPU-s (%.3f cores per Gbit/s received, %.4f cores per link), RSS %.1f MiB (%.2f MiB per link), %.0f goroutines\n",
		r.ServerCPUSeconds, r.ServerCoresPerGbS, r.ServerCPUPerLink, r.ServerRSSMiB, r.ServerRSSPerLink, r.ServerGoroutines)
	fmt.Fprintf(w, "load test's own CPU: %.2f CPU-s; kernel UDP drops (full socket buffers, whole machine): %d\n", r.LoadCPUSeconds, r.KernelUDPDrops)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

// stream counts what one receiver got on one track.
type stream struct {
	packets, bytes uint64
	first          bool
	highest        uint16
	expected       uint64
}

func (s *stream) saw(seq uint16) {
	if !s.first {
		s.first, s.highest, s.expected = true, seq, 1
		return
	}
	if d := seq - s.highest; d != 0 && d < 0x8000 {
		s.expected += uint64(d)
		s.highest = seq
	}
}

// run state shared by the links.
type loadRun struct {
	cfg                  LoadConfig
	joinVideo, joinKey   histogram
	latency              histogram
	withMedia, joined    atomic.Int64
	received, expected   atomic.Uint64 // packets in the measured window
	receivedBytes        atomic.Uint64 // RTP bytes (header and payload) in it
	mu                   sync.Mutex
	errs                 []string
	steadyFrom, steadyTo atomic.Int64 // unix nanos of the measured window
}

func (r *loadRun) fail(format string, args ...any) {
	r.mu.Lock()
	if len(r.errs) < 20 {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
	r.mu.Unlock()
}

// stamp writes the send time into the last 8 bytes of a payload; the
// SFU forwards payloads untouched, so the receiver can read it back.
func stamp(p []byte) { binary.BigEndian.PutUint64(p[len(p)-8:], uint64(time.Now().UnixNano())) }

func stamped(p []byte) (time.Time, bool) {
	if len(p) < 16 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(p[len(p)-8:]))), true
}

// vp8Frame packetises one synthetic VP8 frame of size bytes: a valid
// payload descriptor and frame header (keyframe or not), the rest filler.
// It reuses dst's packets (the caller stamps each with its send time).
func vp8Frame(dst [][]byte, size int, key bool, mtu int) [][]byte {
	out := dst[:0]
	for off := 0; off < size; {
		n := max(min(mtu, size-off+1), 24)
		var p []byte
		if i := len(out); i < cap(out) && cap(out[:i+1][i]) >= n {
			p = out[:i+1][i][:n]
			clear(p)
		} else {
			p = make([]byte, n, mtu)
		}
		if off == 0 {
			p[0] = 0x10 // S: start of a partition
			if key {
				p[1] = 0x10 // P=0 (keyframe), version 0, show_frame
				p[4], p[5], p[6] = 0x9d, 0x01, 0x2a
				p[7], p[8], p[9], p[10] = 0x80, 0x02, 0xe0, 0x01 // 640x480
			} else {
				p[1] = 0x11 // P=1 (interframe), show_frame
			}
		}
		out = append(out, p)
		off += len(p) - 1
	}
	return out
}

func isKeyframe(payload []byte) bool {
	return len(payload) > 2 && payload[0]&0x10 != 0 && payload[0]&0x80 == 0 && payload[1]&0x01 == 0
}

// Load runs the links: each robot publishes synthetic VP8 at the set
// bitrate and Opus; each pupil publishes Opus; both receive. Joins are
// ramped; after the last join the run holds for Duration and measures.
func Load(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	if cfg.VideoBitrate <= 0 {
		cfg.VideoBitrate = 1_500_000
	}
	if cfg.FPS <= 0 {
		cfg.FPS = 30
	}
	if cfg.RampPerSec <= 0 {
		cfg.RampPerSec = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ownServer := cfg.Join == nil
	if ownServer {
		cfg.Join = seatlinkJoin(cfg.Server, cfg.Logger)
	}
	r := &loadRun{cfg: cfg}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	ramp := time.Duration(float64(len(cfg.Links)) / cfg.RampPerSec * float64(time.Second))
	total := ramp + cfg.Duration + 3*time.Second
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if cfg.Progress == nil {
			return
		}
		every(ctx, 500*time.Millisecond, func() {
			cfg.Progress(LoadProgress{Joined: int(r.joined.Load()), WithMedia: int(r.withMedia.Load()),
				Links: len(cfg.Links), Elapsed: time.Since(start), Total: total})
		})
	}()
	for i, l := range cfg.Links {
		at := start.Add(time.Duration(float64(i) / cfg.RampPerSec * float64(time.Second)))
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(at)):
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.link(ctx, l)
		}()
	}
	// Steady state: every link has had its chance to join.
	select {
	case <-ctx.Done():
	case <-time.After(3 * time.Second):
	}
	var before, after map[string]float64
	var err error
	if ownServer && cfg.Metrics != "" {
		before, err = scrape(ctx, cfg.Metrics)
	}
	proc0, procErr := procStat(cfg.ServerPID)
	udp0 := udpRcvbufErrors()
	self0 := selfCPU()
	r.received.Store(0)
	r.expected.Store(0)
	r.receivedBytes.Store(0)
	r.steadyFrom.Store(time.Now().UnixNano())
	select {
	case <-ctx.Done():
	case <-time.After(cfg.Duration):
	}
	r.steadyTo.Store(time.Now().UnixNano())
	proc1, _ := procStat(cfg.ServerPID)
	udpDrops := udpRcvbufErrors() - udp0
	if ownServer && cfg.Metrics != "" && err == nil {
		after, err = scrape(context.Background(), cfg.Metrics)
	}
	secs := float64(r.steadyTo.Load()-r.steadyFrom.Load()) / 1e9
	rep := LoadReport{Links: len(cfg.Links), LinksWithMedia: int(r.withMedia.Load()), Seconds: secs,
		JoinToFirstVideo: r.joinVideo.percentiles(), JoinToKeyframe: r.joinKey.percentiles(), ForwardLatency: r.latency.percentiles(),
		LoadCPUSeconds: selfCPU() - self0, ReceivedMbitS: float64(r.receivedBytes.Load()) * 8 / 1e6 / secs,
		KernelUDPDrops: udpDrops}
	rep.LinksFailed = rep.Links - rep.LinksWithMedia
	if exp, got := r.expected.Load(), r.received.Load(); exp > 0 {
		rep.LossPct = 100 * float64(exp-min(got, exp)) / float64(exp)
	}
	if err != nil {
		r.fail("metrics: %v", err)
	} else if after != nil {
		d := func(k string) float64 { return after[k] - before[k] }
		rep.ServerCPUSeconds = d("process_cpu_seconds_total")
		rep.ForwardedMbitS = d("seatlink_sfu_forwarded_rtp_bytes_total") * 8 / 1e6 / secs
		rep.ForwardedPktS = d("seatlink_sfu_forwarded_rtp_packets_total") / secs
		rep.NACKs = d("seatlink_sfu_nacks_received_total")
		rep.ServerRSSMiB = after["process_resident_memory_bytes"] / (1 << 20)
		rep.ServerGoroutines = after["go_goroutines"]
	}
	if cfg.ServerPID != 0 {
		if procErr != nil {
			r.fail("server process: %v", procErr)
		} else {
			rep.ServerCPUSeconds, rep.ServerRSSMiB = proc1.cpu-proc0.cpu, proc1.rssMiB
		}
	}
	if rep.ForwardedMbitS == 0 {
		rep.ForwardedMbitS = rep.ReceivedMbitS // another server: what its subscribers got
	}
	cores := rep.ServerCPUSeconds / secs
	if rep.ReceivedMbitS > 0 {
		rep.ServerCoresPerGbS = cores / (rep.ReceivedMbitS / 1000)
	}
	if rep.Links > 0 {
		rep.ServerCPUPerLink = cores / float64(rep.Links)
		rep.ServerRSSPerLink = rep.ServerRSSMiB / float64(rep.Links)
	}
	cancel()
	wg.Wait()
	<-progressDone
	rep.Errors = r.errs
	return rep, nil
}

// link runs one robot and one pupil until ctx ends.
func (r *loadRun) link(ctx context.Context, l LinkCreds) {
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "robot")
	if err != nil {
		r.fail("track: %v", err)
		return
	}
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "microphone", "robot")
	var keyWanted atomic.Bool
	keyWanted.Store(true)
	dctx, dcancel := context.WithTimeout(ctx, 15*time.Second)
	leaveRobot, err := r.cfg.Join(dctx, l, RobotSide, []webrtc.TrackLocal{video, audio},
		r.receive(nil, nil, time.Time{}), func() { keyWanted.Store(true) })
	dcancel()
	if err != nil {
		r.fail("robot join: %v", err)
		return
	}
	defer leaveRobot()
	go r.publishVideo(ctx, video, &keyWanted)
	go r.publishAudio(ctx, audio)

	mic, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "pupil")
	var gotVideo, gotKey atomic.Bool
	joinedAt := time.Now()
	dctx, dcancel = context.WithTimeout(ctx, 15*time.Second)
	leavePupil, err := r.cfg.Join(dctx, l, PupilSide, []webrtc.TrackLocal{mic}, r.receive(&gotVideo, &gotKey, joinedAt), func() {})
	dcancel()
	if err != nil {
		r.fail("pupil join: %v", err)
		return
	}
	defer leavePupil()
	r.joined.Add(1)
	go r.publishAudio(ctx, mic)
	<-ctx.Done()
}

// seatlinkJoin joins Seatlink's own server with the device agent.
func seatlinkJoin(server string, log *slog.Logger) JoinFunc {
	return func(ctx context.Context, l LinkCreds, side Side, tracks []webrtc.TrackLocal,
		onTrack func(*webrtc.TrackRemote), onPLI func()) (func(), error) {
		cfg := agent.Config{Server: server, Token: l.PupilToken, Role: wire.RolePupil, Tracks: tracks,
			Publish: wire.Publish{Audio: true}, Client: "seatlink-loadtest/1", Logger: log,
			OnTrack: func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { onTrack(t) }}
		if side == RobotSide {
			cfg.Token, cfg.Role, cfg.Publish.Video = l.RobotToken, wire.RoleRobot, true
			cfg.OnSender = func(_ webrtc.TrackLocal, s *webrtc.RTPSender) {
				for {
					pkts, _, err := s.ReadRTCP()
					if err != nil {
						return
					}
					for _, p := range pkts {
						if _, ok := p.(*rtcp.PictureLossIndication); ok {
							onPLI()
						}
					}
				}
			}
		}
		a, err := agent.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return func() { a.Close() }, nil
	}
}

// receive reads a track, counting packets and sequence gaps, reading the
// send stamps, and (for a pupil) timing the first video packet and the
// first keyframe from the join.
func (r *loadRun) receive(gotVideo, gotKey *atomic.Bool, joinedAt time.Time) func(*webrtc.TrackRemote) {
	return func(tr *webrtc.TrackRemote) {
		var s stream
		var pkt rtp.Packet
		buf := make([]byte, 1500)
		video := tr.Kind() == webrtc.RTPCodecTypeVideo
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			now := time.Now()
			if video && gotVideo != nil {
				if gotVideo.CompareAndSwap(false, true) {
					r.joinVideo.add(now.Sub(joinedAt))
					r.withMedia.Add(1)
				}
				if !gotKey.Load() && isKeyframe(pkt.Payload) && gotKey.CompareAndSwap(false, true) {
					r.joinKey.add(now.Sub(joinedAt))
				}
			}
			from, to := r.steadyFrom.Load(), r.steadyTo.Load()
			if from == 0 || now.UnixNano() < from || (to != 0 && now.UnixNano() > to) {
				s.saw(pkt.SequenceNumber) // keep the sequence, count nothing
				s.expected = 1
				continue
			}
			if t, ok := stamped(pkt.Payload); ok {
				r.latency.add(now.Sub(t))
			}
			prev := s.expected
			s.saw(pkt.SequenceNumber)
			r.received.Add(1)
			r.receivedBytes.Add(uint64(n))
			r.expected.Add(s.expected - prev)
		}
	}
}

func (r *loadRun) publishVideo(ctx context.Context, t *webrtc.TrackLocalStaticRTP, keyWanted *atomic.Bool) {
	frameBytes := r.cfg.VideoBitrate / 8 / r.cfg.FPS
	tick := time.NewTicker(time.Second / time.Duration(r.cfg.FPS))
	defer tick.Stop()
	var pkts [][]byte
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96}}
	for frame := 0; ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		key := keyWanted.Swap(false) || frame%(2*r.cfg.FPS) == 0
		pkts = vp8Frame(pkts, frameBytes, key, 1100)
		for i, p := range pkts {
			stamp(p)
			pkt.SequenceNumber++
			pkt.Marker = i == len(pkts)-1
			pkt.Payload = p
			// WriteRTP marshals before it returns, so pkt and p are ours again.
			if err := t.WriteRTP(&pkt); err != nil && !errors.Is(err, context.Canceled) {
				return
			}
		}
		pkt.Timestamp += uint32(90000 / r.cfg.FPS)
	}
}

// publishAudio sends 20 ms Opus-sized packets (64 kbit/s), stamped.
func (r *loadRun) publishAudio(ctx context.Context, t *webrtc.TrackLocalStaticRTP) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111}, Payload: make([]byte, 160)}
	pkt.Payload[0] = 0xfc // an Opus TOC byte (CELT fullband, 20 ms)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pkt.SequenceNumber++
		pkt.Timestamp += 960
		stamp(pkt.Payload)
		if err := t.WriteRTP(&pkt); err != nil {
			return
		}
	}
}
