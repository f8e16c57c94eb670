#!/usr/bin/env bash
# Benchmarks witnessing: (1) the log's appends without witnesses, then with a 2-of-3 quorum of real witness processes
# (fail-closed: every append waits for two cosignatures of its checkpoint), each with bench/TransparencyLog.Benchmarks
# `log` (same clients and durations); (2) one witness's add-checkpoint capacity: `ab` re-sends the log's current
# checkpoint with `old` = its size (every request is fully checked, CAS-persisted and cosigned afresh).
# Self-contained: a private PostgreSQL cluster in a temp directory, one database for the log and one per witness.
# Prints the figures and the load average; it measures, it is not a test, and exits 0 whatever the figures.
#
# Usage: bench/run-witness-benchmark.sh [--clients C] [--duration S] [--warmup S] [--requests N] [--concurrency K] [--keep]
# Defaults: 32 clients, 20 s of appends after 30 s of warm-up per run; ab: 3,000 requests, 16 at once. The warm-up is
# long because every run starts fresh processes: a witness answering ~40 rounds/s spends its first tens of seconds in
# JIT tiering (perf: ~90 % of its samples), which a long-running witness has behind it.
. "$(dirname "$0")/lib.sh"   # set -euo pipefail, cd to the repository, root, config, free_port

clients=32 duration=20 warmup=30 requests=3000 concurrency=16 keep=false
witness_timeout=1000 witness_budget=5000
while [[ $# -gt 0 ]]; do
  case $1 in
    --clients) clients=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --witness-timeout-ms) witness_timeout=$2; shift 2 ;;
    --budget-ms) witness_budget=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) bench_help; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v ab >/dev/null || { echo "error: ab (apache2-utils) is required" >&2; exit 1; }
scripts/pg.sh ensure-binaries

work=$(mktemp -d /tmp/tlog-witness-bench.XXXXXX)
pids=()
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$? pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  scripts/pg.sh stop "$work/pg" || true
  if $keep; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> build ($config)"
for project in src/TransparencyLog.LogService src/TransparencyLog.Witness bench/TransparencyLog.Benchmarks; do
  dotnet build "$project" -c "$config" -nologo -v quiet -clp:ErrorsOnly
done
service_dll=$root/src/TransparencyLog.LogService/bin/$config/net10.0/TransparencyLog.LogService.dll
witness_dll=$root/src/TransparencyLog.Witness/bin/$config/net10.0/TransparencyLog.Witness.dll
bench_dll=$root/bench/TransparencyLog.Benchmarks/bin/$config/net10.0/TransparencyLog.Benchmarks.dll

pgport=$(free_port)
echo "==> private PostgreSQL on 127.0.0.1:$pgport in $work/pg"
scripts/pg.sh start "$work/pg" "$pgport"
superuser_password=$(scripts/pg.sh password "$work/pg")
(umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$work/app-password")
app() { echo "Host=127.0.0.1;Port=$pgport;Username=tlog_app;Database=$1;Maximum Pool Size=50"; }
for db in bench_log bench_w0 bench_w1 bench_w2; do
  scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -c "CREATE DATABASE $db" >/dev/null
  dotnet "$service_dll" migrate --connection "Host=127.0.0.1;Port=$pgport;Username=postgres;Password=$superuser_password;Database=$db" \
    --app-role tlog_app --app-password-file "$work/app-password" --migrations "$root/migrations" >/dev/null
done

wait_ready() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 600); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "error: process exited; see $log" >&2; tail -n 20 "$log" >&2; exit 1; }
    sleep 0.2
  done
  echo "error: $url did not become ready" >&2; exit 1
}

