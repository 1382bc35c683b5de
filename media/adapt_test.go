package media

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The publisher is asked for the weakest subscriber's line, less room for
// audio, within bounds; a stale estimate does not count.
func TestAdaptTarget(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	u.pli = func() error { return nil }
	a, b := newDownTrack(u, "robot"), newDownTrack(u, "robot")
	a.bound.Store(&binding{ssrc: 1, pt: 96, w: &countingWriter{}})
	b.bound.Store(&binding{ssrc: 2, pt: 96, w: &countingWriter{}})
	u.addSubscriber(a)
	u.addSubscriber(b)
	const maxVideo = 2_000_000
	now := time.Unix(1_700_000_000, 0)

	if got := u.step(now, maxVideo); got != 0 {
		t.Fatalf("no estimates: target %d, want 0 (leave the encoder alone)", got)
	}
	a.line.onREMB(3_000_000, now)
	b.line.onREMB(700_000, now)
	if got := u.step(now, maxVideo); got != 700_000-audioReserve {
		t.Fatalf("target %d, want the weakest line less audio, %d", got, 700_000-audioReserve)
	}
	a.line.onREMB(9_000_000, now)
	b.line.onREMB(9_000_000, now)
	if got := u.step(now, maxVideo); got != maxVideo {
		t.Fatalf("target %d, want the maximum %d", got, maxVideo)
	}
	b.line.onREMB(300_000, now)
	now = now.Add(rembFreshFor + time.Second)
	a.line.onREMB(1_000_000, now)
	if got := u.step(now, maxVideo); got != 1_000_000-audioReserve {
		t.Fatalf("target %d with b's estimate stale, want a's", got)
	}
	a.line.onREMB(150_000, now)
	if got := u.step(now, maxVideo); got != minVideo {
		t.Fatalf("target %d, want the floor %d", got, minVideo)
	}
}

// vp8 is one VP8 RTP packet: a keyframe's first packet, a delta frame's
// first packet, or a continuation; marker ends the frame.
func vp8(tb testing.TB, seq uint16, kind string, marker bool) []byte {
	payload := map[string][]byte{"key": {0x10, 0x00, 0, 0}, "delta": {0x10, 0x01, 0, 0}, "cont": {0x00, 0, 0, 0}}[kind]
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: 9, Marker: marker},
		Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Audio comes first: a line too weak for video stops the video at the
