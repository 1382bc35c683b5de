#!/usr/bin/env bash
# Builds (once) and starts a throwaway MinIO server on 127.0.0.1 for the
# tests; deploy/test.sh sources it. MinIO is built with `go install` from
# the Go module proxy into a cache folder outside the repository (never
# committed; it is AGPL software we only run, as a test server).
#   source deploy/minio.sh   → sets SEATLINK_TEST_S3_ENDPOINT, _ACCESS_KEY,
#                              _SECRET_KEY, and seatlink_minio_stop
set -euo pipefail

SEATLINK_MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c" # github.com/minio/minio, pinned
SEATLINK_MINIO_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/seatlink/minio-$SEATLINK_MINIO_VERSION"
if [ ! -x "$SEATLINK_MINIO_CACHE/minio" ]; then
	echo "==> building MinIO $SEATLINK_MINIO_VERSION with go install (a few minutes, once per machine)" >&2
	mkdir -p "$SEATLINK_MINIO_CACHE"
	if ! (cd /tmp && GOBIN="$SEATLINK_MINIO_CACHE" GOFLAGS= go install "github.com/minio/minio@$SEATLINK_MINIO_VERSION") >&2; then
		echo "==> could not build MinIO" >&2
		return 1 2>/dev/null || exit 1
	fi
fi

SEATLINK_MINIO_DIR="$(mktemp -d /tmp/seatlink-minio.XXXXXX)"
SEATLINK_MINIO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((40000 + RANDOM % 20000)))"
export SEATLINK_TEST_S3_ACCESS_KEY="seatlink-test"
SEATLINK_TEST_S3_SECRET_KEY="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
export SEATLINK_TEST_S3_SECRET_KEY
MINIO_ROOT_USER="$SEATLINK_TEST_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$SEATLINK_TEST_S3_SECRET_KEY" MINIO_BROWSER=off \
	MINIO_UPDATE=off MINIO_CI_CD=1 \
	"$SEATLINK_MINIO_CACHE/minio" server --quiet --address "127.0.0.1:$SEATLINK_MINIO_PORT" "$SEATLINK_MINIO_DIR/data" \
	>"$SEATLINK_MINIO_DIR/log" 2>&1 &
SEATLINK_MINIO_PID=$!
for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$SEATLINK_MINIO_PORT/minio/health/live" >/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done
if ! curl -fsS "http://127.0.0.1:$SEATLINK_MINIO_PORT/minio/health/live" >/dev/null 2>&1; then
	echo "==> MinIO did not start:" >&2
	cat "$SEATLINK_MINIO_DIR/log" >&2
	return 1 2>/dev/null || exit 1
fi
export SEATLINK_TEST_S3_ENDPOINT="127.0.0.1:$SEATLINK_MINIO_PORT"
echo "==> MinIO on $SEATLINK_TEST_S3_ENDPOINT" >&2

seatlink_minio_stop() {
	kill "$SEATLINK_MINIO_PID" 2>/dev/null || true
	wait "$SEATLINK_MINIO_PID" 2>/dev/null || true
	rm -rf "$SEATLINK_MINIO_DIR"
}