log_port=
start_log() {
  local name=$1; shift
  log_port=$(free_port)
  (
    cd "$(dirname "$service_dll")"
    export Urls="http://127.0.0.1:$log_port" Storage__ConnectionString="$(app bench_log)" Storage__PasswordFile="$work/app-password"
    export Logs__Rekor__Name=bench.log.local Logs__Rekor__StateDirectory="$work/keys" Serilog__MinimumLevel__Default=Warning
    export ASPNETCORE_ENVIRONMENT=Production
    exec env "$@" dotnet "$service_dll" --contentRoot "$(dirname "$service_dll")"
  ) >"$work/log-$name.log" 2>&1 &
  pids+=($!)
  log_pid=$!
  wait_ready "http://127.0.0.1:$log_port" "$!" "$work/log-$name.log"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, in clock ticks
log_pid=
witness_pids=()
run_appends() {
  echo "==> appends: $1 ($clients clients, ${warmup} s warm-up, ${duration} s measured); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  local before=() pid i=0 size0 size1
  for pid in "${witness_pids[@]}"; do before+=("$(cpu_ticks "$pid")"); done
  size0=$(curl -fsS "http://127.0.0.1:$log_port/checkpoint" | sed -n 2p)
  dotnet "$bench_dll" log --url "http://127.0.0.1:$log_port" --admin-connection "Host=127.0.0.1;Port=$pgport;Username=postgres;Password=$superuser_password;Database=bench_log" \
    --service-pid "$log_pid" --postgres-data "$work/pg/data" \
    --clients "$clients" --duration "$duration" --warmup "$warmup" --read-duration 0 2>&1 \
    | grep -iE 'append|p50|p99|entries/s|appends/s|POST|CPU|service +postgres|^\|' | sed 's/^/    /' || true
  size1=$(curl -fsS "http://127.0.0.1:$log_port/checkpoint" | sed -n 2p)
  witness_ticks=()
  for pid in "${witness_pids[@]}"; do
    # Over warm-up and measurement: every entry appended in between.
    witness_ticks+=("$(( $(cpu_ticks "$pid") - before[i] ))")
    echo "    witness w$i CPU: $(awk -v t="${witness_ticks[i]}" -v hz="$(getconf CLK_TCK)" -v n="$((size1 - size0))" \
      'BEGIN { per = n > 0 ? t / hz * 1e6 / n : 0; printf "%.2f s for %d entries, %.0f µs per entry", t / hz, n, per }')"
    i=$((i + 1))
  done
  echo "    load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# 1. Without witnesses.
mkdir -p "$work/keys"
start_log plain
origin=$(curl -fsS "http://127.0.0.1:$log_port/checkpoint" | head -n 1)
vkey=$(curl -fsS "http://127.0.0.1:$log_port/api/v1/log/verifierKey")
run_appends "no witnesses"
stop_pid "${pids[-1]}"; unset 'pids[-1]'

# 2. Three witnesses, each its own database and key; the log needs two cosignatures per checkpoint (fail-closed).
policy=$work/witness-policy.txt
: >"$policy"
witness_ports=()
for i in 0 1 2; do
  port=$(free_port); witness_ports+=("$port")
  name="w$i.bench.local"
  wvkey=$(Witness__Name=$name Witness__StateDirectory="$work/w$i" dotnet "$witness_dll" verifier-key)
  echo "witness w$i $wvkey http://127.0.0.1:$port/" >>"$policy"
  (
    cd "$(dirname "$witness_dll")"
    export Urls="http://127.0.0.1:$port" Storage__ConnectionString="$(app "bench_w$i")" Storage__PasswordFile="$work/app-password"
    export Witness__Name=$name Witness__StateDirectory="$work/w$i" Witness__Logs__0__Origin="$origin" Witness__Logs__0__VerifierKeys__0="$vkey"
    export Witness__Logs__0__Burst=1000000 Witness__Logs__0__RequestsPerSecond=1000000 Serilog__MinimumLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production
    exec dotnet "$witness_dll" --contentRoot "$(dirname "$witness_dll")"
  ) >"$work/w$i.log" 2>&1 &
  pids+=($!)
  witness_pids+=($!)
  wait_ready "http://127.0.0.1:$port" "$!" "$work/w$i.log"
done
printf 'group main 2 w0 w1 w2\nquorum main\n' >>"$policy"
start_log witnessed Witnessing__PolicyFile="$policy" Witnessing__Mode=FailClosed \
  Witnessing__WitnessTimeoutMilliseconds="$witness_timeout" Witnessing__BudgetMilliseconds="$witness_budget"
run_appends "2-of-3 witness quorum, fail-closed (witness timeout $witness_timeout ms, budget $witness_budget ms)"
scrape=$(curl -fsS "http://127.0.0.1:$log_port/metrics")
echo "    quorum waits: $(grep -E '^tlog_witness_quorum_wait_seconds_(count|sum)' <<<"$scrape" | tr '\n' ' ')"
echo "    witness failures: $(grep -E '^tlog_witness_failures_total' <<<"$scrape" | tr '\n' ' ')"
echo "    cosignature latency: $(grep -E '^tlog_witness_cosignature_seconds_(count|sum)' <<<"$scrape" | tr '\n' ' ')"
for i in 0 1 2; do
  # Every add-checkpoint the witness answered, by status (409: stale old size; 499: the log gave up on it), and the
  # witness's CPU per answer (its CPU over the run above; it answered nothing before).
  answers=$(curl -fsS "http://127.0.0.1:${witness_ports[$i]}/metrics" | grep -E '^http_requests_received_total\{.*add-checkpoint' \
    | sed -E 's/.*code="([0-9]+)".* ([0-9.e+]+)$/\1: \2/' | tr '\n' ' ')
  echo "    witness w$i answers: $answers($(awk -v t="${witness_ticks[i]}" -v hz="$(getconf CLK_TCK)" -v a="$answers" \
    'BEGIN { n = split(a, f, " "); for (k = 2; k <= n; k += 2) total += f[k]; per = total > 0 ? t / hz * 1e6 / total : 0; printf "%d in all, %.0f µs CPU per answer", total, per }'))"
done

# 3. One witness's capacity: the log's current checkpoint, re-sent with old = its size.
note=$(curl -fsS "http://127.0.0.1:$log_port/api/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["signedTreeHead"], end="")')
size=$(sed -n 2p <<<"$note")
# $(...) dropped the note's final newline, which a signed note needs.
printf 'old %s\n\n%s\n' "$size" "$note" >"$work/add-checkpoint.txt"
url="http://127.0.0.1:${witness_ports[0]}/add-checkpoint"
status=$(curl -s -o "$work/add-checkpoint.answer" -w '%{http_code}' --data-binary "@$work/add-checkpoint.txt" "$url")
if [[ $status == 409 ]]; then
  # The witness cosigned an older size (fail-closed rounds that missed the quorum still advance a witness): prove from it.
  old_size=$(tr -d '\n' <"$work/add-checkpoint.answer")
  proof=$(curl -fsS "http://127.0.0.1:$log_port/api/v1/log/proof?firstSize=$old_size&lastSize=$size" \
    | python3 -c 'import base64,json,sys; [print(base64.b64encode(bytes.fromhex(h)).decode()) for h in json.load(sys.stdin)["hashes"]]')
  { printf 'old %s\n' "$old_size"; [[ -n $proof ]] && printf '%s\n' "$proof"; printf '\n%s\n' "$note"; } >"$work/add-checkpoint-first.txt"
  status=$(curl -s -o "$work/add-checkpoint.answer" -w '%{http_code}' --data-binary "@$work/add-checkpoint-first.txt" "$url")
fi
[[ $status == 200 ]] || { echo "error: the witness answered $status to the benchmark request: $(head -c 300 "$work/add-checkpoint.answer")" >&2; exit 1; }
echo "==> witness add-checkpoint: $requests requests, $concurrency at once (tree size $size); load average $(cut -d' ' -f1-3 /proc/loadavg)"
ab -q -k -n "$requests" -c "$concurrency" -p "$work/add-checkpoint.txt" -T text/plain "$url" \
  | grep -E 'Requests per second|Non-2xx|Failed requests|50%|99%|100%' | sed 's/^/    /'
echo "    load average after: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
