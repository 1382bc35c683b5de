#!/usr/bin/env bash
# Builds (once) mailpit, a real SMTP server that keeps what it receives
# and shows it over HTTP, for the mail tests; deploy/test.sh sources it.
# Each test starts its own mailpit (with its own STARTTLS certificate) from
# the binary this names. Built with `go install` from the Go module proxy
# into a cache folder outside the repository (never committed).
#   source deploy/mailpit.sh   → sets SEATLINK_MAILPIT (the binary)
set -euo pipefail

SEATLINK_MAILPIT_VERSION="v1.33.1" # github.com/axllent/mailpit, pinned
SEATLINK_MAILPIT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/seatlink/mailpit-$SEATLINK_MAILPIT_VERSION"
if [ ! -x "$SEATLINK_MAILPIT_CACHE/mailpit" ]; then
	echo "==> building mailpit $SEATLINK_MAILPIT_VERSION with go install (a minute, once per machine)" >&2
	mkdir -p "$SEATLINK_MAILPIT_CACHE"
	if ! (cd /tmp && GOBIN="$SEATLINK_MAILPIT_CACHE" GOFLAGS= go install "github.com/axllent/mailpit@$SEATLINK_MAILPIT_VERSION") >&2; then
		echo "==> could not build mailpit" >&2
		return 1 2>/dev/null || exit 1
	fi
fi
export SEATLINK_MAILPIT="$SEATLINK_MAILPIT_CACHE/mailpit"
