package media

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The publisher is asked for the weakest subscriber's line, less room for
// audio, within bounds; stale estimates and paused subscribers do not
// count; a line too weak for video holds video back (audio goes on) and
// lets it through again with a keyframe.
func TestAdaptTargetAndAudioFirst(t *testing.T) {
	u := testUpTrack(webrtc.RTPCodecTypeVideo)
	var plis atomic.Int64
	u.pli = func() error { plis.Add(1); return nil }
	u.minPLI = time.Millisecond
	now := time.Now().UnixNano()
	u.clock.Store(now)
	a, b := newDownTrack(u, "robot"), newDownTrack(u, "robot")
	wa, wb := &countingWriter{}, &countingWriter{}
	a.bound.Store(&binding{ssrc: 1, pt: 96, w: wa})
	b.bound.Store(&binding{ssrc: 2, pt: 96, w: wb})
	u.addSubscriber(a)
	u.addSubscriber(b)
	const maxVideo = 2_000_000

	if got := u.target(maxVideo); got != 0 {
		t.Fatalf("no estimates: target %d, want 0 (leave the encoder alone)", got)
	}
	a.noteREMB(3_000_000)
	b.noteREMB(700_000)
	if got := u.target(maxVideo); got != 700_000-audioReserve {
		t.Fatalf("target %d, want the weakest line less audio, %d", got, 700_000-audioReserve)
	}
	a.noteREMB(9_000_000)
	b.noteREMB(9_000_000)
	if got := u.target(maxVideo); got != maxVideo {
		t.Fatalf("target %d, want the maximum %d", got, maxVideo)
	}
	// A stale estimate is ignored.
	b.noteREMB(300_000)
	u.clock.Store(now + rembFresh + int64(time.Second))
	a.noteREMB(1_000_000)
	if got := u.target(maxVideo); got != 1_000_000-audioReserve {
		t.Fatalf("target %d with b's estimate stale, want a's", got)
	}

	// b's line falls under what video needs: video to b stops, audio is
	// not touched (only video tracks are gated), a still gets video.
	b.noteREMB(80_000)
	if got := u.target(maxVideo); got != 1_000_000-audioReserve {
		t.Fatalf("target %d: a paused subscriber's estimate must not pull the publisher down", got)
	}
	if !b.paused.Load() || a.paused.Load() {
		t.Fatalf("paused: a %v b %v, want only b", a.paused.Load(), b.paused.Load())
	}
	pkt := rawPacket(t, 1, 100)
	u.forward(pkt, new(rtp.Packet), new(rtp.Header))
	if wb.packets != 0 || wa.packets != 1 {
		t.Fatalf("written: a %d b %d, want video to a only", wa.packets, wb.packets)
	}
	// It recovers: video again, with a keyframe asked of the publisher.
	before := plis.Load()
	b.noteREMB(400_000)
	u.target(maxVideo)
	if b.paused.Load() {
		t.Fatal("b still paused at 400 kbit/s")
	}
	waitUntil(t, func() bool { return plis.Load() > before }, "a keyframe request on resuming")
	u.forward(rawPacket(t, 2, 100), new(rtp.Packet), new(rtp.Header))
	if wb.packets != 1 {
		t.Fatalf("b got %d packets after resuming", wb.packets)
	}
	// Bounded below: a line just above the pause still asks for the floor.
	a.noteREMB(150_000)
	b.noteREMB(150_000)
	if got := u.target(maxVideo); got != minVideo {
		t.Fatalf("target %d, want the floor %d", got, minVideo)
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
	u.forward(raw, new(rtp.Packet), new(rtp.Header))
	got := w.last
	if lvl := got.GetExtension(1); len(lvl) != 1 || lvl[0] != 0x85 {
		t.Fatalf("level under the subscriber's id 1: %x", lvl)
	}
	if got.GetExtension(3) != nil || got.GetExtension(5) != nil {
		t.Fatalf("publisher's extensions forwarded under its ids: %+v", got.Extensions)
	}
	// A subscriber that did not negotiate the level gets no extension.
	d.bound.Store(&binding{ssrc: 7, pt: 111, w: w})
	u.forward(raw, new(rtp.Packet), new(rtp.Header))
	if w.last.Extension || len(w.last.Extensions) != 0 {
		t.Fatalf("extensions %+v, want none", w.last.Extensions)
	}
}
