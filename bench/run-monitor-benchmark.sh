#!/usr/bin/env bash
# Benchmarks `tlog monitor` against the log service as deployed: builds Release, starts a private PostgreSQL cluster
# (fsync on) and the real service on a free loopback port, fills the log, then measures the monitor's catch-up rate
# from index 0 over tiles (entries/s) and the alert latency from an append's request to the webhook receiving the
# match, with the daemon woken by the entry stream (p50/p99/max). Everything it started is stopped on exit. It
# measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-monitor-benchmark.sh [--entries N] [--samples S] [--keep]
# Defaults: 20,000 entries, 100 latency samples.
. "$(dirname "$0")/lib.sh"

bench_work_prefix=tlog-monitor-bench
bench_parse_args "--entries --samples" "$@"
bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks src/TransparencyLog.Cli
bench_work_dir
bench_start_cluster bench_log
bench_start_service

echo "==> benchmark ($(bench_load))"
dotnet "$bench_dll" monitor --url "http://127.0.0.1:$service_port" --tlog "$tlog_dll" "${bench_args[@]}"
echo "    $(bench_load)"
bench_service_warnings
