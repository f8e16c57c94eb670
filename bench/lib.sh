# Sourced by the bench/run-*.sh scripts (free ports, the Release build, a private cluster, images pushed to a registry);
# not run on its own.
# What each of them repeated: option parsing, the Release build, a private PostgreSQL cluster (fsync on) in a temp
# directory, a migrated database with the service role, log-service processes on free loopback ports, and stopping
# everything they started on exit.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_parse_args "--clients --duration" "$@"       # sets keep, keep_dir, bench_args; --help prints the header
#   bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks
#   bench_start_cluster bench_log                     # sets pgport, admin, work/pg; migrates as tlog_app
#   bench_start_service                               # sets service_pid, service_port (also kept in service_pids)
#
# Variables the caller may set before sourcing: bench_work_prefix (temp directory name, default tlog-bench).
# Service settings come from the environment (Sequencer__*, Kestrel__*, ...), which every service inherits.
set -euo pipefail

bench_script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
config=${config:-Release}
# TLOG_BENCH_SERVICE_DLL runs another build of the service (an A/B against an older commit built elsewhere) with this
# checkout's scripts and load generator.
service_dll=${TLOG_BENCH_SERVICE_DLL:-$root/src/TransparencyLog.LogService/bin/$config/net10.0/TransparencyLog.LogService.dll}
bench_dll=$root/bench/TransparencyLog.Benchmarks/bin/$config/net10.0/TransparencyLog.Benchmarks.dll
tlog_dll=$root/src/TransparencyLog.Cli/bin/$config/net10.0/tlog.dll

keep=false
keep_dir=
bench_args=()
service_pids=()
service_pid=
service_port=
pgport=
admin=
work=

command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

