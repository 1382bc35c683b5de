package media

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// upTrack is one incoming track. A single goroutine (run) reads it, keeps a
// copy of each video packet in the cache and writes the packet to every
// subscriber. The subscriber list is copy-on-write: add and remove rebuild a
// slice under subsMu, and the reader loads a snapshot and writes with no
// lock held.
type upTrack struct {
	owner   *Participant
	remote  *webrtc.TrackRemote
	recv    *webrtc.RTPReceiver
	kind    webrtc.RTPCodecType
	codec   webrtc.RTPCodecParameters
	cache   *packetCache
	metrics *Metrics
	// sent is when each video packet left, for subscribers' feedback
	// (sendside.go).
	sent *sendLog

	subsMu sync.Mutex
	subs   atomic.Pointer[[]*downTrack]

	minPLI time.Duration
	// maxVideo bounds the bitrate the publisher is asked for.
	maxVideo int64
	pli      func() error // sends one PLI to the publisher
	// levelID is the negotiated RFC 6464 extension id on a pupil's audio
	// (0: none); voiced packets stamp voice.
	levelID uint8
	voice   *atomic.Int64
	// clock is the SFU's coarse clock (unix ns, updated every 250 ms): the
	// packet path stamps activity with it instead of calling time.Now.
	clock   *atomic.Int64
	kfMu    sync.Mutex
	lastPLI time.Time
	kfTimer *time.Timer
	closed  bool
}

func newUpTrack(p *Participant, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) *upTrack {
	s := p.room.sfu
	u := &upTrack{
		owner: p, remote: remote, recv: recv, kind: remote.Kind(), codec: remote.Codec(),
		metrics: s.metrics, minPLI: s.cfg.KeyframeInterval, clock: &s.clock, maxVideo: s.cfg.MaxVideoBitrate,
	}
	if u.kind == webrtc.RTPCodecTypeVideo {
		u.cache = newPacketCache(s.cfg.PacketCacheSize)
		u.sent = &sendLog{}
	}
	if u.kind == webrtc.RTPCodecTypeAudio && p.role == RolePupil {
		for _, e := range recv.GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI {
				u.levelID = uint8(e.ID)
			}
		}
		u.voice = &p.act.lastVoiced
	}
	u.pli = func() error {
		return p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}})
	}
	return u
}

// run forwards packets until the track ends.
func (u *upTrack) run() {
	go drainRTCP(u.recv)
	if u.kind == webrtc.RTPCodecTypeVideo {
		done := make(chan struct{})
		defer close(done)
		go u.adapt(done, u.maxVideo)
	}
	buf := make([]byte, maxPacketSize)
	var pkt rtp.Packet
	var scratch sendScratch
	for {
		n, _, err := u.remote.Read(buf)
		if err != nil {
			if errors.Is(err, io.ErrShortBuffer) {
				u.metrics.DroppedRTPPackets.Inc()
				continue
			}
			return // io.EOF or a closed pipe: the track or peer ended
		}
		u.forward(buf[:n], &pkt, &scratch)
	}
}

// forward handles one received packet: parse the header into the reused
// pkt, keep a copy for NACKs, write to each subscriber. scratch is the
// caller's reusable header for the per-subscriber rewrite, so that
// forwarding allocates nothing.
func (u *upTrack) forward(raw []byte, pkt *rtp.Packet, scratch *sendScratch) {
	if err := pkt.Unmarshal(raw); err != nil {
		u.metrics.DroppedRTPPackets.Inc()
		return
	}
	if u.cache != nil {
		u.cache.store(pkt.SequenceNumber, raw)
	}
	if u.levelID != 0 {
		if ext := pkt.Header.GetExtension(u.levelID); len(ext) > 0 && ext[0]&0x7f <= voiceLevel {
			u.voice.Store(u.clock.Load())
		}
	}
	if subs := u.subs.Load(); subs != nil {
		scratch.timed = false // a new packet: a new send time
		if u.sent != nil {
			scratch.idx = u.sent.next
		}
		for _, d := range *subs {
			d.writeRTP(&pkt.Header, scratch, pkt.Payload, len(raw))
		}
		if scratch.timed && u.sent != nil { // some subscriber numbered it
			u.sent.add(len(pkt.Payload)+12+4, scratch.us) // as sent: the header and the number
		}
	}
}

