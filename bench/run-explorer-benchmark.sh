#!/usr/bin/env bash
# Measures the log explorer's page render times on a large log: builds Release, starts a private PostgreSQL cluster
# (fsync on) and the log service on free loopback ports, fills the Rekor v1 log (through its API, or by bulk import
# with --fill) with hashedrekord entries under 64 certificate identities, then requests each kind of explorer page
# (searches by identity, digest, index and UUID, a deep result page, the entry, log and health pages) one after another
# and prints p50/p99/max of the wall time and of the database's time per request: the cluster logs every statement's
# executor time through auto_explain (log_analyze on, log_timing off) while the pages are measured, and the program
# sums it per request between markers it writes into the server log. Each page's line ends with the load average.
# Everything it started is stopped on exit. It measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-explorer-benchmark.sh [--entries N] [--clients C] [--samples S] [--keep DIR] [--fill]
# Defaults: 1,000,000 entries, 32 clients, 100 requests per page.
#   --keep DIR  keep (or reuse) the cluster in DIR, so a filled log can be measured again without refilling it; the
#               database and log are those of the other log benchmarks, so a cluster kept by
#               bench/run-scale-benchmark.sh --keep DIR (filled by bulk import) is measured as it is.
#   --fill      grow the log to --entries by bulk import (the fill mode of bench/run-scale-benchmark.sh, what the
#               sequencer writes) before the service starts, instead of through the API.
. "$(dirname "$0")/lib.sh"

bench_work_prefix=tlog-explorer-bench
bench_keep_takes_dir=true
fill=false
bench_option() { [[ $1 == --fill ]] && { fill=true; bench_shift=1; }; return 0; }
bench_parse_args "--entries --clients --samples" "$@"
bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks
bench_work_dir
bench_start_cluster bench_log
if $fill; then
  entries=1000000
  for ((i = 0; i < ${#bench_args[@]}; i++)); do [[ ${bench_args[i]} == --entries ]] && entries=${bench_args[i + 1]}; done
  echo "==> fill to $entries entries by bulk import ($(bench_load))"
  dotnet "$bench_dll" fill --admin-connection "$admin" --state-directory "$work/keys" --entries "$entries"
fi

# Every statement's executor time in the server log, for the sessions the service opens from now on (the settings
# are the database's, so they reach the service role's sessions); taken off again when the run ends.
explain_settings() {
  local verb=$1 setting
  for setting in "session_preload_libraries = 'auto_explain'" "auto_explain.log_min_duration = 0" \
                 "auto_explain.log_analyze = on" "auto_explain.log_timing = off"; do
    if [[ $verb == SET ]]; then
      echo "ALTER DATABASE $bench_db SET $setting;"
    else
      echo "ALTER DATABASE $bench_db RESET ${setting%% =*};"
    fi
  done | scripts/pg.sh psql "$work/pg" "$pgport" -d postgres >/dev/null
}
explain_settings SET
trap 'status=$?; explain_settings RESET || true; (exit "$status"); bench_cleanup' EXIT
bench_start_service

echo "==> benchmark ($(bench_load))"
dotnet "$bench_dll" explorer --url "http://127.0.0.1:$service_port" --postgres-log "$work/pg/postgres.log" \
  --admin-connection "$admin" "${bench_args[@]}"
echo "    $(bench_load)"
