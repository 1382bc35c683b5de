#!/usr/bin/env bash
# The network-lab measurements at full length: Seatlink across a home NAT in
# network namespaces (deploy/netlab), the pupil's page in headless Chromium,
# the line impaired as docs/BENCHMARKS.md "Networks" says, each measured for
# 30 s, and the 600 kbit/s cap test the test command leaves out. Needs root.
# Prints each measurement; copy the figures into docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "netlab: needs root (network namespaces)" >&2; exit 1; }
echo "machine: $(nproc) cores, $(uname -r), $(chromium --version 2>/dev/null || echo 'chromium ?')"
NETLAB_LONG=1 go test -count=1 -v -timeout 15m -run 'TestNet' ./deploy/netlab 2>&1 |
	grep -E '^(=== RUN|--- |ok|FAIL)|seatlink_test.go' || true