// drainRTCP reads a receiver's incoming RTCP (sender reports) so that the
// interceptors see it.
func drainRTCP(r *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf); err != nil {
			return
		}
	}
}

func (u *upTrack) addSubscriber(d *downTrack) {
	u.subsMu.Lock()
	defer u.subsMu.Unlock()
	var next []*downTrack
	if cur := u.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, d)
	u.subs.Store(&next)
}

func (u *upTrack) removeSubscriber(d *downTrack) {
	u.subsMu.Lock()
	defer u.subsMu.Unlock()
	cur := u.subs.Load()
	if cur == nil {
		return
	}
	next := make([]*downTrack, 0, len(*cur))
	for _, x := range *cur {
		if x != d {
			next = append(next, x)
		}
	}
	u.subs.Store(&next)
}

// requestKeyframe asks the publisher for a keyframe, at most once per
// minPLI; a request inside that window is sent when the window ends, so a
// new subscriber never waits for the publisher's own keyframe interval.
func (u *upTrack) requestKeyframe() {
	if u.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	u.kfMu.Lock()
	if u.closed {
		u.kfMu.Unlock()
		return
	}
	wait := u.minPLI - time.Since(u.lastPLI)
	if wait <= 0 {
		u.lastPLI = time.Now()
		u.kfMu.Unlock()
		u.sendPLI()
		return
	}
	if u.kfTimer == nil {
		u.kfTimer = time.AfterFunc(wait, func() {
			u.kfMu.Lock()
			u.kfTimer = nil
			if u.closed {
				u.kfMu.Unlock()
				return
			}
			u.lastPLI = time.Now()
			u.kfMu.Unlock()
			u.sendPLI()
		})
	}
	u.kfMu.Unlock()
}

func (u *upTrack) sendPLI() {
	if u.pli() == nil {
		u.metrics.PLIsSent.Inc()
	}
}

func (u *upTrack) close() {
	u.kfMu.Lock()
	u.closed = true
	if u.kfTimer != nil {
		u.kfTimer.Stop()
		u.kfTimer = nil
	}
	u.kfMu.Unlock()
}

// downTrack is one subscriber's copy of an upTrack: a webrtc.TrackLocal
// whose Bind records the SSRC, payload type and writer the subscriber's
// peer connection negotiated. Packets are rewritten (SSRC, payload type)
// in a header copy, never in the shared buffer.
type downTrack struct {
	up        *upTrack
	id        string
	streamID  string
	bound     atomic.Pointer[binding]
	lastWrite atomic.Int64 // unix nanoseconds of the last packet written
	// sent counts the bytes written (the adapt ticker turns it into a
	// rate).
	sent atomic.Int64

	// For video only (adapt.go): sub is the subscriber, line what its
	// feedback says of its line, tw its transport-wide numbering and the
	// estimate from its feedback (sendside.go), video whether video flows
	// to it (videoFlowing, videoPausing, videoPaused, videoAwaitKey), and
	// lastOut and by (the forwarding goroutine's own) the last sequence
	// number it was sent and what is taken from the publisher's: video
	// held back leaves no gap for it to NACK, and probe padding takes
	// numbers of its own. shifts records each change of by for NACKs.
	sub     *Participant
	line    *lineEstimate
	tw      *twccSend
	video   atomic.Int32
	lastOut uint16
	by      uint16
	sentAny bool
	shifts  *shiftLog
	adapt   adaptState
}

// shiftLog is the history of a subscriber's sequence number shifts, so
// that a NACK is mapped back to the publisher's packet that had the
// number; written by the forwarding goroutine, read by the RTCP reader.
type shiftLog struct {
	mu sync.Mutex
	n  int // changes ever made
	at [128]seqShift
}

// seqShift: from the subscriber's number from on, by is taken from the
// publisher's; the pad numbers before from are probe padding; floor says
// nothing before from is worth resending (video was held back).
type seqShift struct {
	from, by, pad uint16
	floor         bool
}

func (l *shiftLog) add(c seqShift) {
	l.mu.Lock()
	l.at[l.n%len(l.at)] = c
	l.n++
	l.mu.Unlock()
}

