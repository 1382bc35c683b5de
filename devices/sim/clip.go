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
// Lower renditions let the robot follow the pupil's line: the same pattern
// at 450 and 300 kbit/s, at 200 kbit/s, 480x270 and 15 fps, and at 120
// kbit/s, 320x180 and 15 fps, each with a keyframe every second at the
// same instants, so the robot can switch at any keyframe.
var (
	//go:embed clip/classroom.ivf
	clipIVF []byte
	//go:embed clip/classroom-450k.ivf
	clipIVF450 []byte
	//go:embed clip/classroom-300k.ivf
	clipIVF300 []byte
	//go:embed clip/classroom-200k.ivf
	clipIVF200 []byte
	//go:embed clip/classroom-120k.ivf
	clipIVF120 []byte
	//go:embed clip/classroom.ogg
	clipOgg []byte
)

// Rendition is one encoding of the clip's video.
type Rendition struct {
	// Bitrate is what it sends, bit/s on average.
	Bitrate       int
	Video         [][]byte
	Keyframe      []bool
	FrameDuration time.Duration
}

// Clip is a decoded-once, in-memory copy of the test clip.
type Clip struct {
	Video         [][]byte // VP8 frames of the full rendition
	Keyframe      []bool
	FrameDuration time.Duration
	// Renditions, highest first; the first is Video above.
	Renditions    []Rendition
	Audio         [][]byte // Opus packets, one per 20 ms
	AudioDuration time.Duration
}

// LoadClip parses the embedded clip.
func LoadClip() (*Clip, error) {
	c := &Clip{AudioDuration: 20 * time.Millisecond}
	for _, b := range [][]byte{clipIVF, clipIVF450, clipIVF300, clipIVF200, clipIVF120} {
		rend, err := readIVF(b)
		if err != nil {
			return nil, err
		}
		c.Renditions = append(c.Renditions, rend)
	}
	full := c.Renditions[0]
	c.Video, c.Keyframe, c.FrameDuration = full.Video, full.Keyframe, full.FrameDuration
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

func readIVF(b []byte) (Rendition, error) {
	var r Rendition
	ivf, hdr, err := ivfreader.NewWith(bytes.NewReader(b))
	if err != nil {
		return r, fmt.Errorf("sim: clip video: %w", err)
	}
	if hdr.FourCC != "VP80" {
		return r, fmt.Errorf("sim: clip video is %s, want VP80", hdr.FourCC)
	}
	r.FrameDuration = time.Second * time.Duration(hdr.TimebaseNumerator) / time.Duration(hdr.TimebaseDenominator)
	for {
		frame, _, err := ivf.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r, fmt.Errorf("sim: clip video frame %d: %w", len(r.Video), err)
		}
		r.Video = append(r.Video, frame)
		// VP8 frame tag: bit 0 of the first byte is 0 for a keyframe.
		r.Keyframe = append(r.Keyframe, len(frame) > 0 && frame[0]&1 == 0)
	}
	if len(r.Video) == 0 || !r.Keyframe[0] {
		return r, errors.New("sim: a clip rendition is empty or does not start with a keyframe")
	}
	bytes := 0
	for _, f := range r.Video {
		bytes += len(f)
	}
	r.Bitrate = int(int64(bytes) * 8 * int64(time.Second) / (int64(len(r.Video)) * int64(r.FrameDuration)))
	return r, nil
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

// renditionFor is the index of the highest rendition whose bitrate fits
// target bit/s (0: no estimate yet, the highest); the lowest if none fits.
func (c *Clip) renditionFor(target int64) int {
	if target <= 0 {
		return 0
	}
	for i, r := range c.Renditions {
		if int64(r.Bitrate) <= target {
			return i
		}
	}
	return len(c.Renditions) - 1
}
