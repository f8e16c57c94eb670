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
#                                     [--batch B] [--no-fsck] [--keep DIR]
# Defaults: sizes 10000,1000000; 64 clients, 5 s warm-up, 20 s appends, 10 s reads; fill batches of 256 (one
# checkpoint each, as a sequencer batch).
#   --keep DIR  keep (or reuse) the cluster in DIR: a later run with larger sizes continues from the log it holds.
. "$(dirname "$0")/lib.sh"

bench_work_prefix=tlog-scale-bench
bench_keep_takes_dir=true
sizes=10000,1000000
fill_batch=256
fsck=true
bench_option() {
  case $1 in
    --sizes) [[ $# -ge 2 && $2 =~ ^[0-9,]+$ ]] || { echo "error: --sizes needs N,N,..." >&2; exit 2; }; sizes=$2; bench_shift=2 ;;
    --batch) [[ $# -ge 2 ]] || { echo "error: --batch needs a value" >&2; exit 2; }; fill_batch=$2; bench_shift=2 ;;
    --no-fsck) fsck=false; bench_shift=1 ;;
  esac
}
bench_parse_args "--clients --duration --read-duration --warmup --raw-batch-rows" "$@"
[[ " ${bench_args[*]} " == *" --warmup "* ]] || bench_args+=(--warmup 5)
[[ " ${bench_args[*]} " == *" --duration "* ]] || bench_args+=(--duration 20)
[[ " ${bench_args[*]} " == *" --read-duration "* ]] || bench_args+=(--read-duration 10)

bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks
bench_work_dir
bench_start_cluster bench_log
summary=$work/summary.txt
: >"$summary"

for size in ${sizes//,/ }; do
  echo "==> fill to $size entries ($(bench_load))"
  dotnet "$bench_dll" fill --admin-connection "$admin" --state-directory "$work/keys" --log-name "${bench_log_name:-bench.log.local}" \
    --entries "$size" --batch "$fill_batch" | tee "$work/fill-$size.txt"
  fsck_line="(fsck skipped)"
  if $fsck; then
    echo "==> fsck --full as the service role ($(bench_load))"
    started=$(date +%s%N)
    dotnet "$service_dll" fsck --connection "$(bench_app_connection)" --password-file "$work/app-password" --full | tee "$work/fsck-$size.txt" \
      || { echo "error: fsck found the filled log inconsistent" >&2; exit 1; }
    fsck_line="fsck --full $(( ($(date +%s%N) - started) / 1000000 )) ms"
  fi
  bench_start_service
  echo "==> log benchmark at $size entries ($(bench_load))"
  dotnet "$bench_dll" log --url "http://127.0.0.1:$service_port" --service-pid "$service_pid" --admin-connection "$admin" \
    --postgres-data "$work/pg/data" "${bench_args[@]}" | tee "$work/log-$size.txt"
  load=$(bench_load)
  bench_stop_services
  storage=$(scripts/pg.sh psql "$work/pg" "$pgport" -d "$bench_db" -tA -F ' ' -c "
    SELECT l.tree_size,
           pg_total_relation_size('entries'), pg_total_relation_size('tiles'),
           pg_total_relation_size('search_index'), pg_total_relation_size('checkpoints'), pg_database_size(current_database())
    FROM logs l WHERE l.name = '${bench_log_name:-bench.log.local}'")
  read -r tree entries_b tiles_b search_b checkpoints_b database_b <<<"$storage"
  echo "==> storage at $tree entries: entries $((entries_b / tree)) B/entry, tiles $((tiles_b / tree)), search index $((search_b / tree)), checkpoints $((checkpoints_b / tree)); database $((database_b / 1048576)) MiB = $((database_b / tree)) B/entry"
  {
    echo "size $size (tree $tree after the run): $(grep -m1 -E '^log appends \(POST\)' "$work/log-$size.txt" | tr -s ' ')"
    echo "    $(grep -m1 -E '^inclusion-proof reads \(GET\)' "$work/log-$size.txt" | tr -s ' ')"
    echo "    $(grep -m1 -E '^raw PG, 1 row' "$work/log-$size.txt" | tr -s ' ')"
    echo "    $(grep -E '^service CPU per (append|read)' "$work/log-$size.txt" | tr '\n' ';')"
    echo "    $(grep -E '^service peak RSS' "$work/log-$size.txt" | tr -s ' ')"
    echo "    database $((database_b / tree)) B/entry ($((database_b / 1048576)) MiB); $fsck_line; $(grep -E '^fill:' "$work/fill-$size.txt" | tail -n 1)"
    echo "    $load"
  } >>"$summary"
done

echo
echo "================ flat cost with size ================"
cat "$summary"