// publisherSeq maps a sequence number the subscriber NACKs back to the
// publisher's; false for probe padding, for a packet from before video
// was held back (old by now, and not worth a weak line's room), and for
// one older than the history.
func (l *shiftLog) publisherSeq(seq uint16) (uint16, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 0; i < min(l.n, len(l.at)); i++ {
		c := l.at[(l.n-1-i)%len(l.at)]
		if int16(seq-c.from) >= 0 {
			return seq + c.by, true
		}
		if int16(seq-(c.from-c.pad)) >= 0 || c.floor {
			return 0, false
		}
	}
	if l.n > len(l.at) {
		return 0, false
	}
	return seq, true
}

// sendScratch is a sending goroutine's own room for rewriting a packet's
// header for one subscriber (the forwarding loop has one, each
// subscriber's RTCP reader another for NACKs), so that rewriting
// allocates nothing: the header, its one extension, and the packet's
// send time (abs-send-time, or µs of the SFU clock for transport-wide
// feedback), read from the clock once per packet whatever the number of
// subscribers.
type sendScratch struct {
	hdr   rtp.Header
	ext   [1]rtp.Extension
	abs   [3]byte
	tcc   [2]byte
	us    int64
	timed bool
	idx   uint16 // the packet's index in its track's sendLog
}

// epoch is the SFU clock's zero: send times are µs since it.
var epoch = time.Now()

// clock reads the time once per packet.
func (s *sendScratch) clock() {
	if !s.timed {
		now := time.Now()
		s.us, s.abs, s.timed = int64(now.Sub(epoch)/time.Microsecond), absSendTime(now), true
	}
}

// padding is the payload of a probe's padding packet: RTP padding whose
// last byte says how long it is.
var padding = func() (p [padSize]byte) { p[padSize-1] = padSize; return }()

type binding struct {
	ssrc uint32
	pt   uint8
	w    webrtc.TrackLocalWriter
	// levelID is the subscriber's id for the RFC 6464 audio level (0:
	// not negotiated); absID its id for abs-send-time on video.
	levelID, absID uint8
	// twccID is its id for transport-wide sequence numbers on video (0:
	// not negotiated: it sends REMB, or nothing).
	twccID uint8
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

func newDownTrack(up *upTrack, streamID string) *downTrack {
	d := &downTrack{up: up, id: up.kind.String(), streamID: streamID, shifts: &shiftLog{}}
	if up.kind == webrtc.RTPCodecTypeVideo {
		d.line = &lineEstimate{}
		d.tw = &twccSend{}
	}
	return d
}

// Bind is called by Pion when the subscriber's transceiver starts sending.
// It picks the negotiated codec that matches the publisher's and asks the
// publisher for a keyframe (or leaves that to the subscriber's connecting),
// so the subscriber's first picture comes at once.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.up.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := &binding{ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType), w: ctx.WriteStream()}
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == sdp.AudioLevelURI {
			b.levelID = uint8(e.ID)
		}
		if e.URI == sdp.ABSSendTimeURI && d.up.kind == webrtc.RTPCodecTypeVideo {
			b.absID = uint8(e.ID)
		}
		if e.URI == sdp.TransportCCURI && d.tw != nil {
			b.twccID = uint8(e.ID)
		}
	}
	d.bound.Store(b)
	// A subscriber not connected yet (its first answer, a resumed
	// pupil) asks when it connects (Participant.watch): a keyframe now
	// would be lost before SRTP works, and the next one rate-limited.
	if d.sub == nil || d.sub.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		d.up.requestKeyframe()
	}
	return codec, nil
}

