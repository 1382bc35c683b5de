#!/bin/sh
# Builds the release binaries exactly as the container image does (the
# Dockerfile runs this script; deploy/packaging/check.sh runs it too, so the
# two cannot differ): static (CGO_ENABLED=0; SQLite is pure Go), -trimpath,
# the time-zone database embedded (-tags timetzdata, a fallback for a host
# or image without /usr/share/zoneinfo: a school's Europe/London would
# otherwise fall back to UTC and shift every session by the summer hour),
# no VCS stamp and no build id, so the same source gives the same bytes.
#
#   deploy/build.sh OUTDIR     → OUTDIR/seatlink, OUTDIR/seatlink-healthcheck
#
# GOOS and GOARCH are taken from the environment (the Dockerfile sets them
# from the target platform).
set -eu
out="${1:?usage: deploy/build.sh OUTDIR}"
cd "$(dirname "$0")/.."
mkdir -p "$out"
export CGO_ENABLED=0
for pkg in ./cmd/seatlink:seatlink ./deploy/healthcheck:seatlink-healthcheck; do
	go build -trimpath -buildvcs=false -tags timetzdata -ldflags='-s -w -buildid=' \
		-o "$out/${pkg#*:}" "${pkg%%:*}"
done
