#!/usr/bin/env bash
# LiveKit server as the peer SFU for the side-by-side benchmark (issue 7);
# deploy/bench/run.sh sources it. It defines:
#   seatlink_livekit_build        builds LiveKit server v1.13.11 once per
#                                 machine into ~/.cache/seatlink (outside the
#                                 repository; it is software we only run)
#   seatlink_livekit_start PORT   starts it on 127.0.0.1 only: signalling on
#                                 PORT, media on UDP PORT+2, no ICE-TCP, no
#                                 TURN, no STUN; exports LIVEKIT_PID,
#                                 LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET
#   seatlink_livekit_stop         stops it and removes its temporary folder
# The load client is deploy/bench/livekit (its own Go module).
set -euo pipefail

SEATLINK_LIVEKIT_VERSION="v1.13.11" # github.com/livekit/livekit-server, pinned
SEATLINK_LIVEKIT_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/seatlink/livekit-server-$SEATLINK_LIVEKIT_VERSION"
SEATLINK_LIVEKIT_DIR=""

seatlink_livekit_log() { printf '==> %s\n' "$*" >&2; }

# LiveKit's go.mod replaces Pion's webrtc, dtls and ice with its own forks
# (github.com/livekit/webrtc-pion/v4, livekit/dtls/v3, livekit/ice/v4),
# which is why `go install ...@v1.13.11` is refused, and the forks are not
# served by the module proxy here. So: take the release's source from the
# proxy, drop the three replace lines, drop the one call into a fork-only
# API (se.EnableSped, part of the "warp" fast-connect feature, which is off
# unless rtc.enable_warp is set), and build against upstream Pion.
seatlink_livekit_build() {
	if [ -x "$SEATLINK_LIVEKIT_BIN" ]; then
		return 0
	fi
	seatlink_livekit_log "building LiveKit server $SEATLINK_LIVEKIT_VERSION (a few minutes, once per machine)"
	seatlink_livekit_log "LiveKit $SEATLINK_LIVEKIT_VERSION is built against upstream Pion, because its Pion forks are not served by the module proxy"
	mkdir -p "$(dirname "$SEATLINK_LIVEKIT_BIN")"
	local tmp src
	tmp="$(mktemp -d /tmp/seatlink-livekit-build.XXXXXX)"
	if ! (
		set -euo pipefail
		cd "$tmp"
		export GOWORK=off GOFLAGS=
		src="$(go mod download -json "github.com/livekit/livekit-server@$SEATLINK_LIVEKIT_VERSION" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
		[ -n "$src" ] && [ -f "$src/go.mod" ] || { echo "no source for livekit-server@$SEATLINK_LIVEKIT_VERSION" >&2; exit 1; }
		cp -R "$src" "$tmp/src"
		chmod -R u+w "$tmp/src"
		cd "$tmp/src"
		sed -i '/^replace github\.com\/pion\//d' go.mod
		sed -i '/se\.EnableSped(true)/d' pkg/rtc/transport.go
		if grep -q 'github.com/livekit/\(webrtc-pion\|dtls\|ice\)' go.mod || grep -q 'EnableSped' pkg/rtc/transport.go; then
			echo "the source no longer looks like LiveKit $SEATLINK_LIVEKIT_VERSION's (replace lines or EnableSped left)" >&2
			exit 1
		fi
		GOFLAGS=-mod=mod go mod tidy
		GOFLAGS=-mod=mod go build -o "$SEATLINK_LIVEKIT_BIN.tmp" ./cmd/server
		mv "$SEATLINK_LIVEKIT_BIN.tmp" "$SEATLINK_LIVEKIT_BIN"
	) >&2; then
		rm -rf "$tmp"
		rm -f "$SEATLINK_LIVEKIT_BIN.tmp"
		seatlink_livekit_log "could not build LiveKit server $SEATLINK_LIVEKIT_VERSION"
		return 1
	fi
	rm -rf "$tmp"
	seatlink_livekit_log "LiveKit server: $SEATLINK_LIVEKIT_BIN"
}

