// Command livekit drives a LiveKit server on loopback with the same
// workload as `seatlink loadtest`, so the two SFUs can be compared side by
// side (issue 7): each link is a robot publishing VP8 video (1.5 Mbit/s by
// default) and Opus audio, and a pupil publishing Opus, each subscribed to
// the other's tracks. The media, the measurements and the report come from
// seatlink/devices/sim (sim.Load); this program only supplies the LiveKit
// side: one room per link, access tokens, and a sim.JoinFunc built on
// LiveKit's Go SDK.
//
//	source deploy/bench/livekit.sh && seatlink_livekit_build && seatlink_livekit_start 7880
//	go build -o /tmp/lkload . && /tmp/lkload --links 10 --seconds 10 --server-pid "$LIVEKIT_PID"
//
// Same media on both servers: LiveKit runs with its defaults (congestion
// control on, pausing off). Towards subscribers it negotiates REMB, not
// transport-cc, and Pion (so this SDK) sends no REMB, so its stream
// allocator never gets an estimate, stays stable and forwards the one VP8
// layer in full, as Seatlink does (Seatlink counts subscribers' TWCC and
// acts on none). A 10-link run gets 280 packets/s per link on both
// servers: 180 of video, 50 of audio each way. Publishers stamp TWCC
// sequence numbers here as Seatlink's agent does, so both servers send
// them TWCC feedback (LiveKit negotiates it for video only).
//
// It lives in its own Go module so the root module never depends on LiveKit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	protologger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"seatlink/devices/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "livekit load:", err)
		os.Exit(1)
	}
}

// run mirrors cmd/seatlink/loadtest.go: the same flags, limits and output.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("livekit-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("url", envOr("LIVEKIT_URL", "ws://127.0.0.1:7880"), "the LiveKit server to drive (loopback only; env LIVEKIT_URL)")
	apiKey := fs.String("api-key", os.Getenv("LIVEKIT_API_KEY"), "the server's API key (env LIVEKIT_API_KEY)")
	apiSecret := fs.String("api-secret", "", "the server's API secret (prefer env LIVEKIT_API_SECRET)")
	var lf sim.LoadFlags // --server-pid: deploy/bench/livekit.sh exports LIVEKIT_PID
	lf.Register(fs, stderr)
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error (logs go to stderr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *apiSecret == "" {
		*apiSecret = os.Getenv("LIVEKIT_API_SECRET")
	}
	if err := lf.Check(); err != nil {
		return err
	}
	if *apiKey == "" || *apiSecret == "" {
		return errors.New("--api-key and LIVEKIT_API_SECRET (or --api-secret) are needed to sign access tokens (deploy/bench/livekit.sh exports them)")
	}
	if err := sim.LoopbackOnly(*server); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The SDK logs through logr (by default to the standard logger at
	// info, which would scribble over the progress bar); send it to slog.
	lksdk.SetLogger(protologger.LogRLogger(logr.FromSlogHandler(log.Handler())))

	// Bounded in time whatever happens: the ramp, the steady window, and a
	// minute for joins, the first keyframes and leaving.
	total := time.Duration((float64(lf.Links)/(lf.Ramp) + lf.Seconds + 60) * float64(time.Second))
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()

	creds, err := tokens(*apiKey, *apiSecret, lf.Links, total+time.Hour)
	if err != nil {
		return err
	}
	cfg := lf.Config(*server, creds)
	cfg.Logger, cfg.Join = log, livekitJoin(*server, log)
	rep, err := sim.Load(ctx, cfg)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	return rep.Finish(stdout, lf.JSON)
}

// tokens makes one room per link, "link-N", with access tokens for its
// robot (identity robot-N) and pupil (pupil-N): join that room, publish
// and subscribe. LiveKit creates a room when its first participant joins.
func tokens(key, secret string, n int, validFor time.Duration) ([]sim.LinkCreds, error) {
	sign := func(room, identity string) (string, error) {
		yes := true
		return auth.NewAccessToken(key, secret).SetIdentity(identity).SetName(identity).SetValidFor(validFor).
			SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &yes, CanSubscribe: &yes}).ToJWT()
	}
	creds := make([]sim.LinkCreds, 0, n)
	for i := 1; i <= n; i++ {
		room := fmt.Sprintf("link-%d", i)
		robot, err := sign(room, fmt.Sprintf("robot-%d", i))
		if err != nil {
			return nil, err
		}
		pupil, err := sign(room, fmt.Sprintf("pupil-%d", i))
		if err != nil {
			return nil, err
		}
		creds = append(creds, sim.LinkCreds{PupilID: room, RobotToken: robot, PupilToken: pupil})
	}
	return creds, nil
}

