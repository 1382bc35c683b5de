package media

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// A simulated line for the send-side estimator: a tbf-like bottleneck of
// capBps with a queue of at most maxQueue (more is dropped), fed one
// frame of frameBytes every 33 ms (in 1200-byte packets, leaving
// together) plus the estimator's own probe padding; feedback every
// 100 ms reports each packet's arrival or loss.
type line struct {
	capBps   int64
	maxQueue time.Duration
	busyTill int64 // µs: when the queue empties
}

// carry returns a packet's arrival (µs) or false if it was dropped.
func (l *line) carry(sent int64, size int) (int64, bool) {
	start := max(sent, l.busyTill)
	if start-sent > us(l.maxQueue) {
		return 0, false
	}
	l.busyTill = start + int64(size)*8*1_000_000/l.capBps
	return l.busyTill + 20_000, true // 20 ms of path
}

// run drives s for d from t0 (µs): the publisher sends what follows from
// rate(est) (its rendition for the estimate), the estimator ticks every
// 500 ms and pads when it probes. It returns the time reached.
func run(s *sendSide, l *line, t0 int64, d time.Duration, rate func(est int64) int64) int64 {
	var fb []fbPacket
	pad := int64(0)
	for t := t0; t < t0+us(d); t += 33_333 {
		if (t-t0)%500_000 < 33_333 {
			pad = s.tick(t, rate(s.estimate()), 2_500_000)
		}
		frame := int(rate(s.estimate()) / 8 / 30)
		frame += int(pad / 8 / 30)
		for sent := 0; sent < frame; sent += 1200 {
			size := min(1200, frame-sent)
			at, ok := l.carry(t, size)
			fb = append(fb, fbPacket{sent: t, size: size, arrived: at, lost: !ok})
		}
		if (t-t0)%100_000 < 33_333 && len(fb) > 0 {
			if s.onFeedback(fb, t+20_000) {
				pad = 0
			}
			fb = fb[:0]
		}
	}
	return t0 + us(d)
}

// ladder is the simulated robot's renditions: the highest under the
// estimate (all of them with none).
func ladder(est int64) int64 {
	for _, r := range []int64{513_000, 450_000, 302_000, 198_000, 120_000} {
		if est == 0 || r <= est {
			return r
		}
	}
	return 120_000
}

func TestSendSideEstimate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		steps    []func(*sendSide, *line, int64) int64
		min, max int64 // the estimate at the end (none: math.MaxInt64)
	}{
		{"a line that carries all: no limit", []func(*sendSide, *line, int64) int64{
			func(s *sendSide, l *line, t int64) int64 { return run(s, l, t, 10*time.Second, ladder) },
		}, math.MaxInt64, math.MaxInt64},
		{"a 600 kbit/s cap: cut under it, to a rung that fits, and held there", []func(*sendSide, *line, int64) int64{
			func(s *sendSide, l *line, t int64) int64 { return run(s, l, t, 2*time.Second, ladder) },
			func(s *sendSide, l *line, t int64) int64 {
				l.capBps = 480_000 // the full rendition does not fit, the next one does
				return run(s, l, t, 15*time.Second, ladder)
			},
		}, 300_000, 480_000},
		{"the cap lifted: probes climb back to no limit", []func(*sendSide, *line, int64) int64{
			func(s *sendSide, l *line, t int64) int64 { return run(s, l, t, 2*time.Second, ladder) },
			func(s *sendSide, l *line, t int64) int64 {
				l.capBps = 480_000
				return run(s, l, t, 10*time.Second, ladder)
			},
			func(s *sendSide, l *line, t int64) int64 {
				l.capBps = 10_000_000
				return run(s, l, t, 15*time.Second, ladder)
			},
		}, 513_000, math.MaxInt64}, // the full rendition allowed, or no limit
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s sendSide
			l := &line{capBps: 10_000_000, maxQueue: 100 * time.Millisecond}
			now := int64(1_000_000_000)
			for _, step := range tc.steps {
				now = step(&s, l, now)
			}
			got := s.estimate()
			if got == 0 {
				got = math.MaxInt64
			}
			if got < tc.min || got > tc.max {
				t.Errorf("estimate %d, want %d to %d", got, tc.min, tc.max)
			}
		})
	}
}

