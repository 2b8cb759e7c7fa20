#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the contract tests and print its URL.
# Usage: scripts/postgres-test-server.sh start|stop [DIR]   (installs Debian's postgresql when missing)
set -euo pipefail
cmd=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/vidlens-pg}
port_file="$dir/port"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "$cmd" = stop ]; then
  [ -n "$bindir" ] && [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  exit 0
fi
if [ -z "$bindir" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd -r -m postgres; fi
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
if [ -n "${VIDLENS_PG_PORT:-}" ]; then port=$VIDLENS_PG_PORT
elif [ -f "$port_file" ]; then port=$(cat "$port_file")
else port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
echo "$port" > "$port_file"
if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_pg "$bindir/initdb" -D "$dir/data" -U vidlens --auth=trust -E UTF8 --no-sync >/dev/null
fi
if ! as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
fi
as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U vidlens -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='vidlens_test'" | grep -q 1 || \
  as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U vidlens vidlens_test
echo "postgresql+psycopg://vidlens@127.0.0.1:$port/vidlens_test"
