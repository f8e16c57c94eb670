#!/usr/bin/env bash
# Measures the log explorer's page render times on a large log: builds Release, starts a private PostgreSQL cluster
# (fsync on) and the log service on free loopback ports, fills the Rekor v1 log through its API (hashedrekord entries
# under 64 certificate identities), then requests each kind of explorer page and prints p50/p95/max. Everything it
# started is stopped on exit. It measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-explorer-benchmark.sh [--entries N] [--clients C] [--samples S] [--keep DIR]
# Defaults: 1,000,000 entries, 32 clients, 30 requests per page.
#   --keep DIR  keep (or reuse) the cluster in DIR, so a filled log can be measured again without refilling it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
config=Release

keep_dir=
bench_args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --keep) [[ $# -ge 2 ]] || { echo "error: --keep needs a directory" >&2; exit 2; }; keep_dir=$2; shift 2 ;;
    --entries|--clients|--samples)
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

work=${keep_dir:-$(mktemp -d /tmp/tlog-explorer-bench.XXXXXX)}
mkdir -p "$work/keys"
service_pid=
cleanup() {
  local status=$?
  if [[ -n $service_pid ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill "$service_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$service_pid" 2>/dev/null || true
  fi
  scripts/pg.sh stop "$work/pg" || true
  [[ -n $keep_dir ]] || rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> build ($config)"
dotnet build src/TransparencyLog.LogService -c "$config" -nologo -v quiet -clp:ErrorsOnly
dotnet build bench/TransparencyLog.Benchmarks -c "$config" -nologo -v quiet -clp:ErrorsOnly
service_dll=$root/src/TransparencyLog.LogService/bin/$config/net10.0/TransparencyLog.LogService.dll
bench_dll=$root/bench/TransparencyLog.Benchmarks/bin/$config/net10.0/TransparencyLog.Benchmarks.dll

pgport=$(free_port)
echo "==> private PostgreSQL on 127.0.0.1:$pgport in $work/pg"
scripts/pg.sh start "$work/pg" "$pgport"
if ! scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'bench_explorer'" | grep -q 1; then
  scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -c "CREATE DATABASE bench_explorer"
fi
# The cluster requires passwords (scripts/pg.sh): the superuser's was generated with it, the service role's here.
admin="Host=127.0.0.1;Port=$pgport;Username=postgres;Password=$(scripts/pg.sh password "$work/pg");Database=bench_explorer"
[[ -f $work/app-password ]] || (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$work/app-password")
dotnet "$service_dll" migrate --connection "$admin" --app-role tlog_app --app-password-file "$work/app-password" --migrations "$root/migrations"

port=$(free_port)
echo "==> log service (Release) on 127.0.0.1:$port, log in $work/service.log"
(
  cd "$(dirname "$service_dll")"
  export Urls="http://127.0.0.1:$port"
  export Storage__ConnectionString="Host=127.0.0.1;Port=$pgport;Username=tlog_app;Database=bench_explorer;Maximum Pool Size=50"
  export Storage__PasswordFile="$work/app-password"
  export Logs__Rekor__Name="bench.explorer.local"
  export Logs__Rekor__StateDirectory="$work/keys"
  export Serilog__MinimumLevel__Default=Warning
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
  exec dotnet "$service_dll" --contentRoot "$(dirname "$service_dll")"
) >"$work/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 120); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done

echo "==> benchmark"
dotnet "$bench_dll" explorer --url "http://127.0.0.1:$port" "${bench_args[@]}"