// end of a frame while audio goes on, the pupil is told, the publisher is
// asked for the floor; when the line recovers, video comes back at a
// keyframe (asked for) with no gap in its sequence numbers, and NACKs are
// mapped to the publisher's numbers.
func TestAudioFirst(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	u.codec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}}
	var plis atomic.Int64
	u.pli = func() error { plis.Add(1); return nil }
	u.minPLI = time.Millisecond
	d := newDownTrack(u, "robot")
	w := &countingWriter{}
	d.bound.Store(&binding{ssrc: 5, pt: 96, w: w})
	u.addSubscriber(d)
	aud := testUpTrack(webrtc.RTPCodecTypeAudio)
	ad := newDownTrack(aud, "robot")
	aw := &countingWriter{}
	ad.bound.Store(&binding{ssrc: 6, pt: 111, w: aw})
	aud.addSubscriber(ad)

	const maxVideo = 2_000_000
	var pkt rtp.Packet
	var scratch sendScratch
	fwd := func(seq uint16, kind string, marker bool) { u.forward(vp8(t, seq, kind, marker), &pkt, &scratch) }
	now := time.Unix(1_700_000_000, 0)
	fwd(10, "key", true)
	d.line.onREMB(140_000, now) // leaves video 76 kbit/s
	if got := u.step(now, maxVideo); got != minVideo || d.video.Load() != videoFlowing {
		t.Fatalf("a moment's low estimate: target %d, state %d; want the floor, video flowing", got, d.video.Load())
	}
	now = now.Add(pauseAfter)
	d.line.onREMB(140_000, now)
	if got := u.step(now, maxVideo); got != minVideo {
		t.Fatalf("held back: target %d, want the floor %d", got, minVideo)
	}
	if d.video.Load() != videoPausing || testutil.ToFloat64(u.metrics.VideoPauses) != 1 {
		t.Fatalf("state %d, pauses %v; want pausing, 1", d.video.Load(), testutil.ToFloat64(u.metrics.VideoPauses))
	}
	fwd(11, "delta", false) // the frame under way is finished
	fwd(12, "cont", true)
	fwd(13, "delta", true) // then nothing
	fwd(14, "key", true)
	if w.packets != 3 || w.last.SequenceNumber != 12 || d.video.Load() != videoPaused {
		t.Fatalf("video written %d, last seq %d, state %d; want 3 up to the frame's end, paused",
			w.packets, w.last.SequenceNumber, d.video.Load())
	}
	aud.forward(rawPacket(t, 1, 100), &pkt, &scratch)
	if aw.packets != 1 {
		t.Fatal("audio stopped with the video")
	}
	h := newRTCPHandler(d, u.metrics)
	h.handle([]rtcp.Packet{&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 11}}}})
	if w.packets != 3 {
		t.Fatal("a NACK was answered while video is held back")
	}

	// The line recovers: a keyframe is asked for, delta frames wait.
	before := plis.Load()
	now = now.Add(time.Second)
	d.line.onREMB(400_000, now)
	if got := u.step(now, maxVideo); got != 400_000-audioReserve || d.video.Load() != videoAwaitKey {
		t.Fatalf("recovered: target %d, state %d; want %d, awaiting a keyframe", got, d.video.Load(), 400_000-audioReserve)
	}
	waitUntil(t, func() bool { return plis.Load() > before }, "a keyframe request on resuming")
	fwd(15, "delta", true)
	fwd(16, "key", false)
	fwd(17, "cont", true)
	if w.packets != 5 || w.last.SequenceNumber != 14 || d.video.Load() != videoFlowing {
		t.Fatalf("after resuming: %d written, last seq %d, state %d; want the keyframe as 13 and 14, flowing",
			w.packets, w.last.SequenceNumber, d.video.Load())
	}
	// NACKs: 13 (after the resume) is the publisher's 16; 11 (before
	// the pause) is not resent.
	h.handle([]rtcp.Packet{&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 13}, {PacketID: 11}}}})
	if w.packets != 6 || w.last.SequenceNumber != 13 {
		t.Fatalf("NACK of 13 and 11: %d written, last seq %d; want one more, as 13", w.packets, w.last.SequenceNumber)
	}

	// Within the grace after a resume a low estimate does not stop video.
	now = now.Add(time.Second)
	d.line.onREMB(100_000, now)
	u.step(now, maxVideo)
	now = now.Add(time.Second)
	d.line.onREMB(100_000, now)
	u.step(now, maxVideo)
	if d.video.Load() != videoFlowing {
		t.Fatalf("state %d within the grace after a resume, want flowing", d.video.Load())
	}
}

