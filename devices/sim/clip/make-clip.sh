#!/bin/sh
# Regenerates the simulated robot's looping test clip with Debian's ffmpeg.
# video: ffmpeg's "testsrc" pattern (moving gradient, colour bars and a frame
#        counter/timestamp), 640x360 at 30 fps, VP8 in IVF, one keyframe a second
#        so a late subscriber gets a picture quickly even without a PLI; and the
#        same at lower rates for a pupil on a weak line (450 and 300 kbit/s at
#        30 fps, 200 kbit/s at 480x270 and 15 fps, 120 kbit/s at 320x180 and
#        15 fps), with keyframes at the same instants so the robot can switch.
# audio: a 440 Hz tone with a short beep each second, Opus in Ogg (with in-band
#        FEC, so a pupil on a lossy line rebuilds a lost packet from the next),
#        one 20 ms packet per Ogg page (what pion's oggreader expects).
# All are 6 s long; device-sim loops them.
set -eu
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=30 -t 6 \
	-c:v libvpx -b:v 600k -g 30 -keyint_min 30 -deadline realtime -cpu-used 8 -auto-alt-ref 0 \
	classroom.ivf
for r in 450 300; do
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=30 -t 6 \
		-c:v libvpx -b:v ${r}k -maxrate ${r}k -bufsize $((r / 2))k -g 30 -keyint_min 30 \
		-deadline realtime -cpu-used 8 -auto-alt-ref 0 classroom-${r}k.ivf
done
for r in 200:480:270 120:320:180; do
	IFS=: read -r kbps w h <<-END
	$r
	END
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=15 -t 6 -vf scale=$w:$h \
		-c:v libvpx -b:v ${kbps}k -maxrate ${kbps}k -bufsize $((kbps / 2))k -g 15 -keyint_min 15 \
		-deadline realtime -cpu-used 8 -auto-alt-ref 0 classroom-${kbps}k.ivf
done
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000" -t 6 \
	-filter:a "volume=0.5" -c:a libopus -b:a 48k -frame_duration 20 -fec 1 -packet_loss 10 -page_duration 20000 \
	classroom.ogg
