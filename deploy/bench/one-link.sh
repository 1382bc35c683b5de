#!/usr/bin/env bash
# Measures the server's CPU while it forwards one link: a device-sim robot
# (VP8 ~0.5 Mbit/s + Opus) and a pupil in headless Chromium (fake mic),
# each in its own process, all on loopback. Reports the server's CPU-seconds
# (utime+stime from /proc) over a fixed window, the forwarded rate from
# /metrics, and their ratio.
#   usage: deploy/bench/one-link.sh [seconds]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-30}"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/seatlink" ./cmd/seatlink
port=$((20000 + RANDOM % 20000))
"$tmp/seatlink" serve --demo --demo-robot=false --http-addr "127.0.0.1:$port" \
	--media-udp "127.0.0.1:$((port + 1))" --media-tcp off --metrics-addr "127.0.0.1:$((port + 2))" --log-level warn >"$tmp/out" 2>"$tmp/err" &
server=$!; pids+=("$server")
for _ in $(seq 100); do grep -q "robot token" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
join="$(sed -n 's/^pupil join link: //p' "$tmp/out")"
robot="$(sed -n 's/^robot token: //p' "$tmp/out")"
"$tmp/seatlink" device-sim -server "http://127.0.0.1:$port" -token "$robot" -log-level warn -duration "$((secs + 20))s" &
pids+=("$!")
chromium --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --use-fake-device-for-media-stream --use-fake-ui-for-media-stream \
	--autoplay-policy=no-user-gesture-required --user-data-dir="$tmp/chrome" "$join" >/dev/null 2>&1 &
pids+=("$!")
sleep 8 # join, ICE, first keyframe

metric() { curl -s "http://127.0.0.1:$((port + 2))/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
hz="$(getconf CLK_TCK)"
b0="$(metric seatlink_sfu_forwarded_rtp_bytes_total)"; p0="$(metric seatlink_sfu_forwarded_rtp_packets_total)"; t0="$(ticks)"
sleep "$secs"
b1="$(metric seatlink_sfu_forwarded_rtp_bytes_total)"; p1="$(metric seatlink_sfu_forwarded_rtp_packets_total)"; t1="$(ticks)"
rss="$(awk '/VmRSS/ { print $2 }' "/proc/$server/status")"
awk -v b0="$b0" -v b1="$b1" -v p0="$p0" -v p1="$p1" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v s="$secs" \
	-v cores="$(nproc)" -v rss="$rss" 'BEGIN {
	cpu = (t1 - t0) / hz; mbps = (b1 - b0) * 8 / s / 1e6
	printf "window %d s on %d cores: server CPU %.2f s = %.1f%% of one core\n", s, cores, cpu, 100 * cpu / s
	printf "forwarded %.2f Mbit/s, %.0f packets/s; resident memory %.1f MiB\n", mbps, (p1 - p0) / s, rss / 1024
	if (mbps > 0) printf "server CPU-seconds per forwarded Mbit/s (per second): %.4f\n", (cpu / s) / mbps
}'
