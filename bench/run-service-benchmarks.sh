#!/usr/bin/env bash
# Benchmarks the CA and the timestamp authority as users run them: builds Release, starts the whole system with
# `./run.sh --background` in a temp data directory on free loopback ports (PostgreSQL with fsync on, log service with
# the CT log and TSA, development OIDC issuer, CA), then runs bench/TransparencyLog.Benchmarks in its `ca` and `tsa`
# modes against it and prints their tables. `./run.sh stop` runs on exit, whatever happened.
# It measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-service-benchmarks.sh [--only ca|tsa] [--clients C] [--duration S] [--warmup S]
#                                        [--crypto-iterations N] [--no-build] [--keep] [--pg-statements]
# Defaults: both benchmarks, 32 clients, 30 s timed (per TSA variant) after 10 s of warm-up, 2,000 crypto iterations.
#   --no-build  use the existing Release build (the services, tlog and the benchmark)
#   --keep      keep the temp data directory (logs/, pg/, keys) for debugging; processes are still stopped.
#   --pg-statements  load pg_stat_statements (track_functions = pl) in the run's cluster and print, after the CA
#               benchmark, PostgreSQL's busiest statements over the whole run (warm-up included) per CT log entry.
# The CA's rate limits are lifted for the run (Api__RateLimits__*Permits=0: zero disables a limit); other service
# settings can be varied through the environment, which every service inherits (e.g. Sequencer__BatchWindowMilliseconds=2,
# Serilog__MinimumLevel__Default=Warning).
. "$(dirname "$0")/lib.sh"

only=
build=true
pg_statements=false
bench_option() {
  case $1 in
    --only)
      [[ $# -ge 2 && $2 =~ ^(ca|tsa)$ ]] || { echo "error: --only needs ca or tsa" >&2; exit 2; }
      only=$2; bench_shift=2 ;;
    --no-build) build=false; bench_shift=1 ;;
    --pg-statements) pg_statements=true; bench_shift=1 ;;
  esac
}
bench_parse_args "--clients --duration --warmup --crypto-iterations" "$@"
scripts/pg.sh ensure-binaries
if $pg_statements; then
  export TLOG_PG_EXTRA_CONF=$'shared_preload_libraries = pg_stat_statements\ntrack_functions = pl'
fi

