package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"seatlink/devices/agent"
	"seatlink/devices/sim"
	"seatlink/internal/config"
	"seatlink/internal/wire"
	"seatlink/people"
)

// whipClient is a WHIP publisher as a robot maker's pipeline would be:
// a peer connection that only sends, offered by POST /whip.
type whipClient struct {
	pc       *webrtc.PeerConnection
	location string
	token    string
	base     string
}

func newWHIPPeer(t *testing.T, tracks ...webrtc.TrackLocal) *webrtc.PeerConnection {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, tr := range tracks {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	return pc
}

// offerOf is pc's complete offer (WHIP sends candidates in the offer).
func offerOf(t *testing.T, pc *webrtc.PeerConnection) string { return offerWith(t, pc, nil) }

func offerWith(t *testing.T, pc *webrtc.PeerConnection, opts *webrtc.OfferOptions) string {
	t.Helper()
	offer, err := pc.CreateOffer(opts)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

func whipRequest(t *testing.T, method, url, token, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// publishWHIP offers pc's media to the server and applies the answer.
func publishWHIP(t *testing.T, base, token string, pc *webrtc.PeerConnection) *whipClient {
	t.Helper()
	resp, body := whipRequest(t, "POST", base+"/whip", token, "application/sdp", offerOf(t, pc))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /whip: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/sdp" {
		t.Fatalf("answer Content-Type %q", ct)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/whip/") {
		t.Fatalf("Location %q", loc)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	return &whipClient{pc: pc, location: loc, token: token, base: base}
}

// A robot maker's WHIP publisher is a robot to the pupil: its VP8
// camera reaches the pupil frame for frame as the encoder made it (the
// pupil rebuilds each frame from the packets and finds it among the
// clip's), and H.264 reaches the pupil as H.264 with its keyframes.
func TestWHIPPublisherReachesThePupil(t *testing.T) {
	clip, err := sim.LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range clip.Video {
		known[string(f)] = true
	}
	for _, tc := range []struct {
		name  string
		codec webrtc.RTPCodecCapability
	}{
		{"vp8", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}},
		{"h264", webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testApp(t)
			link := newTestLink(t, a)
			cam, err := webrtc.NewTrackLocalStaticSample(tc.codec, "camera", "robot")
			if err != nil {
				t.Fatal(err)
			}
			pc := newWHIPPeer(t, cam)
			publishWHIP(t, a.baseURL(), link.RobotToken, pc)
			frames := func(i int) []byte { return clip.Video[i%len(clip.Video)] }
			if tc.name == "h264" {
				frames = h264TestFrame
			}
			playFrames(t, cam, frames)

			var codec atomic.Value
			var intact, keyframes atomic.Int64
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pupil, err := agent.Dial(ctx, agent.Config{Server: a.baseURL(), Token: link.PupilToken, Role: wire.RolePupil,
				Logger: testLogger(t),
				OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
					codec.Store(tr.Codec().MimeType)
					sb := samplebuilder.New(64, &codecs.VP8Packet{}, 90000)
					for {
						pkt, _, err := tr.ReadRTP()
						if err != nil {
							return
						}
						if tc.name == "h264" {
							if bytes.Contains(pkt.Payload, []byte{0x65, 0x88, 0x84}) {
								keyframes.Add(1)
							}
							continue
						}
						sb.Push(pkt)
						for s := sb.Pop(); s != nil; s = sb.Pop() {
							if known[string(s.Data)] {
								intact.Add(1)
							}
						}
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			defer pupil.Close()
			if tc.name == "h264" {
				waitFor(t, 15*time.Second, "H.264 keyframes at the pupil", func() bool { return keyframes.Load() >= 2 })
			} else {
				waitFor(t, 15*time.Second, "30 intact VP8 frames at the pupil", func() bool { return intact.Load() >= 30 })
			}
			if got, _ := codec.Load().(string); !strings.EqualFold(got, tc.codec.MimeType) {
				t.Fatalf("pupil received %q, want %s", got, tc.codec.MimeType)
			}
		})
	}
}

// WHIP refuses what it must, with a clear code: no credential, a made-up
// or revoked one, a body that is not an offer, an offer with nothing to
// publish, a second publisher for the same device; DELETE ends the
// session (and only with the credential that made it); revoking the
// device ends a live ingest at once.
func TestWHIPRefusals(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	base := a.baseURL()
	cam := vp8Track(t)
	good := offerOf(t, newWHIPPeer(t, cam))
	recvOnly := func() string {
		pc := newWHIPPeer(t)
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		return offerOf(t, pc)
	}()
	for _, tc := range []struct {
		name, token, contentType, body string
		status                         int
		code                           string
	}{
		{"no credential", "", "application/sdp", good, 401, "no_token"},
		{"made-up credential", "not-a-credential", "application/sdp", good, 401, "bad_token"},
		{"not SDP", link.RobotToken, "application/sdp", "hello", 400, "bad_sdp"},
		{"JSON instead of SDP", link.RobotToken, "application/json", `{"sdp":"v=0"}`, 415, "bad_content_type"},
		{"nothing to publish", link.RobotToken, "application/sdp", recvOnly, 400, "bad_sdp"},
		{"too large", link.RobotToken, "application/sdp", good + strings.Repeat("a=x\r\n", 20000), 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := whipRequest(t, "POST", base+"/whip", tc.token, tc.contentType, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}

	cam2 := vp8Track(t)
	first := publishWHIP(t, base, link.RobotToken, newWHIPPeer(t, cam2))
	t.Run("second publisher", func(t *testing.T) {
		cam3 := vp8Track(t)
		resp, body := whipRequest(t, "POST", base+"/whip", link.RobotToken, "application/sdp", offerOf(t, newWHIPPeer(t, cam3)))
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `"code":"role_taken"`) {
			t.Fatalf("got %d %s, want 409 role_taken", resp.StatusCode, body)
		}
	})
	t.Run("delete with another credential", func(t *testing.T) {
		other := newTestLink(t, a)
		resp, _ := whipRequest(t, "DELETE", base+first.location, other.RobotToken, "", "")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("got %d, want 404", resp.StatusCode)
		}
	})
	t.Run("delete ends it", func(t *testing.T) {
		resp, _ := whipRequest(t, "DELETE", base+first.location, link.RobotToken, "", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
		resp, _ = whipRequest(t, "DELETE", base+first.location, link.RobotToken, "", "")
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("second DELETE: %d, want 404", resp.StatusCode)
		}
		// The seat is free again.
		cam4 := vp8Track(t)
		publishWHIP(t, base, link.RobotToken, newWHIPPeer(t, cam4))
	})
	t.Run("revoked device", func(t *testing.T) {
		if a.sfu.Stats(link.RobotID).Robot == nil {
			t.Fatal("no ingest in the link before the revocation")
		}
		admin := signInStaff(t, a, link.LAID, link.SchoolID, people.RoleAdmin)
		if status, body := admin.do("DELETE", "/api/v1/devices/"+link.RobotID+"/credential", nil); status != http.StatusOK {
			t.Fatalf("revoke: %d %s", status, body)
		}
		waitFor(t, 2*time.Second, "the live ingest to end", func() bool { return a.sfu.Stats(link.RobotID).Robot == nil })
		resp2, body := whipRequest(t, "POST", base+"/whip", link.RobotToken, "application/sdp", good)
		if resp2.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"bad_token"`) {
			t.Fatalf("revoked: %d %s, want 401 bad_token", resp2.StatusCode, body)
		}
	})
}

// iceCreds reads the first ice-ufrag and ice-pwd of an SDP or fragment.
func iceCreds(s string) (ufrag, pwd string) {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "a=ice-ufrag:"); ok && ufrag == "" {
			ufrag = v
		}
		if v, ok := strings.CutPrefix(l, "a=ice-pwd:"); ok && pwd == "" {
			pwd = v
		}
	}
	return ufrag, pwd
}

// PATCH as RFC 9725 says: trickled candidates are taken (204); new ICE
// credentials restart ICE, the server answering with its own new
// credentials (200, an SDP fragment), after which media still reaches
// the pupil; a fragment for another ICE session, a bad fragment or the
// wrong type are refused.
func TestWHIPPatchTrickleAndRestart(t *testing.T) {
	clip, err := sim.LoadClip()
	if err != nil {
		t.Fatal(err)
	}
	a := testApp(t)
	link := newTestLink(t, a)
	cam := vp8Track(t)
	pc := newWHIPPeer(t, cam)
	w := publishWHIP(t, a.baseURL(), link.RobotToken, pc)
	playFrames(t, cam, func(i int) []byte { return clip.Video[i%len(clip.Video)] })
	p := joinPupil(t, a, link, nil)
	waitFor(t, 15*time.Second, "video at the pupil", func() bool { return p.videoFrames.Load() >= 10 })
	url := a.baseURL() + w.location
	ufrag, pwd := iceCreds(pc.LocalDescription().SDP)
	cand := ""
	for _, l := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			cand = strings.TrimSpace(l)
			break
		}
	}

	frag := "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n" + cand + "\r\n"
	if resp, body := whipRequest(t, "PATCH", url, link.RobotToken, "application/trickle-ice-sdpfrag", frag); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("trickle: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"bad fragment", "application/trickle-ice-sdpfrag", "m=video 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:nonsense\r\n", 400, "bad_fragment"},
		{"wrong type", "application/sdp", frag, 415, "bad_content_type"},
		{"other ICE session", "application/trickle-ice-sdpfrag", "a=ice-ufrag:zzzz\r\nm=video 9 RTP/AVP 0\r\na=mid:0\r\n", 400, "bad_fragment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := whipRequest(t, "PATCH", url, link.RobotToken, tc.contentType, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}

	// ICE restart: the client's new credentials, the server's new ones back.
	serverUfrag, _ := iceCreds(pc.RemoteDescription().SDP)
	newUfrag, newPwd := iceCreds(offerWith(t, pc, &webrtc.OfferOptions{ICERestart: true}))
	if newUfrag == ufrag {
		t.Fatal("the client's restart kept its ufrag")
	}
	var cands []string
	for _, l := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			cands = append(cands, strings.TrimSpace(l))
		}
	}
	restart := "a=ice-ufrag:" + newUfrag + "\r\na=ice-pwd:" + newPwd + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n" + strings.Join(cands, "\r\n") + "\r\n"
	resp, body := whipRequest(t, "PATCH", url, link.RobotToken, "application/trickle-ice-sdpfrag", restart)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/trickle-ice-sdpfrag" {
		t.Fatalf("restart: %d %s", resp.StatusCode, body)
	}
	gotUfrag, gotPwd := iceCreds(body)
	if gotUfrag == "" || gotPwd == "" || gotUfrag == serverUfrag || !strings.Contains(body, "a=candidate:") {
		t.Fatalf("restart answer %q: want new server credentials (old ufrag %s) and candidates", body, serverUfrag)
	}
	// The client applies the server's new credentials to its last answer.
	ans := pc.RemoteDescription().SDP
	oldU, oldP := iceCreds(ans)
	ans = strings.ReplaceAll(strings.ReplaceAll(ans, "a=ice-ufrag:"+oldU, "a=ice-ufrag:"+gotUfrag), "a=ice-pwd:"+oldP, "a=ice-pwd:"+gotPwd)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		t.Fatal(err)
	}
	before := p.videoFrames.Load()
	waitFor(t, 15*time.Second, "video at the pupil after the ICE restart", func() bool { return p.videoFrames.Load() >= before+30 })
	if s := pc.ICEConnectionState(); s != webrtc.ICEConnectionStateConnected && s != webrtc.ICEConnectionStateCompleted {
		t.Fatalf("client ICE state %s after the restart", s)
	}
}

// The answer names the STUN and TURN servers the deployment hands its
// clients, as Link headers (RFC 9725, section 4.4).
func TestWHIPAnnouncesICEServers(t *testing.T) {
	a := testAppWith(t, func(c *config.Serve) { c.ICEServers = []string{"stun:stun.example.org:3478"} })
	link := newTestLink(t, a)
	cam := vp8Track(t)
	resp, body := whipRequest(t, "POST", a.baseURL()+"/whip", link.RobotToken, "application/sdp", offerOf(t, newWHIPPeer(t, cam)))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Values("Link"); len(got) != 1 || got[0] != `<stun:stun.example.org:3478>; rel="ice-server"` {
		t.Fatalf("Link headers %q", got)
	}
}

// A made-up credential at /whip counts against the source as a guessed
// code does: ten failures, then 429 too_many_attempts even for a real one.
func TestWHIPCredentialGuessesAreThrottled(t *testing.T) {
	a := testApp(t)
	link := newTestLink(t, a)
	cam := vp8Track(t)
	offer := offerOf(t, newWHIPPeer(t, cam))
	for i := 0; i < 10; i++ {
		if resp, body := whipRequest(t, "POST", a.baseURL()+"/whip", fmt.Sprintf("guess-%d", i), "application/sdp", offer); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := whipRequest(t, "POST", a.baseURL()+"/whip", link.RobotToken, "application/sdp", offer)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, `"code":"too_many_attempts"`) || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after ten guesses: %d %s, want 429 too_many_attempts with Retry-After", resp.StatusCode, body)
	}
}
