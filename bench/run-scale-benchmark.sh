#!/usr/bin/env bash
# Cost against log size (issue 13, "flat cost to 10 million entries"): builds Release, starts a private PostgreSQL
# cluster (fsync on) and, for each size in --sizes, grows the Rekor v1 log to that size by bulk import (the benchmark
# program's fill mode: exactly the rows the sequencer writes, made by the service's own parser, tree edge, tile
# encoding and signer, loaded with binary COPY), verifies the whole log with the service's `fsck --full`, starts the
# service and runs the log benchmark on it (appends, inclusion-proof reads, raw PostgreSQL baselines, service peak
# RSS, CPU per operation), then prints the database size per entry. A summary table ends the run. Everything it
# started is stopped on exit. It measures; it is not a test and exits 0 whatever the figures (a failed fsck stops it).
#
# Usage: bench/run-scale-benchmark.sh [--sizes N,N,...] [--clients C] [--duration S] [--read-duration S] [--warmup S]
#                                     [--batch B] [--no-fsck] [--no-fill] [--no-bench] [--keep DIR]
#                                     [--shared-buffers SIZE]
# Defaults: sizes 10000,1000000; 64 clients, 5 s warm-up, 20 s appends, 10 s reads; fill batches of 256 (one
# checkpoint each, as a sequencer batch).
#   --keep DIR  keep (or reuse) the cluster in DIR: a later run with larger sizes continues from the log it holds,
#               and a fill that was interrupted continues from the last chunk it committed.
#   --no-fill   measure the kept log as it is (no fill; --sizes then only labels the rows, use its size): with
#               --no-fsck, only the measurement phases run, for a quiet re-run on an already-checked log.
#   --no-bench  fill (and check) only: no service, no log benchmark.
#   --shared-buffers SIZE  PostgreSQL's shared_buffers for this run (e.g. 2GB; default scripts/pg.sh's 256MB). Set
#               on the cluster before anything runs, so a kept cluster always measures with what this run was told.
. "$(dirname "$0")/lib.sh"

