package sim

import (
	"testing"
	"time"
)

func TestClip(t *testing.T) {
	c, err := LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	if c.FrameDuration != time.Second/30 {
		t.Errorf("frame duration %s, want 1/30 s", c.FrameDuration)
	}
	if got := time.Duration(len(c.Video)) * c.FrameDuration; got < 5*time.Second {
		t.Errorf("video lasts %s, want about 6 s", got)
	}
	if got := time.Duration(len(c.Audio)) * c.AudioDuration; got < 5*time.Second {
		t.Errorf("audio lasts %s, want about 6 s", got)
	}
	keys := 0
	for _, k := range c.Keyframe {
		if k {
			keys++
		}
	}
	if keys < 5 {
		t.Errorf("%d keyframes, want one a second", keys)
	}
	for _, tc := range []struct{ from, want int }{{0, 0}, {1, 30}, {30, 30}, {len(c.Video) - 1, 0}} {
		if got := c.nextKeyframe(tc.from); got != tc.want {
			t.Errorf("nextKeyframe(%d) = %d, want %d", tc.from, got, tc.want)
		}
	}
}

func TestRenditionFor(t *testing.T) {
	c, err := LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Renditions) != 5 {
		t.Fatalf("%d renditions", len(c.Renditions))
	}
	for i, r := range c.Renditions {
		t.Logf("rendition %d: %d bit/s, %s a frame", i, r.Bitrate, r.FrameDuration)
		if i > 0 && r.Bitrate >= c.Renditions[i-1].Bitrate {
			t.Errorf("rendition %d (%d bit/s) is not below the one before", i, r.Bitrate)
		}
	}
	top, low := int64(c.Renditions[0].Bitrate), int64(c.Renditions[4].Bitrate)
	for _, tc := range []struct {
		target int64
		want   int
	}{{0, 0}, {5_000_000, 0}, {top, 0}, {top - 1, 1}, {low, 4}, {50_000, 4}} {
		if got := c.renditionFor(tc.target); got != tc.want {
			t.Errorf("renditionFor(%d) = %d, want %d", tc.target, got, tc.want)
		}
	}
	// Every rendition has a keyframe at each of the full rendition's
	// keyframe instants, so the robot can switch there.
	for i, r := range c.Renditions {
		step := int(r.FrameDuration / c.FrameDuration)
		for tick, key := range c.Keyframe {
			if key && tick%step == 0 && !r.Keyframe[(tick/step)%len(r.Video)] {
				t.Errorf("rendition %d (%d bit/s) has no keyframe at tick %d", i, r.Bitrate, tick)
			}
		}
	}
}

// The robot's encoder follows the estimate one rung at a time, no faster
// than every half second, and never above it: the SFU probes the line.
func TestLadderFollowsTheEstimate(t *testing.T) {
	c, err := LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	rate := func(i int) int64 { return int64(c.Renditions[i].Bitrate) }
	t0 := time.Unix(1000, 0)
	var l ladder
	for _, s := range []struct {
		at     time.Duration
		target int64
		want   int
		why    string
	}{
		{0, 0, 0, "no estimate: the full rendition"},
		{100 * time.Millisecond, 50_000, 1, "a collapse moves one rung down"},
		{300 * time.Millisecond, 50_000, 1, "not again within half a second"},
		{700 * time.Millisecond, 50_000, 2, "then one more"},
		{1300 * time.Millisecond, 50_000, 3, ""},
		{1900 * time.Millisecond, 50_000, 4, "down to the lowest"},
		{2500 * time.Millisecond, 50_000, 4, "no lower rung"},
		{8000 * time.Millisecond, rate(4), 4, "an estimate held for long is no reason to step up"},
		{8100 * time.Millisecond, rate(3) - 1, 4, "nor one just under the next rung"},
		{9000 * time.Millisecond, rate(0) * 2, 3, "a clean line climbs a rung"},
		{9200 * time.Millisecond, rate(0) * 2, 3, "but not twice within half a second"},
		{9600 * time.Millisecond, rate(0) * 2, 2, ""},
		{10100 * time.Millisecond, rate(1), 1, "up to the rung the estimate allows"},
		{10700 * time.Millisecond, rate(1), 1, "and no further"},
		{20000 * time.Millisecond, rate(1), 1, "however long it holds"},
		{20600 * time.Millisecond, rate(0), 0, "back to the full rendition"},
	} {
		if got := l.step(c, s.target, t0.Add(s.at)); got != s.want {
			t.Fatalf("at %s with %d bit/s: rendition %d, want %d (%s)", s.at, s.target, got, s.want, s.why)
		}
	}
}
