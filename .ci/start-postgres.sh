#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite and create its database.
#
# Installs nothing: the `postgresql` package must already be there (.ci/run apt-installs it).
# The server listens on 127.0.0.1 only (port $EXTRACTOR_PG_PORT, default 5433) with trust
# authentication, so there is no password to leak; its data lives in a fresh temp directory.
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
#
# stdout is exactly one line, the database URL, so CI can do:
#   EXTRACTOR_TEST_PG_URL="$(bash .ci/start-postgres.sh)"; export EXTRACTOR_TEST_PG_URL
# Progress and errors go to stderr. If a server already answers on the port, it is reused.
set -euo pipefail

port="${EXTRACTOR_PG_PORT:-5433}"
database="${EXTRACTOR_PG_DB:-extractor_test}"
log() { echo "start-postgres: $*" >&2; }

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
    bindir="$candidate"
    break
  fi
done
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null 2>&1; then
  bindir="$(dirname "$(command -v pg_ctl)")"
fi
if [ -z "$bindir" ]; then
  log "no PostgreSQL server binaries found (install the Debian package 'postgresql')"
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  server_user=postgres
  if ! id "$server_user" >/dev/null 2>&1; then
    log "running as root but there is no '$server_user' user to run the server as"
    exit 1
  fi
  as_server_user() { runuser -u "$server_user" -- "$@"; }
else
  server_user="$(id -un)"
  as_server_user() { "$@"; }
fi

if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  log "a server already answers on 127.0.0.1:$port; reusing it"
else
  workdir="$(mktemp -d "${TMPDIR:-/tmp}/extractor-pg.XXXXXX")"
  chmod 755 "$workdir"
  [ "$(id -u)" -eq 0 ] && chown "$server_user": "$workdir"
  if ! as_server_user "$bindir/initdb" -D "$workdir/data" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$workdir/initdb.log" 2>&1; then
    log "initdb failed:"
    cat "$workdir/initdb.log" >&2
    exit 1
  fi
  if ! as_server_user "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $workdir -c fsync=off" start >&2; then
    log "the server did not start; its log:"
    tail -n 30 "$workdir/server.log" >&2 || true
    exit 1
  fi
  log "PostgreSQL from $bindir is running on 127.0.0.1:$port (data: $workdir/data)"
  log "stop it with: runuser -u $server_user -- $bindir/pg_ctl -D $workdir/data stop"
fi

exists="$("$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$database'")"
if [ "$exists" != "1" ]; then
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
  log "created database $database"
fi

echo "postgresql://postgres@127.0.0.1:$port/$database"
