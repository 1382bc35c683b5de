#!/usr/bin/env bash
# Builds the server, starts it on loopback, measures the machine's UDP
# ceiling, runs the load test at several sizes against it and, turn about,
# against LiveKit server (the peer SFU, deploy/bench/livekit.sh), and
# writes docs/BENCHMARKS.md.
#   deploy/bench/run.sh                 # sizes 10 50 100, 10 s each, twice
#   SIZES="10 50" SECONDS_EACH=10 REPEATS=1 deploy/bench/run.sh
#   PEER=off deploy/bench/run.sh        # Seatlink alone
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-10 50 100}"
SECONDS_EACH="${SECONDS_EACH:-10}"
PEER="${PEER:-livekit}"
REPEATS="${REPEATS:-2}"
work="$(mktemp -d /tmp/seatlink-bench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }

log "building"
go build -o "$work/seatlink" ./cmd/seatlink
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((40000 + RANDOM % 20000)); }
http="127.0.0.1:$(free_port)"
media="127.0.0.1:$(free_port)"
pprof="127.0.0.1:$(free_port)"
metrics="127.0.0.1:$(free_port)"

log "server on $http (media $media)"
"$work/seatlink" serve --demo --demo-robot=false --http-addr "$http" --media-udp "$media" --media-tcp off \
	--log-level warn --pprof-addr "$pprof" --metrics-addr "$metrics" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
source deploy/bench/livekit.sh
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; seatlink_livekit_stop; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q '^admin login:' "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
read -r _ _ email password < <(grep '^admin login:' "$work/serve.out")
export SEATLINK_LOADTEST_ADMIN_PASSWORD="$password"
# Resident memory in MiB from /proc, the same way for both servers.
rss_mib() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }
rss_mib "$pid" >"$work/idle-seatlink.txt"

log "the machine's UDP ceiling"
go run ./deploy/bench/udpceil -seconds 3 -json >"$work/ceiling.json"

# The peer runs beside Seatlink, each size alternating between the two
# servers REPEATS times, so the machine's drift (it is shared) falls on
# both alike; the idle server meanwhile costs next to nothing.
lk=""
if [ "$PEER" = livekit ]; then
	if seatlink_livekit_build && (cd deploy/bench/livekit && go build -o "$work/lkload" .) &&
		seatlink_livekit_start "$(free_port)"; then
		lk=1
		sleep 2
		rss_mib "$LIVEKIT_PID" >"$work/idle-livekit.txt"
	else
		log "LiveKit could not be built or started: the comparison is left out"
	fi
fi

last="${SIZES##* }"
for n in $SIZES; do
	for r in $(seq 1 "$REPEATS"); do
		tag="$(printf '%04d' "$n")-$r"
		log "Seatlink: $n links for ${SECONDS_EACH}s (run $r of $REPEATS)"
		if [ "$n" = "$last" ] && [ "$r" = 1 ]; then
			# Profile the server in the middle of the largest run.
			( sleep "$(( n / 25 + 3 + SECONDS_EACH / 3 ))"
			  curl -fsS -o "$work/cpu.prof" "http://$pprof/debug/pprof/profile?seconds=$(( SECONDS_EACH / 2 > 1 ? SECONDS_EACH / 2 : 1 ))" ) &
			profiler=$!
		fi
		"$work/seatlink" loadtest --server "http://$http" --metrics "http://$metrics/metrics" --admin-email "$email" --links "$n" --seconds "$SECONDS_EACH" \
			--ramp 25 --server-pid "$pid" --json "$work/links-$tag.json" || log "the run at $n links reported failures"
		wait "${profiler:-}" 2>/dev/null || true
		if [ -n "$lk" ]; then
			log "LiveKit: $n links for ${SECONDS_EACH}s (run $r of $REPEATS)"
			"$work/lkload" --links "$n" --seconds "$SECONDS_EACH" --ramp 25 --server-pid "$LIVEKIT_PID" \
				--json "$work/peer-$tag.json" || log "LiveKit's run at $n links reported failures"
		fi
	done
done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
seatlink_livekit_stop
if [ -s "$work/cpu.prof" ]; then
	go tool pprof -top -cum "$work/seatlink" "$work/cpu.prof" 2>/dev/null | head -40 >"$work/profile.txt" || true
fi

go run ./deploy/bench/report -dir "$work" -out docs/BENCHMARKS.md
log "wrote docs/BENCHMARKS.md"
