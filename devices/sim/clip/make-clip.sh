#!/bin/sh
# Regenerates the simulated robot's looping test clip with Debian's ffmpeg.
# video: ffmpeg's "testsrc" pattern (moving gradient, colour bars and a frame
#        counter/timestamp), 640x360 at 30 fps, VP8 in IVF, one keyframe a second
#        so a late subscriber gets a picture quickly even without a PLI.
# audio: a 440 Hz tone with a short beep each second, Opus in Ogg (with in-band
#        FEC, so a pupil on a lossy line rebuilds a lost packet from the next), one 20 ms
#        packet per Ogg page (what pion's oggreader expects).
# Both are 6 s long; device-sim loops them.
set -eu
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=30 -t 6 \
	-c:v libvpx -b:v 600k -g 30 -keyint_min 30 -deadline realtime -cpu-used 8 -auto-alt-ref 0 \
	classroom.ivf
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000" -t 6 \
	-filter:a "volume=0.5" -c:a libopus -b:a 48k -frame_duration 20 -fec 1 -packet_loss 10 -page_duration 20000 \
	classroom.ogg
