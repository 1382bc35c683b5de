#!/usr/bin/env bash
# Builds the server, starts it on loopback, measures the machine's UDP
# ceiling, runs the load test at several sizes and writes docs/BENCHMARKS.md.
#   deploy/bench/run.sh                 # sizes 10 50 100, 20 s each
#   SIZES="10 50" SECONDS_EACH=10 deploy/bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-10 50 100}"
SECONDS_EACH="${SECONDS_EACH:-20}"
work="$(mktemp -d /tmp/seatlink-bench.XXXXXX)"
log() { printf '==> %s\n' "$*" >&2; }

log "building"
go build -o "$work/seatlink" ./cmd/seatlink
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((40000 + RANDOM % 20000)); }
http="127.0.0.1:$(free_port)"
media="127.0.0.1:$(free_port)"
pprof="127.0.0.1:$(free_port)"

log "server on $http (media $media)"
"$work/seatlink" serve --demo --demo-robot=false --http-addr "$http" --media-udp "$media" --media-tcp off \
	--log-level warn --pprof-addr "$pprof" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q '^admin login:' "$work/serve.out" 2>/dev/null && break; sleep 0.2; done
read -r _ _ email password < <(grep '^admin login:' "$work/serve.out")
export SEATLINK_LOADTEST_ADMIN_PASSWORD="$password"

log "the machine's UDP ceiling"
go run ./deploy/bench/udpceil -seconds 3 -json >"$work/ceiling.json"

last="${SIZES##* }"
for n in $SIZES; do
	log "load test: $n links for ${SECONDS_EACH}s"
	if [ "$n" = "$last" ]; then
		# Profile the server in the middle of the largest run.
		( sleep "$(( n / 25 + 3 + SECONDS_EACH / 3 ))"
		  curl -fsS -o "$work/cpu.prof" "http://$pprof/debug/pprof/profile?seconds=$(( SECONDS_EACH / 2 > 1 ? SECONDS_EACH / 2 : 1 ))" ) &
		profiler=$!
	fi
	"$work/seatlink" loadtest --server "http://$http" --admin-email "$email" --links "$n" --seconds "$SECONDS_EACH" \
		--ramp 25 --json "$work/links-$(printf '%04d' "$n").json" || log "the run at $n links reported failures"
done
wait "${profiler:-}" 2>/dev/null || true
if [ -s "$work/cpu.prof" ]; then
	go tool pprof -top -cum "$work/seatlink" "$work/cpu.prof" 2>/dev/null | head -40 >"$work/profile.txt" || true
fi

go run ./deploy/bench/report -dir "$work" -out docs/BENCHMARKS.md
log "wrote docs/BENCHMARKS.md"
