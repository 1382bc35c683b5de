package media

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// countingWriter stands in for a subscriber's SRTP stream.
type countingWriter struct {
	packets int
	last    rtp.Header
}

func (w *countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.packets++
	w.last = *h
	return len(payload), nil
}

func (w *countingWriter) Write(b []byte) (int, error) { return len(b), nil }

func testUpTrack(kind webrtc.RTPCodecType) *upTrack {
	u := &upTrack{kind: kind, metrics: NewMetrics(nil), clock: new(atomic.Int64)}
	if kind == webrtc.RTPCodecTypeVideo {
		u.cache, u.sent = newPacketCache(512), &sendLog{}
	}
	return u
}

func rawPacket(tb testing.TB, seq uint16, size int) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: 9000,
		SSRC: 0x1234, Marker: true}, Payload: make([]byte, size)}
	b, err := p.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestForwardRewritesPerSubscriberAndCaches(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	w1, w2 := &countingWriter{}, &countingWriter{}
	d1, d2 := newDownTrack(u, "robot"), newDownTrack(u, "robot")
	d1.bound.Store(&binding{ssrc: 111, pt: 100, w: w1})
	d2.bound.Store(&binding{ssrc: 222, pt: 101, w: w2})
	u.addSubscriber(d1)
	u.addSubscriber(d2)
	unbound := newDownTrack(u, "robot") // not yet negotiated: skipped
	u.addSubscriber(unbound)

	var pkt rtp.Packet
	var scratch sendScratch
	raw := rawPacket(t, 42, 1000)
	u.forward(raw, &pkt, &scratch)
	u.forward([]byte{0x80}, &pkt, &scratch) // too short to be RTP: dropped

	for _, tc := range []struct {
		w    *countingWriter
		ssrc uint32
		pt   uint8
	}{{w1, 111, 100}, {w2, 222, 101}} {
		if tc.w.packets != 1 || tc.w.last.SSRC != tc.ssrc || tc.w.last.PayloadType != tc.pt ||
			tc.w.last.SequenceNumber != 42 {
			t.Errorf("subscriber got %d packets, last %+v; want 1 with ssrc %d pt %d seq 42",
				tc.w.packets, tc.w.last, tc.ssrc, tc.pt)
		}
	}
	buf := make([]byte, maxPacketSize)
	if n := u.cache.get(42, buf); n != len(raw) {
		t.Errorf("cache holds %d bytes for seq 42, want %d", n, len(raw))
	}
	// The shared packet keeps the publisher's SSRC: rewriting is per copy.
	if pkt.SSRC != 0x1234 {
		t.Errorf("publisher packet was modified: ssrc %x", pkt.SSRC)
	}
	u.removeSubscriber(d1)
	u.forward(rawPacket(t, 43, 1000), &pkt, &scratch)
	if w1.packets != 1 || w2.packets != 2 {
		t.Errorf("after removal: w1 %d w2 %d packets, want 1 and 2", w1.packets, w2.packets)
	}
}

// BenchmarkForward measures the hot path: one received video packet
// parsed, cached, rewritten and written to N subscribers.
// BenchmarkForward forwards one video packet to n subscribers; abs=1
// stamps abs-send-time, as for pupils.
func BenchmarkForward(b *testing.B) {
	// twcc: what a pupil's browser takes now, a transport-wide number and
	// the send record for its feedback (sendside.go); abs: abs-send-time,
	// for a client that takes only REMB.
	for _, tc := range []struct{ n, abs, twcc int }{{1, 0, 0}, {1, 1, 0}, {1, 0, 1}, {4, 0, 0}, {16, 0, 0}, {16, 1, 0}, {16, 0, 1}} {
		n := tc.n
		b.Run(fmt.Sprintf("subscribers=%d/abs=%d/twcc=%d", n, tc.abs, tc.twcc), func(b *testing.B) {
			u := testUpTrack(webrtc.RTPCodecTypeVideo)
			for i := 0; i < n; i++ {
				d := newDownTrack(u, "robot")
				d.bound.Store(&binding{ssrc: uint32(i), pt: 96, w: &countingWriter{}, absID: uint8(2 * tc.abs), twccID: uint8(3 * tc.twcc)})
				u.addSubscriber(d)
			}
			raw := rawPacket(b, 0, 1100)
			var pkt rtp.Packet
			var scratch sendScratch
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for i := 0; b.Loop(); i++ {
				raw[2], raw[3] = byte(i>>8), byte(i)
				u.forward(raw, &pkt, &scratch)
			}
		})
	}
}