# Ports in distinct ranges so the five picks cannot collide with each other, all below the kernel's ephemeral range
# (32768-60999 here): a listener picked inside it can find its port taken by an outgoing connection before it binds
# (the CA once failed to start on its gRPC port after a log benchmark that opened thousands of connections).
free_port_from() {
  local base=$1 p
  while true; do
    p=$((base + RANDOM % 2400))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

export TLOG_DATA_DIR
TLOG_DATA_DIR=$(mktemp -d /tmp/tlog-service-bench.XXXXXX)
export TLOG_SKIP_BUILD=1 CONFIGURATION=$config
export PG_PORT REKOR_PORT FULCIO_PORT FULCIO_GRPC_PORT OIDC_PORT
PG_PORT=$(free_port_from 20000)
REKOR_PORT=$(free_port_from 22400)
FULCIO_PORT=$(free_port_from 24800)
FULCIO_GRPC_PORT=$(free_port_from 27200)
OIDC_PORT=$(free_port_from 29600)
# Without this the CA allows 60 requests per address and 30 per identity per minute; the option's range tops out at
# 1,000,000, so "lifted" is 0, which the CA documents as "disabled".
export Api__RateLimits__PerAddressPermits=0 Api__RateLimits__PerIdentityPermits=0

cleanup() {
  local status=$?
  ./run.sh stop >/dev/null 2>&1 || true
  if $keep; then
    echo "kept $TLOG_DATA_DIR (logs/, pg/, keys/)" >&2
  else
    rm -rf "$TLOG_DATA_DIR"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if $build; then
  # The services run.sh starts, tlog, the benchmark.
  bench_build src/TransparencyLog.LogService src/TransparencyLog.CaService src/TransparencyLog.DevIssuer src/TransparencyLog.Witness \
    src/TransparencyLog.Admission src/TransparencyLog.Cli bench/TransparencyLog.Benchmarks
fi

echo "==> ./run.sh --background (data in $TLOG_DATA_DIR)"
./run.sh --background >"$TLOG_DATA_DIR/run.log" 2>&1 || { cat "$TLOG_DATA_DIR/run.log" >&2; exit 1; }
# endpoints.env is written by run.sh for sourcing.
# shellcheck disable=SC1091
. "$TLOG_DATA_DIR/endpoints.env"
log_pid=$(cat "$TLOG_DATA_DIR/pids/log.pid")
ca_pid=$(cat "$TLOG_DATA_DIR/pids/ca.pid")
echo "    FULCIO_URL=$FULCIO_URL OIDC_ISSUER=$OIDC_ISSUER TSA_URL=$TSA_URL CT_LOG_URL=$CT_LOG_URL (log pid $log_pid, CA pid $ca_pid)"
env | grep -E '^(Api|Sequencer|Kestrel|Limits|Serilog|Issuance|Timestamping)__' | sed 's/^/    service setting: /' || true

common=(--log-pid "$log_pid" --postgres-data "$TLOG_DATA_DIR/pg/data" "${bench_args[@]}")
if [[ $only != tsa ]]; then
  echo "==> CA benchmark ($(bench_load))"
  dotnet "$bench_dll" ca --fulcio-url "$FULCIO_URL" --oidc-issuer "$OIDC_ISSUER" --ct-log-url "$CT_LOG_URL" \
    --ca-pid "$ca_pid" "${common[@]}" || echo "(the CA benchmark ended with status $?)"
  if $pg_statements; then
    echo "==> PostgreSQL statements over the whole run, per CT log entry (pg_stat_statements; warm-up included)"
    scripts/pg.sh psql "$TLOG_DATA_DIR/pg" "$PG_PORT" -d transparency_log -P pager=off -c "
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
      WITH n AS (SELECT greatest(sum(tree_size), 1) AS entries FROM logs WHERE kind = 'ct'),
           b AS (SELECT greatest(calls, 1) AS batches FROM pg_stat_user_functions WHERE funcname = 'log_append')
      SELECT n.entries, b.batches, round(n.entries::numeric / b.batches, 1) AS entries_per_batch,
             round((f.total_time * 1000 / b.batches)::numeric) AS log_append_us_per_batch,
             round((f.total_time * 1000 / n.entries)::numeric) AS log_append_us_per_entry
      FROM n, b, pg_stat_user_functions f WHERE f.funcname = 'log_append';
      SELECT round((s.total_exec_time * 1000 / n.entries)::numeric) AS us_per_entry,
             round((s.calls::numeric / n.entries), 3) AS calls_per_entry,
             round((s.total_exec_time * 1000 / greatest(s.calls, 1))::numeric) AS us_per_call,
             left(regexp_replace(s.query, '\s+', ' ', 'g'), 90) AS statement
      FROM pg_stat_statements s, (SELECT greatest(sum(tree_size), 1) AS entries FROM logs WHERE kind = 'ct') n
      ORDER BY s.total_exec_time DESC LIMIT 12;
      -- The steady-state path's totals: statements run at least once per 100 entries (set-up and one-off reads left out).
      SELECT round(sum(s.calls)::numeric / n.entries, 3) AS path_calls_per_entry,
             round((sum(s.total_exec_time) * 1000 / n.entries)::numeric) AS path_us_per_entry,
             count(*) AS path_statements
      FROM pg_stat_statements s, (SELECT greatest(sum(tree_size), 1) AS entries FROM logs WHERE kind = 'ct') n
      WHERE s.calls >= n.entries / 100.0 GROUP BY n.entries;" || true
  fi
fi
if [[ $only != ca ]]; then
  echo "==> TSA benchmark ($(bench_load))"
  dotnet "$bench_dll" tsa --tsa-url "$TSA_URL" "${common[@]}" || echo "(the TSA benchmark ended with status $?)"
fi

for service in ca log; do
  if grep -qE '"Level":"(Warning|Error|Fatal)"|\b(warn|fail|crit)\b' "$TLOG_DATA_DIR/logs/$service.log" 2>/dev/null; then
    echo "==> $service warnings and errors (last 10 of $TLOG_DATA_DIR/logs/$service.log)"
    grep -E '"Level":"(Warning|Error|Fatal)"|\b(warn|fail|crit)\b' "$TLOG_DATA_DIR/logs/$service.log" | tail -n 10
  fi
done
exit 0