# bench_parse_args "VALUE_OPTIONS" "$@": each option named in VALUE_OPTIONS takes one value and is passed on to the
# benchmark program in bench_args; --keep keeps the temp directory (--keep DIR, when the script allows it through
# bench_keep_takes_dir=true, keeps or reuses DIR); -h/--help prints the script's header comment. A script with options
# of its own defines bench_option, which handles "$@" and sets bench_shift to the number of words it used (0: not its).
bench_parse_args() {
  local value_options=" $1 " name
  shift
  while [[ $# -gt 0 ]]; do
    name=$1
    bench_shift=0
    if declare -F bench_option >/dev/null; then
      bench_option "$@"
      if [[ $bench_shift -gt 0 ]]; then shift "$bench_shift"; continue; fi
    fi
    case $name in
      --keep)
        if [[ ${bench_keep_takes_dir:-false} == true ]]; then
          [[ $# -ge 2 ]] || { echo "error: --keep needs a directory" >&2; exit 2; }
          keep_dir=$2; keep=true; shift 2
        else
          keep=true; shift
        fi ;;
      -h|--help) bench_help; exit 0 ;;
      *)
        if [[ $value_options == *" $name "* ]]; then
          [[ $# -ge 2 ]] || { echo "error: $name needs a value" >&2; exit 2; }
          bench_args+=("$name" "$2"); shift 2
        else
          echo "error: unknown option $name (see --help)" >&2; exit 2
        fi ;;
    esac
  done
}

# The header comment of the running script (its lines after the shebang, up to the first line that is not a comment).
bench_help() {
  sed -n '2,/^[^#]/p' "$bench_script" | sed '$d' | sed 's/^# \{0,1\}//'
}

free_port() {
  local p
  while true; do
    # Below the kernel's ephemeral range (32768 and up), where outgoing connections could take it before the bind.
    p=$((20000 + RANDOM % 12000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# Images pushed straight to the registry at $REGISTRY (host:port, plain HTTP) with the distribution API and curl, as
# the image and admission benchmarks do; they write cfg.json and m.json in the current directory.
push_blob() { # repo file -> digest
  local d="sha256:$(sha256sum "$2" | cut -d' ' -f1)" loc
  loc=$(curl -fsS -X POST -D - -o /dev/null "http://$REGISTRY/v2/$1/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
  [[ $loc == http* ]] || loc="http://$REGISTRY$loc"
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$2" "$loc$([[ $loc == *\?* ]] && echo '&' || echo '?')digest=$d" >/dev/null
  echo "$d"
}

push_image() { # repo tag -> digest (a distinct config per repo and tag, no layers)
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Labels":{"n":"%s"}}}' "$1-$2" >cfg.json
  local c; c=$(push_blob "$1" cfg.json)
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[]}' "$c" "$(stat -c%s cfg.json)" >m.json
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @m.json "http://$REGISTRY/v2/$1/manifests/$2" >/dev/null
  echo "sha256:$(sha256sum m.json | cut -d' ' -f1)"
}

bench_build() {
  echo "==> build ($config)"
  local project
  for project in "$@"; do
    dotnet build "$project" -c "$config" -nologo -v quiet -clp:ErrorsOnly
  done
}

# The machine's load average beside every figure: on a shared machine it says how much the figures are worth.
bench_load() {
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores at $(date -u +%H:%M:%SZ)"
}

bench_stop_service() {
  local pid=$1
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

bench_stop_services() {
  local pid
  for pid in "${service_pids[@]}"; do bench_stop_service "$pid"; done
  service_pids=()
}

bench_cleanup() {
  local status=$?
  bench_stop_services
  [[ -n $work && -n $pgport ]] && { scripts/pg.sh stop "$work/pg" || true; }
  if [[ -n $work ]]; then
    if $keep; then
      echo "kept $work (service*.log, pg/postgres.log, pg/data)" >&2
    else
      rm -rf "$work"
    fi
  fi
  exit "$status"
}

# bench_work_dir: the temp directory (or --keep DIR) every file of the run goes to; installs the exit trap.
bench_work_dir() {
  work=${keep_dir:-$(mktemp -d "/tmp/${bench_work_prefix:-tlog-bench}.XXXXXX")}
  mkdir -p "$work/keys"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# bench_start_cluster DB: a private cluster in $work/pg on a free port (fsync on, synchronous_commit on), database DB
# (kept if it exists, as with --keep DIR), migrated with the service's own migrate command; the service role tlog_app
# gets a random password in $work/app-password.
bench_start_cluster() {
  local db=$1
  scripts/pg.sh ensure-binaries
  [[ -n $work ]] || bench_work_dir
  pgport=$(free_port)
  echo "==> private PostgreSQL on 127.0.0.1:$pgport (fsync on, synchronous_commit on) in $work/pg"
  scripts/pg.sh start "$work/pg" "$pgport"
  # pg_stat_statements, so the benchmark can count the statements each operation costs (it needs a restart to load).
  if ! scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -tAc "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
    scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
    scripts/pg.sh stop "$work/pg" >/dev/null
    scripts/pg.sh start "$work/pg" "$pgport"
  fi
  if ! scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -c "CREATE DATABASE $db" >/dev/null
  fi
  bench_db=$db
  # The cluster requires passwords (scripts/pg.sh): the superuser's was generated with it, the service role's here.
  admin="Host=127.0.0.1;Port=$pgport;Username=postgres;Password=$(scripts/pg.sh password "$work/pg");Database=$db"
  [[ -f $work/app-password ]] || (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$work/app-password")
  dotnet "$service_dll" migrate --connection "$admin" --app-role tlog_app --app-password-file "$work/app-password" --migrations "$root/migrations" >/dev/null
}

# The service role's connection string (password in $work/app-password), as the service and fsck use it.
bench_app_connection() {
  echo "Host=127.0.0.1;Port=$pgport;Username=tlog_app;Database=$bench_db;Maximum Pool Size=${bench_pool_size:-8}"
}

# bench_start_service [NAME]: one log-service process (Release) on a free loopback port, Serilog at Warning, its log in
# $work/service[-NAME].log; the Rekor v1 log is named bench.log.local with its key in $work/keys (every process of a
# run shares log and key). Waits until /readyz answers. Sets service_pid and service_port.
bench_start_service() {
  local name=${1:-} log
  log=$work/service${name:+-$name}.log
  service_port=$(free_port)
  echo "==> log service${name:+ $name} (Release) on 127.0.0.1:$service_port, log in $log"
  (
    cd "$(dirname "$service_dll")"
    export Urls="http://127.0.0.1:$service_port"
    export Storage__ConnectionString
    Storage__ConnectionString=$(bench_app_connection)
    export Storage__PasswordFile="$work/app-password"
    export Logs__Rekor__Name="${bench_log_name:-bench.log.local}"
    export Logs__Rekor__StateDirectory="$work/keys"
    export Serilog__MinimumLevel__Default=Warning
    export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production
    # A dotted name is no shell identifier, so env sets it.
    exec env "Serilog__MinimumLevel__Override__Microsoft.Hosting.Lifetime=Warning" dotnet "$service_dll" --contentRoot "$(dirname "$service_dll")"
  ) >"$log" 2>&1 &
  service_pid=$!
  service_pids+=("$service_pid")
  env | grep -E '^(Sequencer|Kestrel|Limits|Storage)__' | grep -v -E '^Storage__(ConnectionString|PasswordFile)=' | sed 's/^/    service setting: /' || true
  for _ in $(seq 600); do
    if curl -fsS "http://127.0.0.1:$service_port/readyz" >/dev/null 2>&1; then
      bench_wait_tile_summaries
      return 0
    fi
    kill -0 "$service_pid" 2>/dev/null || { echo "error: the log service exited; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.2
  done
  echo "error: the log service did not become ready in 120 s; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
}

# The service computes its full tiles' summaries in the background at start-up (Storage:TileSummaryWarmup): waited
# for, so that its CPU and PostgreSQL's reads do not land in a measured phase. A build without it has no such series.
bench_wait_tile_summaries() {
  local started=$SECONDS
  for _ in $(seq 1500); do
    curl -fsS "http://127.0.0.1:$service_port/metrics" 2>/dev/null | grep -q '^tlog_tile_summary_warmup_running 1' || {
      (( SECONDS > started )) && echo "    tile summaries computed at start-up in ~$((SECONDS - started)) s"
      return 0
    }
    sleep 0.2
  done
  echo "warning: the tile summaries' start-up pass still ran after 300 s; measuring anyway" >&2
}

# Warnings and errors the services wrote (they log at Warning), so a run that had failures shows why.
bench_service_warnings() {
  local log
  for log in "$work"/service*.log; do
    [[ -s $log ]] || continue
    echo "==> service warnings and errors (last 20 lines of $log)"
    tail -n 20 "$log"
  done
}
