package sim

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ { // 1 ms … 1000 ms
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.95, 950 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0, time.Millisecond}} {
		got := h.quantile(tc.q)
		if d := got - tc.want; d > tc.want/50 || -d > tc.want/50 {
			t.Errorf("q%.2f = %s, want %s within 2 %%", tc.q, got, tc.want)
		}
	}
	var small histogram
	small.add(42 * time.Microsecond)
	if got := small.quantile(0.5); got != 42*time.Microsecond {
		t.Errorf("a small value: %s", got)
	}
	if (&histogram{}).quantile(0.5) != 0 {
		t.Error("an empty histogram has a median")
	}
}

func TestVP8FramesCarryStampsAndKeyframes(t *testing.T) {
	pkts := vp8Frame(nil, 6250, true, 1100)
	total := 0
	for i, p := range pkts {
		total += len(p) - 1
		if len(p) > 1100 {
			t.Fatalf("packet %d is %d bytes", i, len(p))
		}
		stamp(p)
		if at, ok := stamped(p); !ok || time.Since(at) > time.Second {
			t.Fatalf("packet %d stamp %v %v", i, at, ok)
		}
	}
	if total < 6250 || !isKeyframe(pkts[0]) || isKeyframe(pkts[1]) {
		t.Fatalf("frame of %d bytes; keyframe first %v, second %v", total, isKeyframe(pkts[0]), isKeyframe(pkts[1]))
	}
	if isKeyframe(vp8Frame(nil, 6250, false, 1100)[0]) {
		t.Fatal("an interframe read as a keyframe")
	}
	// Reused for the next frame: the keyframe header must not linger.
	again := vp8Frame(pkts, 6250, false, 1100)
	if isKeyframe(again[0]) || len(again) != len(pkts) || &again[0][0] != &pkts[0][0] {
		t.Fatalf("reused frame: keyframe %v, %d packets, same memory %v", isKeyframe(again[0]), len(again), &again[0][0] == &pkts[0][0])
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true}, {"ws://[::1]:7880", true}, {"http://localhost:1", true}, {"wss://127.0.0.2", true},
		{"http://10.0.0.1:8080", false}, {"http://example.org", false}, {"ftp://127.0.0.1", false}, {"127.0.0.1:80", false},
		{"", false}, {"http://[::ffff:8.8.8.8]", false},
	} {
		if err := LoopbackOnly(tc.url); (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok %v", tc.url, err, tc.ok)
		}
	}
}
