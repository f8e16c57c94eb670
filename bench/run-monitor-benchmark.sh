#!/usr/bin/env bash
# Benchmarks `tlog monitor` against the log service as deployed: builds Release, starts a private PostgreSQL cluster
# (fsync on) and the real service on a free loopback port, fills the log, then measures the monitor's catch-up rate
# from index 0 over tiles (entries/s) and the alert latency from an append's request to the webhook receiving the
# match, with the daemon woken by the entry stream (p50/p99/max). Everything it started is stopped on exit. It
# measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-monitor-benchmark.sh [--entries N] [--samples S] [--keep]
# Defaults: 20,000 entries, 100 latency samples.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
config=Release

keep=false
bench_args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --keep) keep=true; shift ;;
    --entries|--samples)
      [[ $# -ge 2 ]] || { echo "error: $1 needs a value" >&2; exit 2; }
      bench_args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
scripts/pg.sh ensure-binaries

free_port() {
  local p
  while true; do
    p=$((20000 + RANDOM % 30000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

work=$(mktemp -d /tmp/tlog-monitor-bench.XXXXXX)
service_pid=
cleanup() {
  local status=$?
  if [[ -n $service_pid ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill "$service_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$service_pid" 2>/dev/null || true
  fi
  scripts/pg.sh stop "$work/pg" || true
  if $keep; then
    echo "kept $work (service.log, pg/postgres.log, pg/data)" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> build ($config)"
dotnet build src/TransparencyLog.LogService -c "$config" -nologo -v quiet -clp:ErrorsOnly
dotnet build bench/TransparencyLog.Benchmarks -c "$config" -nologo -v quiet -clp:ErrorsOnly
dotnet build src/TransparencyLog.Cli -c "$config" -nologo -v quiet -clp:ErrorsOnly
tlog_dll=$root/src/TransparencyLog.Cli/bin/$config/net10.0/tlog.dll
service_dll=$root/src/TransparencyLog.LogService/bin/$config/net10.0/TransparencyLog.LogService.dll
bench_dll=$root/bench/TransparencyLog.Benchmarks/bin/$config/net10.0/TransparencyLog.Benchmarks.dll

pgport=$(free_port)
echo "==> private PostgreSQL on 127.0.0.1:$pgport (fsync on, synchronous_commit on) in $work/pg"
scripts/pg.sh start "$work/pg" "$pgport"
scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -c "CREATE DATABASE bench_log"
# The cluster requires passwords (scripts/pg.sh): the superuser's was generated with it, the service role's here.
admin="Host=127.0.0.1;Port=$pgport;Username=postgres;Password=$(scripts/pg.sh password "$work/pg");Database=bench_log"
(umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$work/app-password")
dotnet "$service_dll" migrate --connection "$admin" --app-role tlog_app --app-password-file "$work/app-password" --migrations "$root/migrations"

port=$(free_port)
echo "==> log service (Release) on 127.0.0.1:$port, log in $work/service.log"
mkdir -p "$work/keys"
(
  cd "$(dirname "$service_dll")"
  export Urls="http://127.0.0.1:$port"
  export Storage__ConnectionString="Host=127.0.0.1;Port=$pgport;Username=tlog_app;Database=bench_log;Maximum Pool Size=50"
  export Storage__PasswordFile="$work/app-password"
  export Logs__Rekor__Name="bench.log.local"
  export Logs__Rekor__StateDirectory="$work/keys"
  export Serilog__MinimumLevel__Default=Warning
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
  # A dotted name is no shell identifier, so env sets it.
  exec env "Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime=Warning" dotnet "$service_dll" --contentRoot "$(dirname "$service_dll")"
) >"$work/service.log" 2>&1 &
service_pid=$!
env | grep -E '^(Sequencer|Kestrel|Limits)__' | sed 's/^/    service setting: /' || true

for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "==> benchmark"
dotnet "$bench_dll" monitor --url "http://127.0.0.1:$port" --tlog "$tlog_dll" "${bench_args[@]}"

if [[ -s $work/service.log ]]; then
  echo "==> service warnings and errors (last 20 lines of $work/service.log)"
  tail -n 20 "$work/service.log"
fi