func matchCodec(want webrtc.RTPCodecParameters, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	for _, c := range have {
		if strings.EqualFold(c.MimeType, want.MimeType) && c.SDPFmtpLine == want.SDPFmtpLine {
			return c, true
		}
	}
	for _, c := range have {
		if strings.EqualFold(c.MimeType, want.MimeType) && c.ClockRate == want.ClockRate {
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// Unbind stops writing.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	return nil
}

func (d *downTrack) ID() string                { return d.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.streamID }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.up.kind }

// writeRTP forwards one packet to the subscriber, unless its video is
// held back (adapt.go): video stops at the end of a frame, and starts
// again at a keyframe, its sequence numbers moved on so that what was
// held back is no gap to NACK. Only the track's forwarding goroutine
// calls it.
func (d *downTrack) writeRTP(h *rtp.Header, scratch *sendScratch, payload []byte, size int) {
	b := d.bound.Load()
	if b == nil {
		return
	}
	seq := h.SequenceNumber
	if st := d.video.Load(); st != videoFlowing {
		switch {
		case st == videoPausing && h.Marker:
			d.video.CompareAndSwap(videoPausing, videoPaused) // the frame is whole: stop here
		case st == videoPausing:
		case st == videoAwaitKey && keyframeStart(d.up.codec.MimeType, payload):
			d.resume(seq)
		default:
			return
		}
	}
	seq -= d.by
	d.lastOut, d.sentAny = seq, true
	tseq := -1
	if b.twccID != 0 && d.up.sent != nil {
		scratch.clock()
		tseq = int(d.tw.media(scratch.idx))
	}
	d.write(b, h, scratch, payload, size, seq, tseq)
	if tseq >= 0 && h.Marker {
		d.pad(b, h, scratch)
	}
}

// pad sends the padding a probe wants now, after the last packet of a
// frame: padding-only packets under the next sequence numbers (the
// publisher's that follow are moved on by as many), which the subscriber
// counts in its feedback and drops.
func (d *downTrack) pad(b *binding, h *rtp.Header, s *sendScratch) {
	n := d.tw.padding(s.us) / padSize
	if n == 0 {
		return
	}
	from := d.lastOut + 1
	tfrom := d.tw.padded(n, s.us)
	ph := *h
	ph.Marker, ph.Padding, ph.Extension, ph.Extensions = false, true, false, nil
	for i := range n {
		d.write(b, &ph, s, padding[:], 0, from+uint16(i), int(tfrom+uint16(i)))
	}
	d.lastOut += uint16(n)
	d.by -= uint16(n)
	d.shifts.add(seqShift{from: d.lastOut + 1, by: d.by, pad: uint16(n)})
}

// write sends one packet to the subscriber under sequence number seq,
// rewriting SSRC and payload type in scratch (a copy of h owned by the
// calling goroutine), never in the shared packet. size is the packet's
// length as received.
//
// tseq, when not negative, is its transport-wide number. A padding
// packet has size 0: it is not counted as forwarded.
func (d *downTrack) write(b *binding, h *rtp.Header, s *sendScratch, payload []byte, size int, seq uint16, tseq int) {
	scratch := &s.hdr
	*scratch = *h
	scratch.SSRC = b.ssrc
	scratch.PayloadType = b.pt
	scratch.SequenceNumber = seq
	if h.Extension || b.absID != 0 || tseq >= 0 {
		// The publisher's extensions carry its own ids (and its
		// transport-wide sequence numbers, which would make a pupil's
		// browser send TWCC instead of REMB): none is forwarded as it
		// is; the audio level is, under the subscriber's id.
		var level []byte
		if d.up.levelID != 0 && b.levelID != 0 {
			level = h.GetExtension(d.up.levelID)
		}
		scratch.Extension, scratch.Extensions = false, s.ext[:0]
		switch {
		case len(level) > 0:
			_ = scratch.SetExtension(b.levelID, level)
		case tseq >= 0: // video: its number (when it left is in the sendLog)
			s.tcc = [2]byte{byte(tseq >> 8), byte(tseq)}
			_ = scratch.SetExtension(b.twccID, s.tcc[:])
		case b.absID != 0 && b.twccID == 0: // video: the time it leaves us
			s.clock()
			_ = scratch.SetExtension(b.absID, s.abs[:])
		}
	}
	if _, err := b.w.WriteRTP(scratch, payload); err != nil || size == 0 {
		return // the subscriber is going away (its RTCP loop ends too), or padding
	}
	d.up.metrics.ForwardedPackets.Inc()
	d.up.metrics.ForwardedBytes.Add(float64(size))
	d.sent.Add(int64(size))
	d.lastWrite.Store(d.up.clock.Load())
}

// readSubscriberRTCP reads what a subscriber says about one forwarded track
// until the sender stops. Reading also feeds the interceptors (receiver
// reports, TWCC feedback).
func readSubscriberRTCP(sender *webrtc.RTPSender, d *downTrack, m *Metrics) {
	buf := make([]byte, 1500)
	h := newRTCPHandler(d, m)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		h.handle(pkts)
	}
}

