package media

import "sync"

// packetCache keeps the last few RTP packets of one incoming track, indexed
// by sequence number, so that a subscriber's NACK can be answered by the SFU
// at once instead of travelling back to the publisher (Galène's packetcache
// does the same). Slots are fixed byte arrays allocated once: storing a
// packet copies it and allocates nothing.
type packetCache struct {
	mu    sync.Mutex
	slots []cacheSlot
	mask  uint16
}

type cacheSlot struct {
	seq   uint16
	valid bool
	n     int
	buf   [maxPacketSize]byte
}

// maxPacketSize is larger than any RTP packet that fits a 1500-byte MTU.
const maxPacketSize = 1500

// newPacketCache returns a cache of size slots; size must be a power of two
// no larger than 32768 so that slot = seq & mask never aliases a live
// sequence number within a window.
func newPacketCache(size int) *packetCache {
	if size <= 0 || size&(size-1) != 0 || size > 32768 {
		panic("media: packet cache size must be a power of two <= 32768")
	}
	return &packetCache{slots: make([]cacheSlot, size), mask: uint16(size - 1)}
}

// store copies pkt (a whole RTP packet) under seq. Packets larger than
// maxPacketSize are not cached.
func (c *packetCache) store(seq uint16, pkt []byte) {
	if len(pkt) > maxPacketSize {
		return
	}
	c.mu.Lock()
	s := &c.slots[seq&c.mask]
	s.seq = seq
	s.valid = true
	s.n = copy(s.buf[:], pkt)
	c.mu.Unlock()
}

// get copies the packet with sequence number seq into dst and returns the
// number of bytes, or 0 if the packet is no longer (or never was) cached.
func (c *packetCache) get(seq uint16, dst []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[seq&c.mask]
	if !s.valid || s.seq != seq {
		return 0
	}
	return copy(dst, s.buf[:s.n])
}