// The estimator's rules one feedback at a time.
func TestSendSideRules(t *testing.T) {
	const ms = 1000
	// packets sent every 10 ms from t, 1000 bytes, arriving after path+q
	// (q growing by grow µs a packet); lost marks every lost-th lost.
	batch := func(t int64, n int, q, grow int64, lost int) []fbPacket {
		var p []fbPacket
		for i := range n {
			sent := t + int64(i)*10*ms
			p = append(p, fbPacket{sent: sent, size: 1000, arrived: sent + 20*ms + q + int64(i)*grow,
				lost: lost > 0 && i%lost == 0})
		}
		return p
	}
	t.Run("a standing queue that keeps growing cuts to 80 % of what was delivered", func(t *testing.T) {
		var s sendSide
		now := int64(0)
		s.onFeedback(batch(now, 10, 0, 0, 0), now+100*ms) // the base delay
		for i := 1; i <= 6; i++ {
			now += 100 * ms
			s.onFeedback(batch(now, 10, int64(i)*20*ms, 2*ms, 0), now+100*ms)
		}
		if s.delivered < 600_000 || s.delivered > 750_000 || s.est < s.delivered*79/100 || s.est > s.delivered*81/100 {
			t.Fatalf("estimate %d after a growing queue (800 kbit/s sent, %d delivered), want 80 %% of what was delivered", s.est, s.delivered)
		}
	})
	t.Run("one big frame's queue drains from its peak: no cut", func(t *testing.T) {
		var s sendSide
		now := int64(0)
		s.onFeedback(batch(now, 10, 0, 0, 0), now+100*ms)
		for _, q := range []int64{120, 100, 80, 60, 45, 30, 10, 0} {
			now += 100 * ms
			s.onFeedback(batch(now, 10, q*ms, 0, 0), now+100*ms)
		}
		if s.est != 0 {
			t.Fatalf("estimate %d after a queue that drained, want no limit", s.est)
		}
	})
	t.Run("loss over 10 % over two seconds cuts", func(t *testing.T) {
		var s sendSide
		now := int64(0)
		for range 25 {
			s.onFeedback(batch(now, 10, 0, 0, 4), now+100*ms) // 30 % lost
			now += 100 * ms
		}
		if s.est == 0 {
			t.Fatal("no limit after 2.5 s of 30 % loss")
		}
	})
	t.Run("5 % random loss is no reason to cut", func(t *testing.T) {
		var s sendSide
		r := rand.New(rand.NewPCG(1, 2))
		now := int64(0)
		for range 600 { // a minute, 60 packets a second
			p := batch(now, 6, 0, 0, 0)
			for i := range p {
				p[i].lost = r.Float64() < 0.05
			}
			s.onFeedback(p, now+100*ms)
			now += 100 * ms
		}
		if s.est != 0 {
			t.Fatalf("estimate %d after a minute of 5 %% random loss, want no limit", s.est)
		}
	})
	t.Run("a probe that shows no queue raises the estimate to what it carried", func(t *testing.T) {
		s := sendSide{est: 400_000, fbAt: 0, clearFrom: 1}
		now := int64(3_000 * ms)
		s.fbAt = now
		pad := s.tick(now, 380_000, 2_500_000)
		if !s.probing || pad != 600_000-380_000 {
			t.Fatalf("probing %v with %d bit/s of padding, want a probe to 1.5 times the estimate", s.probing, pad)
		}
		for i := int64(0); i <= 11; i++ { // 600 kbit/s delivered, no queue
			t := now + i*100*ms
			var p []fbPacket
			for j := range int64(75) / 10 {
				sent := t + j*13*ms
				p = append(p, fbPacket{sent: sent, size: 1000, arrived: sent + 20*ms})
			}
			s.onFeedback(p, t+100*ms)
		}
		if s.probing || s.est < 480_000 || s.est > 600_000 {
			t.Fatalf("after a clean probe: probing %v, estimate %d, want about 600000", s.probing, s.est)
		}
	})
	t.Run("a probe that builds a queue stops at once and leaves the estimate", func(t *testing.T) {
		s := sendSide{est: 400_000, clearFrom: 1}
		now := int64(3_000 * ms)
		s.fbAt = now
		s.tick(now, 380_000, 2_500_000)
		s.onFeedback(batch(now, 10, 0, 0, 0), now+100*ms)
		stop := s.onFeedback(batch(now+100*ms, 10, 50*ms, 0, 0), now+200*ms)
		stop = stop || s.onFeedback(batch(now+200*ms, 10, 60*ms, 0, 0), now+300*ms)
		if !stop || s.probing || s.est != 400_000 {
			t.Fatalf("stop %v, probing %v, estimate %d: want the padding stopped and 400000 kept", stop, s.probing, s.est)
		}
		if s.nextProbe < now+us(probeGapFirst) {
			t.Fatalf("the next probe at %d, want it to wait", s.nextProbe)
		}
	})
	t.Run("no probe while the publisher uses under half the estimate; then it lets go", func(t *testing.T) {
		s := sendSide{est: 700_000, clearFrom: 1, raised: 1}
		now := int64(5_000 * ms)
		s.fbAt = now
		if pad := s.tick(now, 300_000, 2_500_000); pad != 0 || s.est != 0 {
			t.Fatalf("padding %d, estimate %d: want no probe and no limit", pad, s.est)
		}
	})
}