bench_work_prefix=tlog-scale-bench
bench_keep_takes_dir=true
sizes=10000,1000000
fill_batch=256
fsck=true
fill=true
bench=true
shared_buffers=
bench_option() {
  case $1 in
    --sizes) [[ $# -ge 2 && $2 =~ ^[0-9,]+$ ]] || { echo "error: --sizes needs N,N,..." >&2; exit 2; }; sizes=$2; bench_shift=2 ;;
    --batch) [[ $# -ge 2 ]] || { echo "error: --batch needs a value" >&2; exit 2; }; fill_batch=$2; bench_shift=2 ;;
    --no-fsck) fsck=false; bench_shift=1 ;;
    --no-fill) fill=false; bench_shift=1 ;;
    --no-bench) bench=false; bench_shift=1 ;;
    --shared-buffers) [[ $# -ge 2 && $2 =~ ^[0-9]+(kB|MB|GB)$ ]] || { echo "error: --shared-buffers needs a size such as 2GB" >&2; exit 2; }
      shared_buffers=$2; bench_shift=2 ;;
  esac
}
bench_parse_args "--clients --duration --read-duration --warmup --raw-batch-rows" "$@"
[[ " ${bench_args[*]} " == *" --warmup "* ]] || bench_args+=(--warmup 5)
[[ " ${bench_args[*]} " == *" --duration "* ]] || bench_args+=(--duration 20)
[[ " ${bench_args[*]} " == *" --read-duration "* ]] || bench_args+=(--read-duration 10)

bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks
bench_work_dir
bench_start_cluster bench_log
# shared_buffers needs a restart; a kept cluster may hold another run's value, so it is set (or reset) every run.
if [[ -n $shared_buffers ]]; then
  scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -qc "ALTER SYSTEM SET shared_buffers = '$shared_buffers'" >/dev/null
else
  scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -qc "ALTER SYSTEM RESET shared_buffers" >/dev/null
fi
scripts/pg.sh stop "$work/pg" >/dev/null
scripts/pg.sh start "$work/pg" "$pgport"
echo "==> shared_buffers = $(scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -tAc 'SHOW shared_buffers')"
summary=$work/summary.txt
: >"$summary"

for size in ${sizes//,/ }; do
  if $fill; then
    echo "==> fill to $size entries ($(bench_load))"
    # A bulk load with the default max_wal_size (1 GB) checkpoints every ~400 k entries and then writes a full-page
    # image of every index page it touches again; the fill raises it and the measurement runs with the default.
    scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -qc "ALTER SYSTEM SET max_wal_size = '8GB'" -c "SELECT pg_reload_conf()" >/dev/null
    dotnet "$bench_dll" fill --admin-connection "$admin" --state-directory "$work/keys" --log-name "${bench_log_name:-bench.log.local}" \
      --entries "$size" --batch "$fill_batch" | tee "$work/fill-$size.txt"
    scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -qc "ALTER SYSTEM RESET max_wal_size" -c "SELECT pg_reload_conf()" -c "CHECKPOINT" >/dev/null
    fill_line=$(grep -E '^fill: .* entries in ' "$work/fill-$size.txt" | tail -n 1)
  else
    fill_line="fill: skipped (--no-fill), the kept log as it is"
    # An interrupted fill may have left its WAL setting behind; the measurement runs with the default.
    scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -qc "ALTER SYSTEM RESET max_wal_size" -c "SELECT pg_reload_conf()" >/dev/null
  fi
  fsck_line="(fsck skipped)"
  if $fsck; then
    echo "==> fsck --full as the service role ($(bench_load))"
    started=$(date +%s%N)
    dotnet "$service_dll" fsck --connection "$(bench_app_connection)" --password-file "$work/app-password" --full | tee "$work/fsck-$size.txt" \
      || { echo "error: fsck found the filled log inconsistent" >&2; exit 1; }
    fsck_line="fsck --full $(( ($(date +%s%N) - started) / 1000000 )) ms"
  fi
  if $bench; then
    bench_start_service
    echo "==> log benchmark at $size entries ($(bench_load))"
    dotnet "$bench_dll" log --url "http://127.0.0.1:$service_port" --service-pid "$service_pid" --admin-connection "$admin" \
      --postgres-data "$work/pg/data" "${bench_args[@]}" | tee "$work/log-$size.txt"
    bench_stop_services
  else
    echo "(no log benchmark: --no-bench)" >"$work/log-$size.txt"
  fi
  load=$(bench_load)
  storage=$(scripts/pg.sh psql "$work/pg" "$pgport" -d "$bench_db" -tA -F ' ' -c "
    SELECT l.tree_size,
           pg_total_relation_size('entries'), pg_total_relation_size('tiles'),
           pg_total_relation_size('search_index'), pg_total_relation_size('checkpoints'), pg_database_size(current_database())
    FROM logs l WHERE l.name = '${bench_log_name:-bench.log.local}'")
  read -r tree entries_b tiles_b search_b checkpoints_b database_b <<<"$storage"
  [[ ${tree:-0} -gt 0 ]] || { echo "error: the log is empty (nothing filled or appended)" >&2; exit 1; }
  echo "==> storage at $tree entries: entries $((entries_b / tree)) B/entry, tiles $((tiles_b / tree)), search index $((search_b / tree)), checkpoints $((checkpoints_b / tree)); database $((database_b / 1048576)) MiB = $((database_b / tree)) B/entry"
  {
    echo "size $size (tree $tree after the run): $(grep -m1 -E '^log appends \(POST\)' "$work/log-$size.txt" | tr -s ' ')"
    echo "    $(grep -m1 -E '^inclusion-proof reads \(GET\)' "$work/log-$size.txt" | tr -s ' ')"
    echo "    $(grep -m1 -E '^raw PG, 1 row' "$work/log-$size.txt" | tr -s ' ')"
    echo "    $(grep -E '^service CPU per (append|read)' "$work/log-$size.txt" | tr '\n' ';')"
    echo "    $(grep -E '^service peak RSS' "$work/log-$size.txt" | tr -s ' ')"
    echo "    storage per entry: entries $((entries_b / tree)) B, search index $((search_b / tree)) B, tiles $((tiles_b / tree)) B, checkpoints $((checkpoints_b / tree)) B; database $((database_b / tree)) B/entry ($((database_b / 1048576)) MiB, with the raw baselines' tables)"
    echo "    $fsck_line; $fill_line"
    echo "    shared_buffers $(scripts/pg.sh psql "$work/pg" "$pgport" -d postgres -tAc 'SHOW shared_buffers'); $load"
  } >>"$summary"
done

echo
echo "================ flat cost with size ================"
cat "$summary"
