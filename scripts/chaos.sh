#!/usr/bin/env bash
# Fault trials of the log service (by hand, not in CI): SIGKILL of the service and crashes of PostgreSQL under three
# concurrent writers, then a verifier that holds the log to everything it acknowledged. See docs/reliability.md.
#
#   scripts/chaos.sh [--kills N] [--pg-crashes N] [--max-seconds S] [--rate R] [--out DIR] [--pg-port P] [--port P]
#       runs until N service kills (default 100) and N PostgreSQL crashes (default 20) are done, in random order,
#       or until S seconds have passed (then verifies what was done); several instances may run side by side
#   scripts/chaos.sh --soak SECONDS [--rate R] [--out DIR] ...
#       no faults: the three writers for SECONDS while the service's RSS is sampled; prints the soak table
#
# Each trial lets the writers append for 1-4 s, then either SIGKILLs the log service (kill -9) and restarts it after
# 0-1 s, or stops PostgreSQL with `pg_ctl -m immediate` (a crash: no checkpoint, WAL replay on start) and starts it
# again after 0-2 s while the service keeps running; the trial ends when /healthz answers again. Writers
# (TransparencyLog.Benchmarks chaos-write, R appends/s each, default 4) record every 201 with its index, body and
# checkpoint, and every signed tree head they read. At the end the verifier (chaos-verify) reads the whole log
# through its entry bundles and checks: every acknowledged entry at its index with the same body, no index
# acknowledged twice, no gap, every checkpoint seen verifies, matches the recomputed root of its size and is proved
# consistent with the final head; then `TransparencyLog.LogService fsck` when the service has that subcommand.
# Everything (cluster, keys, records, logs) lives under --out (default /tmp/tlog-chaos); exits 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kills=100 pg_crashes=20 rate=4 soak=0 max_seconds=0 out=/tmp/tlog-chaos pg_port=55431 port=3091
while (($#)); do
    case $1 in
        --kills) kills=$2; shift 2 ;;
        --pg-crashes) pg_crashes=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --soak) soak=$2; shift 2 ;;
        --max-seconds) max_seconds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --pg-port) pg_port=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done

if [[ ${TLOG_SKIP_BUILD:-} != 1 ]]; then
    dotnet build src/TransparencyLog.LogService -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
    dotnet build bench/TransparencyLog.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
fi
service_dll=$root/src/TransparencyLog.LogService/bin/Release/net10.0/TransparencyLog.LogService.dll
bench_dll=$root/bench/TransparencyLog.Benchmarks/bin/Release/net10.0/TransparencyLog.Benchmarks.dll

rm -rf "$out"
mkdir -p "$out/keys" "$out/records"
pg_dir=$out/pg
url=http://127.0.0.1:$port
log() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/trials.log"; }

# --- PostgreSQL: a private cluster; crashed with pg_ctl -m immediate as the cluster's own user --------------------
scripts/pg.sh start "$pg_dir" "$pg_port"
scripts/pg.sh psql "$pg_dir" "$pg_port" -d postgres -qc "CREATE DATABASE transparency_log" >/dev/null
admin="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=transparency_log"
app_connection="Host=127.0.0.1;Port=$pg_port;Username=tlog_app;Database=transparency_log;Maximum Pool Size=30"
admin_auth=() app_auth=() service_auth=()
if [[ -f $pg_dir/superuser-password ]]; then
    # A cluster with password authentication (scripts/pg.sh): as run.sh does, the service role gets its own password.
    app_password_file=$out/keys/pg-app-password
    (umask 077; od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$app_password_file")
    admin_auth=(--password-file "$pg_dir/superuser-password")
    app_auth=(--app-password-file "$app_password_file")
    service_auth=("Storage__PasswordFile=$app_password_file")
fi
dotnet "$service_dll" migrate --connection "$admin" "${admin_auth[@]}" --app-role tlog_app "${app_auth[@]}" \
    --migrations "$root/migrations" >"$out/migrate.log"
pg_ctl_bin=$(ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1)
pg_user=$(stat -c %U "$pg_dir/data")
pg_crash() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u "$pg_user" -- "$pg_ctl_bin" -D "$pg_dir/data" -m immediate stop) >/dev/null
    else
        "$pg_ctl_bin" -D "$pg_dir/data" -m immediate stop >/dev/null
    fi
}