// Transport-wide numbers: media packets are their index plus an offset
// that moves when the subscriber skips packets or is sent padding, and
// feedback finds each number's packet through that history.
func TestTWCCNumbersAndFeedback(t *testing.T) {
	var log sendLog
	var tw twccSend
	var seqs []uint16
	send := func(numbered bool, us int64) {
		if numbered {
			seqs = append(seqs, tw.media(log.next))
		}
		log.add(1000, us)
	}
	send(true, 100)
	send(true, 200)
	from := tw.padded(3, 200) // three padding packets after the second
	send(false, 300)          // held back from this subscriber
	send(true, 400)
	if want := []uint16{0, 1, 5}; seqs[0] != want[0] || seqs[1] != want[1] || seqs[2] != want[2] || from != 2 {
		t.Fatalf("numbers %v, padding from %d; want %v and 2", seqs, from, want)
	}
	// Feedback on numbers 0-5: 3 lost, the rest 1 ms apart from 64 ms.
	fb := &rtcp.TransportLayerCC{BaseSequenceNumber: 0, PacketStatusCount: 6, ReferenceTime: 1,
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit,
			SymbolList: []uint16{1, 1, 1, 0, 1, 1, 0}}},
		RecvDeltas: []*rtcp.RecvDelta{{Delta: 0}, {Delta: 1000}, {Delta: 1000}, {Delta: 1000}, {Delta: 1000}}}
	got := tw.feedback(fb, &log, 500, nil)
	want := []fbPacket{
		{sent: 100, size: 1000, arrived: 64_000},
		{sent: 200, size: 1000, arrived: 65_000},
		{sent: 200, size: padSize + 16, arrived: 66_000},
		{sent: 200, size: padSize + 16, lost: true, arrived: 66_000},
		{sent: 200, size: padSize + 16, arrived: 67_000},
		{sent: 400, size: 1000, arrived: 68_000},
	}
	if len(got) != len(want) {
		t.Fatalf("feedback gave %d packets, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("packet %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A NACK maps back to the publisher's packet through the shifts that
// probe padding and a resume made; padding and what came before a
// resume are not resent.
func TestShiftLogMapsNACKs(t *testing.T) {
	var l shiftLog
	if p, ok := l.publisherSeq(100); !ok || p != 100 {
		t.Fatalf("no shift: %d %v", p, ok)
	}
	l.add(seqShift{from: 200, by: 0xffff - 2, pad: 3}) // padding 197-199: by -3
	l.add(seqShift{from: 300, by: 50, floor: true})    // resumed at 300
	for _, tc := range []struct {
		seq  uint16
		want uint16
		ok   bool
	}{
		{150, 150, false}, // before the resume: old
		{198, 0, false},
		{305, 355, true},
		{299, 0, false},
	} {
		if p, ok := l.publisherSeq(tc.seq); ok != tc.ok || (ok && p != tc.want) {
			t.Errorf("publisherSeq(%d) = %d %v, want %d %v", tc.seq, p, ok, tc.want, tc.ok)
		}
	}
	var m shiftLog
	m.add(seqShift{from: 200, by: 0xffff - 2, pad: 3})
	if p, ok := m.publisherSeq(250); !ok || p != 247 {
		t.Errorf("after padding: publisherSeq(250) = %d %v, want 247", p, ok)
	}
	if p, ok := m.publisherSeq(150); !ok || p != 150 {
		t.Errorf("before padding: publisherSeq(150) = %d %v, want 150", p, ok)
	}
}