// A subscriber that says nothing once held back is tried again after
// retryFirst, and a line that fails again soon waits twice as long.
func TestAudioFirstRetriesWithBackoff(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	u.pli = func() error { return nil }
	d := newDownTrack(u, "robot")
	d.bound.Store(&binding{ssrc: 5, pt: 96, w: &countingWriter{}})
	u.addSubscriber(d)
	now := time.Unix(1_700_000_000, 0)
	weak := func() {
		for range 2 {
			d.line.onREMB(100_000, now)
			u.step(now, DefaultMaxVideoBitrate)
			now = now.Add(pauseAfter)
		}
	}
	weak()
	if st := d.video.Load(); st != videoPaused && st != videoPausing {
		t.Fatalf("state %d, want held back", st)
	}
	// Nothing fresh: still held until the retry.
	now = now.Add(retryFirst - 2*time.Second)
	u.step(now, DefaultMaxVideoBitrate)
	if st := d.video.Load(); st == videoFlowing || st == videoAwaitKey {
		t.Fatal("resumed before the retry time")
	}
	now = now.Add(2 * time.Second)
	u.step(now, DefaultMaxVideoBitrate)
	if d.line.estimate(now) != 0 {
		t.Fatal("a try kept the estimate made on audio alone")
	}
	if st := d.video.Load(); st != videoFlowing && st != videoAwaitKey {
		t.Fatalf("state %d after the retry time, want resumed", st)
	}
	now = now.Add(resumeGrace)
	weak()
	if d.adapt.retryDelay != 2*retryFirst {
		t.Fatalf("retry in %s after failing again at once, want %s", d.adapt.retryDelay, 2*retryFirst)
	}
}

// The publisher hears of a change over 5 % at once, of a constraint again
// every second, of the maximum once, and is let go when nobody speaks.
func TestRelayREMB(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	var sent []int64
	send := func(bps int64) error { sent = append(sent, bps); return nil }
	var r rembRelay
	now := time.Unix(1_700_000_000, 0)
	const maxVideo = 2_000_000
	for _, step := range []struct {
		after  time.Duration
		target int64
	}{
		{0, 0},                            // nothing known: nothing sent
		{500 * time.Millisecond, 600_000}, // sent
		{500 * time.Millisecond, 610_000}, // under 5 %, under a second: not
		{500 * time.Millisecond, 610_000}, // a second since: again
		{500 * time.Millisecond, 400_000}, // a fall: at once
		{500 * time.Millisecond, maxVideo},
		{2 * time.Second, maxVideo}, // the maximum is not repeated
		{500 * time.Millisecond, 300_000},
		{500 * time.Millisecond, 0}, // nobody says anything: let go
		{500 * time.Millisecond, 0},
	} {
		now = now.Add(step.after)
		u.relay(&r, step.target, now, maxVideo, send)
	}
	want := []int64{600_000, 610_000, 400_000, maxVideo, 300_000, maxVideo}
	if len(sent) != len(want) {
		t.Fatalf("sent %v, want %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("sent %v, want %v", sent, want)
		}
	}
	if got := testutil.ToFloat64(u.metrics.REMBsSent); got != float64(len(want)) {
		t.Errorf("REMBs counted %v, want %d", got, len(want))
	}
}

func TestKeyframeStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		mime string
		p    []byte
		want bool
	}{
		{"vp8 keyframe", webrtc.MimeTypeVP8, []byte{0x10, 0x00}, true},
		{"vp8 delta", webrtc.MimeTypeVP8, []byte{0x10, 0x01}, false},
		{"vp8 continuation", webrtc.MimeTypeVP8, []byte{0x00, 0x00}, false},
		{"vp8 second partition", webrtc.MimeTypeVP8, []byte{0x11, 0x00}, false},
		{"vp8 keyframe, 15-bit picture id", webrtc.MimeTypeVP8, []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 delta, 7-bit picture id, TL0PICIDX, TID", webrtc.MimeTypeVP8, []byte{0x90, 0xe0, 0x05, 0x01, 0x20, 0x01}, false},
		{"vp8 keyframe, 7-bit picture id, TL0PICIDX, TID", webrtc.MimeTypeVP8, []byte{0x90, 0xe0, 0x05, 0x01, 0x20, 0x00}, true},
		{"vp8 cut short", webrtc.MimeTypeVP8, []byte{0x90, 0x80}, false},
		{"vp8 empty", webrtc.MimeTypeVP8, nil, false},
		{"h264 sps", webrtc.MimeTypeH264, []byte{0x67, 0x42}, true},
		{"h264 idr", webrtc.MimeTypeH264, []byte{0x65, 0x88}, true},
		{"h264 non-idr", webrtc.MimeTypeH264, []byte{0x41, 0x9a}, false},
		{"h264 stap-a sps+pps", webrtc.MimeTypeH264, []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, true},
		{"h264 stap-a of others", webrtc.MimeTypeH264, []byte{0x78, 0, 2, 0x06, 0x05, 0, 2, 0x09, 0x10}, false},
		{"h264 stap-a cut short", webrtc.MimeTypeH264, []byte{0x78, 0, 9}, false},
		{"h264 fu-a idr start", webrtc.MimeTypeH264, []byte{0x7c, 0x85}, true},
		{"h264 fu-a idr middle", webrtc.MimeTypeH264, []byte{0x7c, 0x05}, false},
		{"h264 fu-a non-idr start", webrtc.MimeTypeH264, []byte{0x7c, 0x81}, false},
		{"another codec", "video/AV1", []byte{0}, true},
	} {
		if got := keyframeStart(tc.mime, tc.p); got != tc.want {
			t.Errorf("%s: keyframeStart = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A publisher's header extensions are not forwarded under its own ids
// (its transport-wide sequence numbers would make a pupil's browser send
// TWCC instead of REMB); the audio level is, under the subscriber's id.
func TestForwardRewritesExtensions(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio)
	u.levelID, u.voice = 3, new(atomic.Int64)
	d := newDownTrack(u, "pupil")
	w := &countingWriter{}
	d.bound.Store(&binding{ssrc: 7, pt: 111, w: w, levelID: 1})
	u.addSubscriber(d)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1, SSRC: 9}, Payload: []byte{1, 2, 3}}
	if err := p.Header.SetExtension(3, []byte{0x85}); err != nil {
		t.Fatal(err)
	}
	if err := p.Header.SetExtension(5, []byte{0, 42}); err != nil {
		t.Fatal(err)
	}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	u.forward(raw, new(rtp.Packet), new(sendScratch))
	got := w.last
	if lvl := got.GetExtension(1); len(lvl) != 1 || lvl[0] != 0x85 {
		t.Fatalf("level under the subscriber's id 1: %x", lvl)
	}
	if got.GetExtension(3) != nil || got.GetExtension(5) != nil {
		t.Fatalf("publisher's extensions forwarded under its ids: %+v", got.Extensions)
	}
	// A subscriber that did not negotiate the level gets no extension.
	d.bound.Store(&binding{ssrc: 7, pt: 111, w: w})
	u.forward(raw, new(rtp.Packet), new(sendScratch))
	if w.last.Extension || len(w.last.Extensions) != 0 {
		t.Fatalf("extensions %+v, want none", w.last.Extensions)
	}
}

// abs-send-time: seconds in 6.18 fixed point, wrapping every 64 s, on
// every video packet to a subscriber that negotiated it.
func TestAbsSendTime(t *testing.T) {
	base := time.Unix(0, 0)
	for _, tc := range []struct {
		at   time.Duration
		want [3]byte
	}{
		{1500 * time.Millisecond, [3]byte{0x06, 0x00, 0x00}},               // 1.5 * 2^18 = 0x060000
		{64*time.Second + 250*time.Millisecond, [3]byte{0x01, 0x00, 0x00}}, // wraps: 0.25 * 2^18
	} {
		if got := absSendTime(base.Add(tc.at)); got != tc.want {
			t.Errorf("absSendTime(%s) = %x, want %x", tc.at, got, tc.want)
		}
	}
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	d := newDownTrack(u, "robot")
	w := &countingWriter{}
	d.bound.Store(&binding{ssrc: 1, pt: 96, w: w, absID: 2})
	u.addSubscriber(d)
	u.forward(rawPacket(t, 1, 100), new(rtp.Packet), new(sendScratch))
	if ext := w.last.GetExtension(2); len(ext) != 3 {
		t.Fatalf("video to the subscriber carries abs-send-time %x, want 3 bytes", ext)
	}
}
