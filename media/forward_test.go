package media

import (
	"fmt"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
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
	u := &upTrack{kind: kind, metrics: NewMetrics(nil)}
	if kind == webrtc.RTPCodecTypeVideo {
		u.cache = newPacketCache(512)
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
	var scratch rtp.Header
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
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			u := testUpTrack(webrtc.RTPCodecTypeVideo)
			for i := 0; i < n; i++ {
				d := newDownTrack(u, "robot")
				d.bound.Store(&binding{ssrc: uint32(i), pt: 96, w: &countingWriter{}})
				u.addSubscriber(d)
			}
			raw := rawPacket(b, 0, 1100)
			var pkt rtp.Packet
			var scratch rtp.Header
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for i := 0; b.Loop(); i++ {
				raw[2], raw[3] = byte(i>>8), byte(i)
				u.forward(raw, &pkt, &scratch)
			}
		})
	}
}
