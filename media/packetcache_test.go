package media

import (
	"bytes"
	"testing"
)

func TestPacketCache(t *testing.T) {
	c := newPacketCache(8)
	pkt := func(seq uint16) []byte { return []byte{byte(seq >> 8), byte(seq), 0xAB} }
	for seq := uint16(65530); seq != 4; seq++ { // across the wrap
		c.store(seq, pkt(seq))
	}
	buf := make([]byte, maxPacketSize)
	for _, tc := range []struct {
		seq  uint16
		want bool
	}{
		{3, true}, {65535, true}, {0, true}, {65532, true},
		{65531, false}, // overwritten by 3 (same slot)
		{65530, false}, // overwritten by 2
		{4, false},     // never stored
		{100, false},
	} {
		n := c.get(tc.seq, buf)
		if got := n > 0; got != tc.want {
			t.Errorf("get(%d) found=%v, want %v", tc.seq, got, tc.want)
			continue
		}
		if tc.want && !bytes.Equal(buf[:n], pkt(tc.seq)) {
			t.Errorf("get(%d) = %x, want %x", tc.seq, buf[:n], pkt(tc.seq))
		}
	}
	// Oversized packets are not cached.
	c.store(9, make([]byte, maxPacketSize+1))
	if c.get(9, buf) != 0 {
		t.Error("oversized packet was cached")
	}
}

func TestPacketCacheSizeMustBePowerOfTwo(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for size 100")
		}
	}()
	newPacketCache(100)
}

func BenchmarkPacketCacheStoreGet(b *testing.B) {
	c := newPacketCache(512)
	pkt := make([]byte, 1200)
	buf := make([]byte, maxPacketSize)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for i := 0; b.Loop(); i++ {
		seq := uint16(i)
		c.store(seq, pkt)
		if c.get(seq-100, buf) == 0 && i > 100 {
			b.Fatal("miss")
		}
	}
}
