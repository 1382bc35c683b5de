#!/usr/bin/env bash
# Builds (once) Let's Encrypt's test ACME server, pebble, for the ACME test
# (cmd/seatlink/acme_test.go starts it itself, on ports it chooses);
# deploy/test.sh sources this. Pebble is built with `go install` from the
# Go module proxy into a cache folder outside the repository, never added
# to go.mod (it is a test server we only run).
#   source deploy/pebble.sh  → sets SEATLINK_TEST_PEBBLE (the binary) and
#                              SEATLINK_TEST_PEBBLE_DIR (pebble's module:
#                              test/certs/pebble.minica.pem trusts the
#                              directory's own HTTPS, whose certificate and
#                              key are test/certs/localhost/{cert,key}.pem)
set -euo pipefail

SEATLINK_PEBBLE_VERSION="v2.10.3" # github.com/letsencrypt/pebble/v2, pinned
SEATLINK_PEBBLE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/seatlink/pebble-$SEATLINK_PEBBLE_VERSION"
if [ ! -x "$SEATLINK_PEBBLE_CACHE/pebble" ]; then
	echo "==> building pebble $SEATLINK_PEBBLE_VERSION with go install (once per machine)" >&2
	mkdir -p "$SEATLINK_PEBBLE_CACHE"
	if ! (cd /tmp && GOBIN="$SEATLINK_PEBBLE_CACHE" GOFLAGS= go install "github.com/letsencrypt/pebble/v2/cmd/pebble@$SEATLINK_PEBBLE_VERSION") >&2; then
		echo "==> could not build pebble" >&2
		return 1 2>/dev/null || exit 1
	fi
fi

# The module's own folder holds the test certificates (go install above
# downloaded it; download again in case the module cache was cleaned).
if ! SEATLINK_PEBBLE_MODDIR="$(cd /tmp && GOFLAGS= go mod download -json "github.com/letsencrypt/pebble/v2@$SEATLINK_PEBBLE_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || [ ! -f "$SEATLINK_PEBBLE_MODDIR/test/certs/pebble.minica.pem" ]; then
	echo "==> could not find pebble's test certificates" >&2
	return 1 2>/dev/null || exit 1
fi
export SEATLINK_TEST_PEBBLE="$SEATLINK_PEBBLE_CACHE/pebble"
export SEATLINK_TEST_PEBBLE_DIR="$SEATLINK_PEBBLE_MODDIR"
echo "==> pebble $SEATLINK_PEBBLE_VERSION at $SEATLINK_TEST_PEBBLE" >&2
