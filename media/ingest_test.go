package media

import (
	"errors"
	"strings"
	"testing"
)

const vp8Offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\n" +
	"a=fingerprint:sha-256 00:11\r\na=setup:actpass\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"

func TestCheckIngestOffer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		offer string
		want  error
	}{
		{"a camera", vp8Offer, nil},
		{"sendrecv counts as publishing", strings.Replace(vp8Offer, "a=sendonly", "a=sendrecv", 1), nil},
		{"receive only", strings.Replace(vp8Offer, "a=sendonly", "a=recvonly", 1), ErrNothingToPublish},
		{"inactive", strings.Replace(vp8Offer, "a=sendonly", "a=inactive", 1), ErrNothingToPublish},
		{"data only", strings.Replace(vp8Offer, "m=video 9 UDP/TLS/RTP/SAVPF 96", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", 1), ErrNothingToPublish},
		{"not SDP", "hello", ErrBadSDP},
		{"empty", "", ErrBadSDP},
		{"too many sections", vp8Offer + strings.Repeat("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n", 4), ErrBadSDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckIngestOffer(tc.offer)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseIceFragment(t *testing.T) {
	cand := "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"
	for _, tc := range []struct {
		name, body string
		ufrag      string
		cands      int
		mid        string
		want       error
	}{
		{"trickle", "a=ice-ufrag:abcd\r\na=ice-pwd:pw\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n" + cand + "\r\n", "abcd", 1, "0", nil},
		{"end of candidates", "a=ice-ufrag:abcd\r\nm=video 9 RTP/AVP 0\r\na=mid:v\r\na=end-of-candidates\r\n", "abcd", 0, "", nil},
		{"bare newlines", "a=ice-ufrag:x\nm=audio 9 RTP/AVP 0\na=mid:a\n" + cand + "\n", "x", 1, "a", nil},
		{"unknown attributes ignored", "a=ice-options:trickle\r\na=group:BUNDLE 0\r\n", "", 0, "", nil},
		{"candidate outside a section", cand + "\r\n", "", 0, "", ErrBadCandidate},
		{"not a candidate", "m=video 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:nonsense\r\n", "", 0, "", ErrBadCandidate},
		{"not SDP", "hello world\r\n", "", 0, "", ErrBadSDP},
		{"too many", "m=video 9 RTP/AVP 0\r\na=mid:0\r\n" + strings.Repeat(cand+"\r\n", maxFragmentCandidates+1), "", 0, "", ErrBadCandidate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseIceFragment(tc.body)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || f.Ufrag != tc.ufrag || len(f.Candidates) != tc.cands {
				t.Fatalf("got %+v, %v", f, err)
			}
			if tc.cands > 0 && (f.Candidates[0].Mid != tc.mid || !strings.HasPrefix(f.Candidates[0].Candidate, "candidate:")) {
				t.Fatalf("candidate %+v, want mid %q", f.Candidates[0], tc.mid)
			}
		})
	}
}

// The two parsers of WHIP bodies take anything without panicking, and
// what they accept keeps their promises.
func FuzzIngestBodies(f *testing.F) {
	f.Add(vp8Offer)
	f.Add("a=ice-ufrag:abcd\r\na=ice-pwd:pw\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n")
	f.Add("m=audio 0 RTP/AVP 0\r\na=recvonly\r\n")
	f.Fuzz(func(t *testing.T, body string) {
		if err := CheckIngestOffer(body); err != nil && !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNothingToPublish) {
			t.Fatalf("offer: unexpected error kind %v", err)
		}
		fr, err := ParseIceFragment(body)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrBadCandidate) {
				t.Fatalf("fragment: unexpected error kind %v", err)
			}
			return
		}
		if len(fr.Candidates) > maxFragmentCandidates {
			t.Fatalf("accepted %d candidates", len(fr.Candidates))
		}
		for _, c := range fr.Candidates {
			if !strings.HasPrefix(c.Candidate, "candidate:") {
				t.Fatalf("accepted candidate %q", c.Candidate)
			}
		}
	})
}

// An ICE restart replaces the credential lines whole, even where the new
// value or another line begins with the old one.
func TestWithICECredentials(t *testing.T) {
	in := "v=0\r\na=ice-ufrag:ab\r\na=ice-pwd:pw\r\na=ice-ufrag:abcd\r\na=x:ice-ufrag:ab\r\n"
	got := withICECredentials(in, "NEW", "PWD")
	want := "v=0\r\na=ice-ufrag:NEW\r\na=ice-pwd:PWD\r\na=ice-ufrag:NEW\r\na=x:ice-ufrag:ab\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
