#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1 for the tests and prints the
# environment to use it; deploy/test.sh sources it. PostgreSQL refuses to
# run as root, so as root the server runs as the postgres user.
#   source deploy/postgres.sh   → sets SEATLINK_TEST_DATABASE_URL, and
#                                 seatlink_pg_stop to stop it
set -euo pipefail

seatlink_pg_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

if ! PGBIN="$(seatlink_pg_bin)"; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "==> installing Debian postgresql" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends postgresql >/dev/null
		PGBIN="$(seatlink_pg_bin)"
	else
		echo "==> PostgreSQL is not installed and we are not root" >&2
		return 1 2>/dev/null || exit 1
	fi
fi

SEATLINK_PG_DIR="$(mktemp -d /tmp/seatlink-pg.XXXXXX)"
run_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$SEATLINK_PG_DIR"
# A free port: ask the kernel for one.
SEATLINK_PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((40000 + RANDOM % 20000)))"
run_pg "$PGBIN/initdb" -D "$SEATLINK_PG_DIR/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
run_pg "$PGBIN/pg_ctl" -D "$SEATLINK_PG_DIR/data" -l "$SEATLINK_PG_DIR/log" -w -t 60 \
	-o "-p $SEATLINK_PG_PORT -k $SEATLINK_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
	start >/dev/null
export SEATLINK_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$SEATLINK_PG_PORT/postgres?sslmode=disable"
echo "==> PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$SEATLINK_PG_PORT" >&2

seatlink_pg_stop() {
	run_pg "$PGBIN/pg_ctl" -D "$SEATLINK_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$SEATLINK_PG_DIR"
}