func TestKeyframeRequestsAreRateLimited(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	u.minPLI = 200 * time.Millisecond
	var sent atomic.Int32
	u.pli = func() error { sent.Add(1); return nil }

	u.requestKeyframe() // sent at once
	if got := sent.Load(); got != 1 {
		t.Fatalf("first request: %d PLIs sent, want 1 at once", got)
	}
	for i := 0; i < 5; i++ { // a burst inside the window: one deferred PLI
		u.requestKeyframe()
	}
	if got := sent.Load(); got != 1 {
		t.Fatalf("burst: %d PLIs sent at once, want still 1", got)
	}
	time.Sleep(400 * time.Millisecond)
	if got := sent.Load(); got != 2 {
		t.Fatalf("after the window: %d PLIs, want 2 (the burst's, deferred)", got)
	}
	u.close()
	u.requestKeyframe()
	if got := sent.Load(); got != 2 {
		t.Fatalf("after close: %d PLIs, want 2", got)
	}

	audio := testUpTrack(webrtc.RTPCodecTypeAudio)
	audio.pli = func() error { t.Error("PLI sent for an audio track"); return nil }
	audio.requestKeyframe()
}

func TestSubscriberNACKsAreAnsweredFromCache(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	u.minPLI = time.Hour
	var plis atomic.Int32
	u.pli = func() error { plis.Add(1); return nil }
	w := &countingWriter{}
	d := newDownTrack(u, "robot")
	d.bound.Store(&binding{ssrc: 7, pt: 96, w: w})
	for seq := uint16(100); seq < 110; seq++ {
		u.cache.store(seq, rawPacket(t, seq, 500))
	}
	h := newRTCPHandler(d, u.metrics)
	// NACK 101, 103 (bitmask) and 2000 (never cached); then a PLI.
	h.handle([]rtcp.Packet{
		&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 101, LostPackets: 0b10}, {PacketID: 2000}}},
		&rtcp.PictureLossIndication{},
	})
	if w.packets != 2 || w.last.SequenceNumber != 103 || w.last.SSRC != 7 {
		t.Fatalf("retransmitted %d packets, last %+v; want 101 and 103 with ssrc 7", w.packets, w.last)
	}
	if got := testutil.ToFloat64(u.metrics.NACKsReceived); got != 3 {
		t.Errorf("NACKs counted %v, want 3", got)
	}
	if got := testutil.ToFloat64(u.metrics.NACKRetransmits); got != 2 {
		t.Errorf("retransmits counted %v, want 2", got)
	}
	if plis.Load() != 1 {
		t.Errorf("PLI from subscriber gave %d keyframe requests, want 1", plis.Load())
	}
}

// A subscriber NACKing the same packet over and over (it cannot keep up)
// gets it at most resendMax times, no closer together than resendGap.
func TestNACKResendsAreLimited(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	w := &countingWriter{}
	d := newDownTrack(u, "robot")
	d.bound.Store(&binding{ssrc: 7, pt: 96, w: w})
	u.cache.store(500, rawPacket(t, 500, 500))
	u.cache.store(501, rawPacket(t, 501, 500))
	h := newRTCPHandler(d, u.metrics)
	var clock int64
	h.now = func() int64 { return clock }
	nack := func(seq uint16) {
		h.handle([]rtcp.Packet{&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: seq}}}})
	}
	for _, step := range []struct {
		at   time.Duration
		seq  uint16
		want int // packets written so far
	}{
		{0, 500, 1},                     // first NACK: resent
		{10 * time.Millisecond, 500, 1}, // again too soon: not
		{10 * time.Millisecond, 501, 2}, // another packet: its own budget
		{50 * time.Millisecond, 500, 3}, // after the gap: the second try
		{100 * time.Millisecond, 500, 4},
		{200 * time.Millisecond, 500, 4}, // a fourth try: never
		{time.Second, 500, 4},
	} {
		clock = int64(step.at)
		nack(step.seq)
		if w.packets != step.want {
			t.Fatalf("at %s NACK %d: %d packets written, want %d", step.at, step.seq, w.packets, step.want)
		}
	}
	if got := testutil.ToFloat64(u.metrics.NACKsIgnored); got != 3 {
		t.Errorf("ignored %v NACKs, want 3", got)
	}
	// The slot is reused when the sequence number wraps round to it.
	u.cache.store(500+resendSlots, rawPacket(t, 500+resendSlots, 500))
	nack(500 + resendSlots)
	if w.packets != 5 {
		t.Errorf("a new packet in a reused slot: %d written, want 5", w.packets)
	}
}

// BenchmarkForwardAudioLevel is a pupil's audio to the robot: the
// publisher's extensions dropped and its audio level kept under the
// subscriber's id, with no allocation.
func BenchmarkForwardAudioLevel(b *testing.B) {
	u := testUpTrack(webrtc.RTPCodecTypeAudio)
	u.levelID, u.voice = 3, new(atomic.Int64)
	d := newDownTrack(u, "pupil")
	d.bound.Store(&binding{ssrc: 7, pt: 111, w: &countingWriter{}, levelID: 1})
	u.addSubscriber(d)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 9}, Payload: make([]byte, 120)}
	_ = p.Header.SetExtension(3, []byte{0x85})
	_ = p.Header.SetExtension(5, []byte{0, 42})
	raw, err := p.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	var pkt rtp.Packet
	var scratch sendScratch
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		raw[2], raw[3] = byte(i>>8), byte(i)
		u.forward(raw, &pkt, &scratch)
	}
}