// rtcpHandler acts on a subscriber's RTCP: PLI/FIR become (rate-limited)
// keyframe requests to the publisher, NACKs are answered from the packet
// cache, and everything is counted.
type rtcpHandler struct {
	d       *downTrack
	m       *Metrics
	scratch []byte
	pkt     rtp.Packet
	send    sendScratch
	resent  [resendSlots]resend
	fb      []fbPacket   // the last feedback's packets, reused
	now     func() int64 // monotonic nanoseconds; a test sets it
}

// A subscriber that cannot keep up (a busy laptop, a full socket) NACKs
// what it dropped, every 100 ms until it arrives; answering each NACK
// adds load exactly where the subscriber is already losing packets, and
// a run of 100 links on 2 cores turned 0 % loss into 30 % that way. So
// each packet is resent to a subscriber at most resendMax times, no more
// often than once per resendGap (about a loopback or LAN round trip plus
// the subscriber's own NACK interval would allow a second try).
const (
	resendSlots = 1024 // covers the packet cache's default window twice
	resendMax   = 3
	resendGap   = int64(40 * time.Millisecond)
)

type resend struct {
	seq   uint16
	count uint8
	at    int64
}

// mayResend records a resend of seq and reports whether it is allowed.
func (h *rtcpHandler) mayResend(seq uint16) bool {
	now := h.now()
	r := &h.resent[seq%resendSlots]
	if r.count == 0 || r.seq != seq {
		*r = resend{seq: seq, count: 1, at: now}
		return true
	}
	if r.count >= resendMax || now-r.at < resendGap {
		return false
	}
	r.count++
	r.at = now
	return true
}

func newRTCPHandler(d *downTrack, m *Metrics) *rtcpHandler {
	start := time.Now()
	return &rtcpHandler{d: d, m: m, scratch: make([]byte, maxPacketSize),
		now: func() int64 { return int64(time.Since(start)) }}
}

func (h *rtcpHandler) handle(pkts []rtcp.Packet) {
	m := h.m
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.ReceiverReport:
			m.rtcpRR.Inc()
			h.d.onReport(p.Reports)
		case *rtcp.TransportLayerCC:
			m.rtcpTWCC.Inc()
			h.fb = h.d.onFeedback(p, h.fb)
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			m.rtcpREMB.Inc()
			if h.d.line != nil {
				h.d.line.onREMB(p.Bitrate, time.Now())
			}
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			m.rtcpPLI.Inc()
			h.d.up.requestKeyframe()
		case *rtcp.TransportLayerNack:
			m.rtcpNACK.Inc()
			for _, pair := range p.Nacks {
				pair.Range(func(seq uint16) bool {
					h.retransmit(seq)
					return true
				})
			}
		default:
			m.rtcpOther.Inc()
		}
	}
}

// retransmit answers a NACK of seq (the subscriber's numbering) from the
// packet cache.
func (h *rtcpHandler) retransmit(seq uint16) {
	h.m.NACKsReceived.Inc()
	d := h.d
	if d.up.cache == nil {
		return
	}
	b := d.bound.Load()
	if st := d.video.Load(); st == videoPaused || st == videoAwaitKey {
		return // held back: a weak line gets no old packets either
	}
	orig, ok := d.shifts.publisherSeq(seq)
	if b == nil || !ok {
		return
	}
	k := d.up.cache.get(orig, h.scratch)
	if k == 0 || h.pkt.Unmarshal(h.scratch[:k]) != nil {
		return
	}
	if !h.mayResend(seq) {
		h.m.NACKsIgnored.Inc()
		return
	}
	h.send.timed = false
	d.write(b, &h.pkt.Header, &h.send, h.pkt.Payload, k, seq, -1)
	h.m.NACKRetransmits.Inc()
}

// absSendTime is abs-send-time's 24-bit value: seconds in 6.18 fixed
// point, wrapping every 64 s.
func absSendTime(t time.Time) [3]byte {
	ns := t.UnixNano() % (64 * int64(time.Second))
	v := uint32((ns << 18) / int64(time.Second))
	return [3]byte{byte(v >> 16), byte(v >> 8), byte(v)}
}
