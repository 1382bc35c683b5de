#!/usr/bin/env bash
# The packaging checks (issue 20, part 1; deploy/packaging/doc.go lists
# them): the binary built as the Dockerfile builds it, started with the
# image's settings; the compose file against the Compose Specification's
# schema; the Kubernetes overlay through kustomize and kubeconform -strict;
# the systemd units through systemd-analyze verify; every SEATLINK_* name
# and value in them against serve's own settings. No Docker engine or
# cluster is needed. kustomize and kubeconform are built once with
# go install into ~/.cache/seatlink/tools; Kubernetes' OpenAPI document and
# the ServiceMonitor CRD come from the Go module cache.
#
# Under CI=true a missing tool is a failure, never a skip. deploy/test.sh
# runs this; alone: deploy/packaging/check.sh (about 20 s once the tools
# and the Go build cache are warm).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "==> installing Debian systemd (for systemd-analyze verify)" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -qq --no-install-recommends systemd >/dev/null || true
	fi
	if ! command -v systemd-analyze >/dev/null 2>&1; then
		[ -n "${CI:-}" ] && { echo "==> systemd-analyze is missing" >&2; exit 1; }
		echo "==> systemd-analyze is missing: the unit check will be skipped" >&2
	fi
fi

# Its own module (deploy/packaging/go.mod): the root's go test ./... does
# not reach it.
GOFLAGS= go vet ./...
GOFLAGS= go test -count=1 -timeout 10m -v ./...