// livekitJoin joins one side of a link to its LiveKit room: it connects
// (auto-subscribing to the other side's tracks), publishes the tracks sim
// made (single layer, no simulcast, so LiveKit forwards the packets as
// they are, as Seatlink does), hands each subscribed track to onTrack and
// tells onPLI when the server asks the robot for a keyframe.
func livekitJoin(server string, log *slog.Logger) sim.JoinFunc {
	return func(ctx context.Context, l sim.LinkCreds, side sim.Side, tracks []webrtc.TrackLocal,
		onTrack func(*webrtc.TrackRemote), onPLI func()) (func(), error) {
		token, who := l.PupilToken, "pupil"
		if side == sim.RobotSide {
			token, who = l.RobotToken, "robot"
		} else {
			onPLI = func() {} // a pupil publishes audio only
		}
		// The SDK reads (and drops) the RTCP of a plain webrtc.TrackLocal
		// itself; only its own LocalTrack (which writes media samples, not
		// our RTP) offers an RTCP callback. So keyframe requests are caught
		// by an interceptor on the connection instead, which leaves sim's
		// TrackLocalStaticRTP packets untouched.
		keyframes := &keyframeRequests{onPLI: onPLI, log: log.With("room", l.PupilID, "side", who)}
		// TWCC sequence numbers on what we publish, as Seatlink's agent
		// (and browsers) stamp them, so the server does the same feedback
		// work for both SFUs. The SDK's defaults (NACK, RTCP reports, TWCC
		// feedback on what we receive) are kept.
		twccExt, err := twcc.NewHeaderExtensionInterceptor()
		if err != nil {
			return nil, err
		}
		cb := lksdk.NewRoomCallback()
		cb.OnTrackSubscribed = func(t *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
			go onTrack(t) // onTrack reads until the track ends
		}
		cb.OnDisconnected = func() { log.Debug("disconnected", "room", l.PupilID, "side", who) }
		room := lksdk.NewRoom(cb)
		// Room.JoinWithContextAndToken is lksdk.ConnectToRoomWithToken
		// with a context, so a stuck join ends with sim's join timeout.
		if err := room.JoinWithContextAndToken(ctx, server, token,
			lksdk.WithAutoSubscribe(true),
			lksdk.WithInterceptors([]interceptor.Factory{keyframes, twccExt}),
			lksdk.WithIncludeDefaultInterceptors(true),
		); err != nil {
			return nil, fmt.Errorf("%s %s: connect: %w", l.PupilID, who, err)
		}
		for _, t := range tracks {
			opts := &lksdk.TrackPublicationOptions{Name: t.ID(), Source: livekit.TrackSource_MICROPHONE}
			if t.Kind() == webrtc.RTPCodecTypeVideo {
				opts.Source, opts.VideoWidth, opts.VideoHeight = livekit.TrackSource_CAMERA, 640, 480 // sim's keyframes say 640x480
			}
			if _, err := room.LocalParticipant.PublishTrack(t, opts); err != nil {
				leave(room)
				return nil, fmt.Errorf("%s %s: publish %s: %w", l.PupilID, who, t.ID(), err)
			}
		}
		log.Debug("joined", "room", l.PupilID, "side", who, "tracks", len(tracks))
		return func() { leave(room) }, nil
	}
}

// leave disconnects, waiting at most a few seconds so a run always ends.
func leave(room *lksdk.Room) {
	done := make(chan struct{})
	go func() {
		room.Disconnect()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// keyframeRequests is an interceptor that calls onPLI for each PLI or FIR
// the server sends. Only the robot's video is ever asked for a keyframe.
type keyframeRequests struct {
	interceptor.NoOp
	onPLI func()
	log   *slog.Logger
}

// NewInterceptor makes it an interceptor.Factory too: the SDK builds one
// interceptor chain per peer connection, and this one is stateless.
func (k *keyframeRequests) NewInterceptor(string) (interceptor.Interceptor, error) { return k, nil }

// BindRTCPReader wraps each sender's and receiver's RTCP: the packets go
// on as they were, looked at on the way.
func (k *keyframeRequests) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := reader.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = interceptor.Attributes{}
		}
		pkts, perr := a.GetRTCPPackets(b[:n]) // parsed once, cached for the readers after us
		if perr != nil {
			return n, a, nil // malformed: let the reader after us deal with it
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				k.log.Debug("keyframe request", "rtcp", fmt.Sprintf("%T", p))
				k.onPLI()
			}
		}
		return n, a, nil
	})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
