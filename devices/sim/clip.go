// Package sim is a simulated classroom robot: it joins a link through the
// device agent, publishes a looping test clip (a moving VP8 test pattern
// with a frame counter, and an Opus tone), obeys and acknowledges the
// pupil's commands, and reports the level of the pupil's audio it hears.
package sim

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// The clip was made by clip/make-clip.sh with Debian's ffmpeg: testsrc
// (gradient, colour bars, frame counter) 640x360 30 fps VP8, one keyframe a
// second, and a 440 Hz tone with a beep each second in Opus, 6 s each.
var (
	//go:embed clip/classroom.ivf
	clipIVF []byte
	//go:embed clip/classroom.ogg
	clipOgg []byte
)

// Clip is a decoded-once, in-memory copy of the test clip.
type Clip struct {
	Video         [][]byte // VP8 frames
	Keyframe      []bool
	FrameDuration time.Duration
	Audio         [][]byte // Opus packets, one per 20 ms
	AudioDuration time.Duration
}

// LoadClip parses the embedded clip.
func LoadClip() (*Clip, error) {
	c := &Clip{AudioDuration: 20 * time.Millisecond}
	ivf, hdr, err := ivfreader.NewWith(bytes.NewReader(clipIVF))
	if err != nil {
		return nil, fmt.Errorf("sim: clip video: %w", err)
	}
	if hdr.FourCC != "VP80" {
		return nil, fmt.Errorf("sim: clip video is %s, want VP80", hdr.FourCC)
	}
	c.FrameDuration = time.Second * time.Duration(hdr.TimebaseNumerator) / time.Duration(hdr.TimebaseDenominator)
	for {
		frame, _, err := ivf.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sim: clip video frame %d: %w", len(c.Video), err)
		}
		c.Video = append(c.Video, frame)
		// VP8 frame tag: bit 0 of the first byte is 0 for a keyframe.
		c.Keyframe = append(c.Keyframe, len(frame) > 0 && frame[0]&1 == 0)
	}
	ogg, _, err := oggreader.NewWith(bytes.NewReader(clipOgg))
	if err != nil {
		return nil, fmt.Errorf("sim: clip audio: %w", err)
	}
	for {
		page, _, err := ogg.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sim: clip audio page: %w", err)
		}
		// Skip the OpusHead and OpusTags header pages.
		if bytes.HasPrefix(page, []byte("OpusHead")) || bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		c.Audio = append(c.Audio, page)
	}
	if len(c.Video) == 0 || len(c.Audio) == 0 || !c.Keyframe[0] {
		return nil, errors.New("sim: clip is empty or does not start with a keyframe")
	}
	return c, nil
}

// nextKeyframe returns the index of the first keyframe at or after i,
// wrapping to the start.
func (c *Clip) nextKeyframe(i int) int {
	for j := 0; j < len(c.Video); j++ {
		k := (i + j) % len(c.Video)
		if c.Keyframe[k] {
			return k
		}
	}
	return 0
}
