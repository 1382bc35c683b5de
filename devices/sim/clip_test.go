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
