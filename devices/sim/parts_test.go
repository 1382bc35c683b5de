package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
)

// oggPage builds one Ogg page holding the given lacing values and data.
func oggPage(lacing []byte, data []byte) []byte {
	h := make([]byte, 27)
	copy(h, "OggS")
	h[26] = byte(len(lacing))
	return append(append(h, lacing...), data...)
}

func TestOggPackets(t *testing.T) {
	big := bytes.Repeat([]byte{'b'}, 300) // 255 + 45: two lacing values
	stream := append(oggPage([]byte{3, 2}, []byte("onetw")),
		// a packet continued onto the next page: 255 here...
		oggPage([]byte{255}, big[:255])...)
	stream = append(stream, oggPage([]byte{45, 1}, append(big[255:], 'z'))...)
	o := &oggPackets{r: bufioReader(stream)}
	var got []string
	for {
		pkts, err := o.page()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			got = append(got, string(p))
		}
	}
	want := []string{"one", "tw", string(big), "z"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("packets %q, want %q", got, want)
	}
	for _, bad := range [][]byte{[]byte("NotOgg" + strings.Repeat("x", 30)), oggPage([]byte{9}, []byte("short"))} {
		o := &oggPackets{r: bufioReader(bad)}
		if _, err := o.page(); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzOggPackets: whatever a pipeline writes, the reader returns packets
// or an error, never a packet over the bound.
func FuzzOggPackets(f *testing.F) {
	f.Add(oggPage([]byte{3, 2}, []byte("onetw")))
	f.Add(oggPage([]byte{255, 255, 255}, bytes.Repeat([]byte{1}, 765)))
	f.Fuzz(func(t *testing.T, b []byte) {
		o := &oggPackets{r: bufioReader(b)}
		for i := 0; i < 100; i++ {
			pkts, err := o.page()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if len(p) > maxOggPacket {
					t.Fatalf("packet of %d bytes", len(p))
				}
			}
		}
	})
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// The encoder starts anew lower when the line has stood under 80 % of it
// for a second (at most every 5 s), higher when it has stood over 130 %
// for 5 s (at most every 10 s, half as much again at most), never under
// the floor, and not for a line near what it encodes.
func TestEncoderPolicy(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name  string
		cur   int
		lines []int64 // one every 500 ms
		want  []int   // the bitrates it starts anew at
	}{
		{"a line near what it encodes", 600_000, []int64{560_000, 700_000, 520_000, 600_000, 760_000}, nil},
		{"no estimate", 600_000, []int64{0, 0, 0, 0}, nil},
		{"a dip shorter than a second", 600_000, []int64{300_000, 300_000, 600_000, 300_000, 600_000}, nil},
		{"a weak line, held", 600_000, []int64{300_000, 300_000, 300_000}, []int{270_000}},
		{"lower again only after 5 s", 600_000, []int64{300_000, 300_000, 300_000, 150_000, 150_000, 150_000, 150_000,
			150_000, 150_000, 150_000, 150_000, 150_000, 150_000, 150_000}, []int{270_000, 135_000}},
		{"never under the floor", 600_000, []int64{50_000, 50_000, 50_000}, []int{encoderMin}},
		{"raised after 5 s, by half at most", 200_000, []int64{2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000,
			2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000}, []int{300_000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := encoderPolicy{cur: tc.cur}
			var got []int
			for i, line := range tc.lines {
				if bps, ok := e.decide(line, t0.Add(time.Duration(i)*encoderEvery)); ok {
					got = append(got, bps)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("started anew at %v, want %v", got, tc.want)
			}
		})
	}
}

// fakeCamera is a camera pipeline's output: a rendition of the clip as
// IVF, at its own pace, until closed.
type fakeCamera struct {
	*io.PipeReader
	closed atomic.Bool
}

func newFakeCamera(t *testing.T, r Rendition) *fakeCamera {
	pr, pw := io.Pipe()
	c := &fakeCamera{PipeReader: pr}
	go func() {
		w, err := ivfwriter.NewWith(pw, ivfwriter.WithCodec(webrtc.MimeTypeVP8))
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		for i := 0; !c.closed.Load(); i++ {
			p := &rtp.Packet{Header: rtp.Header{Timestamp: uint32(i * 3000), Marker: true},
				Payload: append([]byte{0x10}, r.Video[i%len(r.Video)]...)}
			if err := w.WriteRTP(p); err != nil {
				return
			}
			time.Sleep(r.FrameDuration)
		}
	}()
	return c
}

func (c *fakeCamera) Close() error {
	c.closed.Store(true)
	return c.PipeReader.Close()
}

// With VideoAt, the robot's camera follows the line: a weak line starts
// the pipeline anew at a lower bitrate, the old one is closed, and the
// frames of the new one are sent.
func TestCameraPipelineFollowsTheLine(t *testing.T) {
	clip, err := LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	first := newFakeCamera(t, clip.Renditions[0])
	var mu sync.Mutex
	var asked []int
	var cams []*fakeCamera
	parts := &Parts{Video: first, VideoFormat: "ivf", VideoBitrate: 500_000,
		VideoAt: func(bps int) (io.ReadCloser, error) {
			c := newFakeCamera(t, clip.Renditions[clip.renditionFor(int64(bps))])
			mu.Lock()
			defer mu.Unlock()
			asked, cams = append(asked, bps), append(cams, c)
			return c, nil
		}}
	r, err := New(Config{Parts: parts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.pipeVideo() }()
	time.Sleep(300 * time.Millisecond)
	if r.Stats().VideoBytes == 0 {
		t.Fatal("no frames from the first pipeline")
	}
	r.target.Store(300_000)
	deadline := time.Now().Add(5 * time.Second)
	for !first.closed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the first pipeline was not replaced within 5 s of a weak line")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	got, cam := asked, cams[len(cams)-1]
	mu.Unlock()
	if len(got) != 1 || got[0] != 270_000 {
		t.Fatalf("started anew at %v, want [270000]", got)
	}
	before := r.Stats().VideoBytes
	time.Sleep(500 * time.Millisecond)
	if r.Stats().VideoBytes <= before {
		t.Fatal("no frames from the new pipeline")
	}
	_ = cam.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("pipeVideo did not end with its pipeline")
	}
}
