#!/usr/bin/env bash
# A private PostgreSQL cluster for local runs and tests: its own data directory, port and socket directory.
# Usage: scripts/pg.sh {ensure-binaries|start DIR PORT|standby DIR PORT PRIMARY_DIR PRIMARY_PORT|stop DIR|status DIR|
#                       password DIR|psql DIR PORT [args...]}
# standby: a hot standby of the cluster in PRIMARY_DIR (pg_basebackup -R, streaming replication), read-only, same
# superuser password, on its own port; stop it like any cluster.
# PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged user (postgres, else tlogpg).
# Every connection, over TCP or the socket, authenticates with a password (scram-sha-256): the superuser's is
# generated at initdb into DIR/superuser-password (mode 0600, the cluster user's), and the socket directory is
# private to the cluster user (0700). No local user can connect as superuser and switch the log's triggers off.
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

# The superuser password: 32 random hex digits, readable only by the cluster's user (and root).
new_password() {
  local file=$1 user=$2
  (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$file")
  [[ $(id -u) -eq 0 ]] && chown "$user" "$file"
  chmod 600 "$file"
}

write_hba() {
  local dir=$1 user=$2
  as_user "$user" tee "$dir/data/pg_hba.conf" >/dev/null <<HBA
# Written by scripts/pg.sh: every connection authenticates with a password; nothing is trusted.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
host    replication   all   127.0.0.1/32   scram-sha-256
HBA
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
  chmod 700 "$dir"
  local password_file=$dir/superuser-password
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_user "$user" mkdir -p "$dir/data" "$dir/socket"
    new_password "$password_file" "$user"
    as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
      --pwfile="$password_file" --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
unix_socket_permissions = 0700
password_encryption = scram-sha-256
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
CONF
    # Measurement only (never set by run.sh): extra settings for a new cluster, e.g.
    # TLOG_PG_EXTRA_CONF=$'shared_preload_libraries = pg_stat_statements\ntrack_functions = pl' for per-statement CPU.
    [[ -n ${TLOG_PG_EXTRA_CONF:-} ]] && printf '%s\n' "$TLOG_PG_EXTRA_CONF" >>"$dir/data/postgresql.conf"
    write_hba "$dir" "$user"
  fi
  as_user "$user" mkdir -p "$dir/socket"
  chmod 700 "$dir/socket"
  if ! as_user "$user" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_user "$user" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir/socket" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$dir/postgres.log" >&2; exit 1; }
  fi
  if [[ ! -f $password_file ]]; then
    # A cluster made by an older pg.sh trusts every local user: give the superuser a password (sent on stdin, never
    # on a command line), then require it everywhere.
    new_password "$password_file" "$user"
    as_user "$user" "$bin/psql" -h "$dir/socket" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q -f - \
      <<<"ALTER ROLE postgres PASSWORD '$(cat "$password_file")'" >/dev/null
    write_hba "$dir" "$user"
    as_user "$user" "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
    echo "scripts/pg.sh: $dir now requires passwords (superuser password in $password_file)" >&2
  fi
}

standby() {
  local dir=$1 port=$2 primary=$3 primary_port=$4 bin user
  ensure_binaries
  bin=$(pg_bindir)
  user=$(run_user)
  primary=$(cd "$primary" && pwd)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local p=$dir
  while [[ $p != / ]]; do p=$(dirname "$p"); [[ $(id -u) -eq 0 ]] && chmod o+x "$p" 2>/dev/null || true; done
  [[ $(id -u) -eq 0 ]] && chown "$user" "$dir"
  chmod 700 "$dir"
  # A primary made before replication was allowed: allow it (for 127.0.0.1 with the password, like every connection).
  if ! grep -q '^host *replication' "$primary/data/pg_hba.conf"; then
    write_hba "$primary" "$user"
    as_user "$user" "$bin/pg_ctl" -D "$primary/data" reload >/dev/null
  fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    as_user "$user" mkdir -p "$dir/socket"
    # The password reaches pg_basebackup (and the standby's primary_conninfo) through a passfile, never a command line.
    cp "$primary/superuser-password" "$dir/superuser-password"
    [[ $(id -u) -eq 0 ]] && chown "$user" "$dir/superuser-password"
    chmod 600 "$dir/superuser-password"
    (umask 077; echo "127.0.0.1:$primary_port:*:postgres:$(cat "$primary/superuser-password")" >"$dir/pgpass")
    [[ $(id -u) -eq 0 ]] && chown "$user" "$dir/pgpass"
    as_user "$user" env PGPASSFILE="$dir/pgpass" "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
      -D "$dir/data" -R -X stream -c fast >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    # The copied postgresql.conf names the primary's port and socket; later lines win.
    as_user "$user" tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
port = $port
unix_socket_directories = '$dir/socket'
hot_standby = on
CONF
  fi
  as_user "$user" mkdir -p "$dir/socket"
  chmod 700 "$dir/socket"
  if ! as_user "$user" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_user "$user" "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir/socket" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
      || { tail -n 30 "$dir/postgres.log" >&2; exit 1; }
  fi
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
  PGPASSWORD=$(cat "$dir/superuser-password") "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"
}

case "${1:-}" in
  ensure-binaries) ensure_binaries ;;
  bindir) pg_bindir ;;
  start) start "$2" "$3" ;;
  standby) standby "$2" "$3" "$4" "$5" ;;
  stop) stop "$2" ;;
  status) bin=$(pg_bindir); as_user "$(run_user)" "$bin/pg_ctl" -D "$2/data" status ;;
  password) cat "$2/superuser-password" ;;
  psql) shift; psql_cmd "$@" ;;
  *) echo "usage: $0 {ensure-binaries|bindir|start DIR PORT|standby DIR PORT PRIMARY_DIR PRIMARY_PORT|stop DIR|status DIR|password DIR|psql DIR PORT [psql args]}" >&2; exit 2 ;;
esac
