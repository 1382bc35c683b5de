package sim

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
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
