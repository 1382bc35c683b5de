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

seatlink_pebble_version="v2.10.3" # github.com/letsencrypt/pebble/v2, pinned
seatlink_pebble_cache="${XDG_CACHE_HOME:-$HOME/.cache}/seatlink/pebble-$seatlink_pebble_version"
if [ ! -x "$seatlink_pebble_cache/pebble" ]; then
	echo "==> building pebble $seatlink_pebble_version with go install (once per machine)" >&2
	mkdir -p "$seatlink_pebble_cache"
	if ! (cd /tmp && GOBIN="$seatlink_pebble_cache" GOFLAGS= go install "github.com/letsencrypt/pebble/v2/cmd/pebble@$seatlink_pebble_version") >&2; then
		echo "==> could not build pebble" >&2
		return 1 2>/dev/null || exit 1
	fi
fi

# The module's own folder holds the test certificates (go install above
# downloaded it; download again in case the module cache was cleaned).
if ! seatlink_pebble_moddir="$(cd /tmp && GOFLAGS= go mod download -json "github.com/letsencrypt/pebble/v2@$seatlink_pebble_version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || [ ! -f "$seatlink_pebble_moddir/test/certs/pebble.minica.pem" ]; then
	echo "==> could not find pebble's test certificates" >&2
	return 1 2>/dev/null || exit 1
fi
export SEATLINK_TEST_PEBBLE="$seatlink_pebble_cache/pebble"
export SEATLINK_TEST_PEBBLE_DIR="$seatlink_pebble_moddir"
echo "==> pebble $seatlink_pebble_version at $SEATLINK_TEST_PEBBLE" >&2
