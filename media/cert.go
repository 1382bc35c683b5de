package media

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"time"

	"github.com/pion/webrtc/v4"
)

// certificates returns the DTLS certificate shared by all peer connections.
// Generating one per peer costs a key generation on every join; sharing one
// is what browsers do per origin too. It is renewed a day before it expires.
func (s *SFU) certificates() []webrtc.Certificate {
	s.certMu.Lock()
	defer s.certMu.Unlock()
	if s.cert == nil || time.Until(s.cert.Expires()) < 24*time.Hour {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil // Pion generates one itself
		}
		c, err := webrtc.GenerateCertificate(key)
		if err != nil {
			return nil
		}
		s.cert = c
	}
	return []webrtc.Certificate{*s.cert}
}
