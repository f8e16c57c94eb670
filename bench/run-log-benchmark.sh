#!/usr/bin/env bash
# Benchmarks the log service as deployed: builds Release, starts a private PostgreSQL cluster (fsync on) in a temp
# directory, migrates a database, starts the real service process on a free loopback port, then runs
# bench/TransparencyLog.Benchmarks (appends, inclusion-proof reads, raw PostgreSQL insert baselines) and prints a table.
# Everything it started is stopped on exit. It measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-log-benchmark.sh [--clients C] [--duration S] [--read-duration S] [--warmup S] [--entries N]
#                                   [--raw-batch-rows R] [--keep]
# Defaults: 64 clients, 60 s of appends after 15 s of warm-up, 20 s of reads, 4,000 proposals per second of load.
#   --keep   keep the temp directory (cluster data, service log) for debugging; processes are still stopped.
# Service settings can be varied through the environment, e.g. Sequencer__BatchWindowMilliseconds=2 or
# Sequencer__MaxBatchSize=500; the service inherits the environment (Sequencer__*, Kestrel__*, ...).
. "$(dirname "$0")/lib.sh"

bench_parse_args "--clients --duration --read-duration --warmup --entries --raw-batch-rows" "$@"
bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks
bench_work_dir
bench_start_cluster bench_log
bench_start_service

echo "==> benchmark ($(bench_load))"
dotnet "$bench_dll" log --url "http://127.0.0.1:$service_port" --admin-connection "$admin" \
  --service-pid "$service_pid" --postgres-data "$work/pg/data" "${bench_args[@]}"
echo "    $(bench_load)"
bench_service_warnings
