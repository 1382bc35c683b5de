package media

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// A line fed one second of feedback at a time: what is sent, the share
// lost, the round trip and the browser's REMB (0: none) in each.
type second struct {
	sent int64
	loss float64
	rtt  time.Duration
	remb float32
}

func TestLineEstimate(t *testing.T) {
	const ceiling = 2_500_000
	clean := func(n int, sent int64, remb float32) []second {
		s := make([]second, n)
		for i := range s {
			s[i] = second{sent: sent, rtt: 20 * time.Millisecond, remb: remb}
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		seconds  []second
		min, max int64 // the estimate after the last second
	}{
		{"no feedback says nothing", clean(5, 600_000, 0), 0, 0},
		{"a browser's REMB is the estimate", clean(3, 600_000, 700_000), 700_000, 700_000},
		{"20 % loss cuts by a tenth a second", append(clean(2, 600_000, 0),
			second{sent: 600_000, loss: 0.2, rtt: 20 * time.Millisecond},
			second{sent: 600_000, loss: 0.2, rtt: 20 * time.Millisecond}), 430_000, 490_000},
		{"loss below the REMB wins over it", append(clean(2, 600_000, 2_000_000),
			second{sent: 600_000, loss: 0.3, rtt: 20 * time.Millisecond, remb: 2_000_000}), 500_000, 520_000},
		{"a little loss holds", append(append(clean(2, 600_000, 0),
			second{sent: 600_000, loss: 0.3, rtt: 20 * time.Millisecond}),
			second{sent: 510_000, loss: 0.05, rtt: 20 * time.Millisecond},
			second{sent: 510_000, loss: 0.05, rtt: 20 * time.Millisecond}), 505_000, 520_000},
		{"a queue building cuts to 85 % of what is sent", append(clean(3, 600_000, 0),
			second{sent: 600_000, rtt: 300 * time.Millisecond}), 510_000, 510_000},
		{"a queue still building cuts again", append(clean(3, 600_000, 0),
			second{sent: 600_000, rtt: 300 * time.Millisecond},
			second{sent: 510_000, rtt: 450 * time.Millisecond}), 433_000, 434_000},
		{"a longer path (an ICE restart) costs one cut", append(clean(3, 600_000, 0),
			second{sent: 600_000, rtt: 250 * time.Millisecond}, second{sent: 510_000, rtt: 250 * time.Millisecond},
			second{sent: 510_000, rtt: 255 * time.Millisecond}, second{sent: 510_000, rtt: 250 * time.Millisecond}), 510_000, 510_000},
		{"a clean line lets the estimate climb, no faster than what is sent", append(append(clean(2, 600_000, 0),
			second{sent: 600_000, loss: 0.5, rtt: 20 * time.Millisecond}),
			clean(3, 450_000, 0)...), 560_000, 570_000},
		{"climbing past the ceiling lets go", append(append(clean(2, 600_000, 0),
			second{sent: 600_000, loss: 0.5, rtt: 20 * time.Millisecond}),
			clean(60, 2_000_000, 0)...), 0, 0},
		{"the REMB caps a climbing estimate", append(append(clean(2, 600_000, 0),
			second{sent: 600_000, loss: 0.5, rtt: 20 * time.Millisecond}),
			clean(3, 450_000, 300_000)...), 300_000, 300_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e lineEstimate
			now := time.Unix(1_700_000_000, 0)
			var seq, lost uint32
			var trace []int64
			for _, s := range tc.seconds {
				now = now.Add(time.Second)
				pkts := uint32(s.sent / 8 / 1200)
				seq += pkts
				lost += uint32(float64(pkts) * s.loss)
				e.onSent(s.sent)
				if s.remb > 0 {
					e.onREMB(s.remb, now)
				}
				e.onReport(rtcp.ReceptionReport{LastSequenceNumber: seq, TotalLost: lost}, s.rtt, now, ceiling)
				trace = append(trace, e.estimate(now))
			}
			if got := trace[len(trace)-1]; got < tc.min || got > tc.max {
				t.Errorf("estimate %d, want %d to %d (each second: %v)", got, tc.min, tc.max, trace)
			}
		})
	}
}

func TestLineEstimateREMBGoesStale(t *testing.T) {
	var e lineEstimate
	now := time.Unix(1_700_000_000, 0)
	e.onREMB(400_000, now)
	if got := e.estimate(now.Add(2 * time.Second)); got != 400_000 {
		t.Fatalf("estimate 2 s after a REMB = %d, want 400000", got)
	}
	if got := e.estimate(now.Add(4 * time.Second)); got != 0 {
		t.Fatalf("estimate 4 s after the last REMB = %d, want 0 (stale)", got)
	}
	e.onREMB(400_000, now)
	e.forget(true)
	if got := e.estimate(now); got != 400_000 {
		t.Fatalf("estimate after forget(keepREMB) = %d, want the REMB", got)
	}
	e.forget(false)
	if got := e.estimate(now); got != 0 {
		t.Fatalf("estimate after forget = %d, want 0", got)
	}
}

func TestReportRTT(t *testing.T) {
	sent := time.Unix(1_700_000_000, 250_000_000)
	now := sent.Add(180 * time.Millisecond)
	held := uint32(100 * 65536 / 1000) // the receiver held our report 100 ms
	rr := rtcp.ReceptionReport{LastSenderReport: ntpMiddle(sent), Delay: held}
	got := reportRTT(rr, now)
	if got < 79*time.Millisecond || got > 81*time.Millisecond {
		t.Fatalf("round trip %s, want 80ms", got)
	}
	if got := reportRTT(rtcp.ReceptionReport{}, now); got != 0 {
		t.Fatalf("round trip without a sender report %s, want 0", got)
	}
	rr.Delay = 1 << 30 // longer than the time since: a clock step
	if got := reportRTT(rr, now); got != 0 {
		t.Fatalf("round trip across a clock step %s, want 0", got)
	}
}
