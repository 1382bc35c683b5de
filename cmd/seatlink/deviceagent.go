package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"seatlink/devices/sim"
)

// deviceAgentCmd is a Linux robot from parts: the camera and microphone
// are external pipelines writing to stdout, the pupil's voice goes to a
// player's stdin, and head, hand, face and sleep go to an actuator's stdin
// as JSON lines (docs/DEVICES.md).
func deviceAgentCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("device-agent", flag.ContinueOnError)
	rf := newRobotFlags(fs, "device-agent.json")
	videoCmd := fs.String("video-cmd", "", "a shell command writing the camera to stdout (IVF/VP8, or H.264 Annex B with -video-format h264)")
	videoKbps := fs.Int("video-kbps", 1000, "the camera's starting bitrate when -video-cmd uses $SEATLINK_VIDEO_KBPS (it then follows the pupil's line)")
	videoFormat := fs.String("video-format", "ivf", "ivf (VP8) or h264 (Annex B, constrained baseline)")
	fps := fs.Int("fps", 30, "frames a second of an h264 stream")
	audioCmd := fs.String("audio-cmd", "", "a shell command writing the microphone to stdout as Ogg/Opus (48 kHz)")
	speakerCmd := fs.String("speaker-cmd", "", "a shell command that plays Ogg/Opus from stdin (the pupil's voice)")
	actuatorCmd := fs.String("actuator-cmd", "", "a shell command that reads JSON lines on stdin (head, hand, face, sleep)")
	battery := fs.String("battery-file", "", "a file holding the battery percentage (e.g. /sys/class/power_supply/BAT0/capacity)")
	temp := fs.String("temperature-file", "", "a file holding the temperature (e.g. /sys/class/thermal/thermal_zone0/temp, millidegrees)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *videoCmd == "" {
		return errors.New("device-agent needs -video-cmd (the camera pipeline); see docs/DEVICES.md")
	}
	ctx, cancel, log, err := rf.start(ctx)
	if err != nil {
		return err
	}
	defer cancel()

	parts := &sim.Parts{VideoFormat: *videoFormat, FPS: *fps, BatteryFile: *battery, TemperatureFile: *temp}
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.Wait()
		}
	}()
	start := func(name, line string, out bool) (io.ReadCloser, io.WriteCloser, error) {
		c := exec.CommandContext(ctx, "/bin/sh", "-c", line)
		c.Stderr = os.Stderr
		c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
		c.WaitDelay = 5 * time.Second
		var r io.ReadCloser
		var w io.WriteCloser
		var err error
		if out {
			r, err = c.StdoutPipe()
		} else {
			w, err = c.StdinPipe()
		}
		if err != nil {
			return nil, nil, err
		}
		if err := c.Start(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		procs = append(procs, c)
		log.Info("pipeline started", "pipeline", name, "pid", c.Process.Pid)
		return r, w, nil
	}
	if *videoKbps < 50 || *videoKbps > 20000 {
		return errors.New("-video-kbps: want 50 to 20000")
	}
	if strings.Contains(*videoCmd, "SEATLINK_VIDEO_KBPS") {
		// The camera follows the pupil's line: the pipeline is started
		// anew at the bitrate the server relays (docs/DEVICES.md).
		parts.VideoBitrate = *videoKbps * 1000
		parts.VideoAt = sim.VideoCommand(ctx, *videoCmd, os.Stderr)
		if parts.Video, err = parts.VideoAt(parts.VideoBitrate); err != nil {
			return err
		}
		log.Info("camera pipeline follows the pupil's line", "start_kbps", *videoKbps)
	} else if parts.Video, _, err = start("camera", *videoCmd, true); err != nil {
		return err
	}
	if *audioCmd != "" {
		if parts.Audio, _, err = start("microphone", *audioCmd, true); err != nil {
			return err
		}
	}
	if *speakerCmd != "" {
		if _, parts.Speaker, err = start("speaker", *speakerCmd, false); err != nil {
			return err
		}
	}
	if *actuatorCmd != "" {
		if _, parts.Actuator, err = start("actuator", *actuatorCmd, false); err != nil {
			return err
		}
	}
	tlsConf, err := rf.tls()
	if err != nil {
		return err
	}
	robot, err := sim.New(sim.Config{Server: *rf.server, TLS: tlsConf, Token: *rf.token, EnrollCode: *rf.enroll, StatePath: *rf.state,
		ReportEvery: 30 * time.Second, Logger: log, Parts: parts})
	if err != nil {
		return err
	}
	log.Info("device-agent starting", "server", *rf.server)
	err = robot.Run(ctx)
	cancel()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