# seatlink_livekit_start PORT_BASE
seatlink_livekit_start() {
	local base="${1:?usage: seatlink_livekit_start PORT_BASE (signalling on it, media on UDP PORT_BASE+2)}"
	if ! [[ "$base" =~ ^[0-9]+$ ]] || [ "$base" -lt 1024 ] || [ "$base" -gt 65000 ]; then
		seatlink_livekit_log "PORT_BASE $base: want 1024 to 65000"
		return 1
	fi
	if [ -n "${LIVEKIT_PID:-}" ] && kill -0 "$LIVEKIT_PID" 2>/dev/null; then
		seatlink_livekit_log "LiveKit is already running (pid $LIVEKIT_PID); seatlink_livekit_stop first"
		return 1
	fi
	if [ ! -x "$SEATLINK_LIVEKIT_BIN" ]; then
		seatlink_livekit_log "no LiveKit server at $SEATLINK_LIVEKIT_BIN: run seatlink_livekit_build first"
		return 1
	fi
	local port="$base" udp=$((base + 2)) key="seatlink-bench" secret
	secret="$(head -c 36 /dev/urandom | base64 | tr -d '/+=')" # LiveKit wants 32 characters or more
	SEATLINK_LIVEKIT_DIR="$(mktemp -d /tmp/seatlink-livekit.XXXXXX)"
	# Loopback only: signalling bound to 127.0.0.1; the UDP mux binds one
	# socket per local address that passes the IP filter, here 127.0.0.1
	# alone (loopback candidates enabled, everything else excluded); no
	# ICE-TCP listener (tcp_port 0), no TURN, no STUN (node_ip is given,
	# use_external_ip is off), no Prometheus port.
	cat >"$SEATLINK_LIVEKIT_DIR/livekit.yaml" <<-EOF
		port: $port
		bind_addresses:
		  - 127.0.0.1
		rtc:
		  udp_port: $udp
		  tcp_port: 0
		  node_ip: 127.0.0.1
		  use_external_ip: false
		  enable_loopback_candidate: true
		  ips:
		    includes:
		      - 127.0.0.1/32
		keys:
		  $key: $secret
		logging:
		  level: warn
	EOF
	chmod 600 "$SEATLINK_LIVEKIT_DIR/livekit.yaml" # it holds the secret
	"$SEATLINK_LIVEKIT_BIN" --config "$SEATLINK_LIVEKIT_DIR/livekit.yaml" >"$SEATLINK_LIVEKIT_DIR/log" 2>&1 &
	LIVEKIT_PID=$!
	local ok=""
	for _ in $(seq 1 100); do # 20 s at most
		if ! kill -0 "$LIVEKIT_PID" 2>/dev/null; then
			break
		fi
		if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then
			ok=1
			break
		fi
		sleep 0.2
	done
	if [ -z "$ok" ]; then
		seatlink_livekit_log "LiveKit did not start on 127.0.0.1:$port (UDP $udp):"
		cat "$SEATLINK_LIVEKIT_DIR/log" >&2
		seatlink_livekit_stop
		return 1
	fi
	export LIVEKIT_PID
	export LIVEKIT_URL="ws://127.0.0.1:$port"
	export LIVEKIT_API_KEY="$key"
	export LIVEKIT_API_SECRET="$secret"
	seatlink_livekit_log "LiveKit $SEATLINK_LIVEKIT_VERSION on $LIVEKIT_URL (media UDP 127.0.0.1:$udp), pid $LIVEKIT_PID"
}

seatlink_livekit_stop() {
	if [ -n "${LIVEKIT_PID:-}" ]; then
		kill "$LIVEKIT_PID" 2>/dev/null || true
		# LiveKit drains for a while on SIGTERM; give it 10 s, then end it.
		for _ in $(seq 1 50); do
			kill -0 "$LIVEKIT_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$LIVEKIT_PID" 2>/dev/null || true
		wait "$LIVEKIT_PID" 2>/dev/null || true
	fi
	if [ -n "$SEATLINK_LIVEKIT_DIR" ]; then
		rm -rf "$SEATLINK_LIVEKIT_DIR"
	fi
	SEATLINK_LIVEKIT_DIR=""
	unset LIVEKIT_PID LIVEKIT_URL LIVEKIT_API_KEY LIVEKIT_API_SECRET
}
