package media

import (
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"
)

// recordingSignaler keeps what the SFU tells one client.
type recordingSignaler struct {
	mu     sync.Mutex
	offers []string
}

func (r *recordingSignaler) SendOffer(sdp string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offers = append(r.offers, sdp)
}
func (*recordingSignaler) SendCandidate(webrtc.ICECandidateInit) {}
func (*recordingSignaler) PeerJoined(Role)                       {}
func (*recordingSignaler) PeerLeft(Role)                         {}
func (*recordingSignaler) Closed(error)                          {}

func (r *recordingSignaler) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.offers)
}

// No offer goes out before Start: signaling tells the client it joined
// first, and a client drops an offer that comes before that. A track that
// arrives between the join and Start (the robot's video, 2 ms after the
// pupil joined, after a server restart) used to send an offer then, which
// the pupil dropped, and every later offer waited for its answer: the
// pupil never saw the class.
func TestNoOfferBeforeStart(t *testing.T) {
	s, err := New(Config{UDPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sig := &recordingSignaler{}
	p, err := s.Join("link-1", RolePupil, JoinOptions{PublishAudio: true, Subject: "pupil-1"}, sig)
	if err != nil {
		t.Fatal(err)
	}
	p.negotiate(false) // a subscription made before Start
	if n := sig.count(); n != 0 {
		t.Fatalf("%d offers before Start, want none", n)
	}
	p.Start()
	if n := sig.count(); n != 1 {
		t.Fatalf("%d offers after Start, want 1", n)
	}
	p.negotiate(false) // while the first awaits its answer: pending, not sent
	if n := sig.count(); n != 1 {
		t.Fatalf("%d offers while awaiting an answer, want 1", n)
	}
}
