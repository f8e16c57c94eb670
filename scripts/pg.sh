#!/usr/bin/env bash
# A private PostgreSQL cluster for local runs and tests: its own data directory, port and socket directory.
# Usage: scripts/pg.sh {ensure-binaries|start DIR PORT|stop DIR|status DIR|psql DIR PORT [args...]}
# PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged user (postgres, else tlogpg).
set -euo pipefail

pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir)
    [[ -x $d/initdb ]] && { echo "$d"; return; }
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/initdb ]] && { echo "$d"; return; }
  done
  return 1
}

ensure_binaries() {
  if pg_bindir >/dev/null; then return; fi
  echo "PostgreSQL server binaries not found; installing them with apt-get" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: PostgreSQL is missing and this user cannot apt-get install it (install postgresql-15)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  pg_bindir >/dev/null || { echo "error: PostgreSQL installation failed" >&2; exit 1; }
}

run_user() {
  if [[ $(id -u) -ne 0 ]]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id tlogpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin tlogpg
  echo tlogpg
}

as_user() {
  local user=$1; shift
  if [[ $(id -u) -eq 0 ]]; then
    # runuser keeps the environment small and needs no password; cd / avoids "could not change directory" noise.
    (cd / && runuser -u "$user" -- "$@")
  else
    "$@"
  fi
}

start() {
  local dir=$1 port=$2 bin user
  ensure_binaries
  bin=$(pg_bindir)
  user=$(run_user)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # Every directory above the cluster must be traversable by the cluster's user.
  local p=$dir
  while [[ $p != / ]]; do p=$(dirname "$p"); [[ $(id -u) -eq 0 ]] && chmod o+x "$p" 2>/dev/null || true; done
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_user "$user" mkdir -p "$dir/data" "$dir/socket"
    as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
CONF
  fi
  as_user "$user" mkdir -p "$dir/socket"
  if as_user "$user" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return 0; fi
  as_user "$user" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir/socket" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || { tail -n 30 "$dir/postgres.log" >&2; exit 1; }
}

stop() {
  local dir=$1 bin user
  [[ -f $dir/data/PG_VERSION ]] || return 0
  bin=$(pg_bindir) || return 0
  user=$(run_user)
  as_user "$user" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

psql_cmd() {
  local dir=$1 port=$2; shift 2
  local bin; bin=$(pg_bindir)
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"
}

case "${1:-}" in
  ensure-binaries) ensure_binaries ;;
  bindir) pg_bindir ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  status) bin=$(pg_bindir); as_user "$(run_user)" "$bin/pg_ctl" -D "$2/data" status ;;
  psql) shift; psql_cmd "$@" ;;
  *) echo "usage: $0 {ensure-binaries|bindir|start DIR PORT|stop DIR|status DIR|psql DIR PORT [psql args]}" >&2; exit 2 ;;
esac