# --- the log service -----------------------------------------------------------------------------------------------
service_pid=
start_service() {
    Storage__ConnectionString="$app_connection" \
    Logs__Rekor__Name="127.0.0.1:$port" \
    Logs__Rekor__StateDirectory="$out/keys" \
    Timestamping__Development__StateDirectory="$out/keys/tsa" \
    Urls="$url" \
    env "${service_auth[@]}" dotnet "$service_dll" --contentRoot "$root/src/TransparencyLog.LogService" >>"$out/service.log" 2>&1 &
    service_pid=$!
}
start_exits=0
wait_healthy() {
    local i
    for i in $(seq 1 600); do
        curl -fsS -m 5 "$url/healthz" >/dev/null 2>&1 && return 0
        if ! kill -0 "$service_pid" 2>/dev/null; then
            # The service exits when it cannot open its logs at start-up (e.g. PostgreSQL still recovering, or too slow
            # to answer on a loaded machine): a supervisor would start it again, and so does this script.
            start_exits=$((start_exits + 1))
            echo "$(date -u +%H:%M:%S) the service exited during start-up ($start_exits so far; see service.log); starting it again" >>"$out/trials.log"
            start_service
        fi
        sleep 0.5
    done
    return 1
}

writers=()
cleanup() {
    touch "$out/stop"
    for pid in "${writers[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
    scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_service
wait_healthy || { echo "the log service did not start; see $out/service.log" >&2; exit 1; }
for w in 1 2 3; do
    dotnet "$bench_dll" chaos-write --url "$url" --name "writer$w" --rate "$rate" \
        --out "$out/records/writer$w.jsonl" --stop-file "$out/stop" >"$out/writer$w.log" 2>&1 &
    writers+=($!)
done

failures=0
started=$(date +%s)
if ((soak > 0)); then
    log "soak: ${soak}s, 3 writers at $rate appends/s each"
    : >"$out/rss.txt"
    until (($(date +%s) - started >= soak)); do
        echo "$(date +%s%3N) $(awk '/^VmRSS/ {print $2}' "/proc/$service_pid/status")" >>"$out/rss.txt"
        sleep 10
    done
else
    done_kills=0 done_pg=0 trial=0
    log "trials: $kills service kills and $pg_crashes PostgreSQL crashes, 3 writers at $rate appends/s each"
    while ((done_kills < kills || done_pg < pg_crashes)); do
        if ((max_seconds > 0 && $(date +%s) - started >= max_seconds)); then
            log "time limit of ${max_seconds}s reached: stopping the trials here"
            break
        fi
        trial=$((trial + 1))
        sleep "$((RANDOM % 4 + 1)).$((RANDOM % 10))"
        # PostgreSQL crashes are spread over the run: picked with the share still to do.
        if ((RANDOM % (kills - done_kills + pg_crashes - done_pg) < pg_crashes - done_pg)); then
            pg_crash
            sleep "$((RANDOM % 3)).$((RANDOM % 10))"
            scripts/pg.sh start "$pg_dir" "$pg_port"
            done_pg=$((done_pg + 1))
            what="PostgreSQL crash $done_pg/$pg_crashes"
        else
            if ! kill -9 "$service_pid" 2>/dev/null; then
                log "trial $trial: the log service had exited on its own (see $out/service.log)"
                failures=$((failures + 1))
            fi
            wait "$service_pid" 2>/dev/null || true
            sleep "0.$((RANDOM % 10))"
            start_service
            done_kills=$((done_kills + 1))
            what="service kill $done_kills/$kills"
        fi
        if wait_healthy; then
            log "trial $trial: $what; healthy again; acknowledged so far $(cat "$out"/records/*.jsonl | grep -c '"type":"ack"' || true)"
        else
            log "trial $trial: $what; NOT healthy after 300 s"
            failures=$((failures + 1))
        fi
    done
fi

touch "$out/stop"
for pid in "${writers[@]}"; do wait "$pid" || failures=$((failures + 1)); done
writers=()
cat "$out"/writer*.log | tee -a "$out/trials.log"
elapsed=$(($(date +%s) - started))

acks=()
for f in "$out"/records/*.jsonl; do acks+=(--acks "$f"); done
if ! dotnet "$bench_dll" chaos-verify --url "$url" "${acks[@]}" | tee -a "$out/trials.log"; then
    failures=$((failures + 1))
fi
if grep -q '"fsck"' "$root/src/TransparencyLog.LogService/Program.cs"; then
    if dotnet "$service_dll" fsck --connection "$admin" "${admin_auth[@]}" --full 2>&1 | tee "$out/fsck.log" | tail -5 | tee -a "$out/trials.log"; [[ ${PIPESTATUS[0]} -ne 0 ]]; then
        log "fsck: FAILED (see $out/fsck.log)"
        failures=$((failures + 1))
    else
        log "fsck: passed"
    fi
else
    log "fsck: not available in this build; the verifier recomputed the root from every entry instead"
fi
if ((soak > 0)); then
    dotnet "$bench_dll" chaos-soak-report --rss "$out/rss.txt" "${acks[@]}" --bucket 300 | tee "$out/soak.md" | tee -a "$out/trials.log"
fi
if ((soak == 0)); then
    log "trials: $done_kills service kills, $done_pg PostgreSQL crashes"
fi
log "done in ${elapsed}s; service exits during start-up: $start_exits; failures: $failures"
((failures == 0))
