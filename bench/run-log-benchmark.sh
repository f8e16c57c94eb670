#!/usr/bin/env bash
# Benchmarks the log service as deployed: builds Release, starts a private PostgreSQL cluster (fsync on) in a temp
# directory, migrates a database, starts the real service process on a free loopback port, then runs
# bench/TransparencyLog.Benchmarks (appends, inclusion-proof reads, raw PostgreSQL insert baselines) and prints a table.
# Everything it started is stopped on exit. It measures; it is not a test and exits 0 whatever the figures.
#
# Usage: bench/run-log-benchmark.sh [--clients C] [--duration S] [--read-duration S] [--warmup S] [--entries N]
#                                   [--raw-batch-rows R] [--signer-keys K] [--proposal-key public-key|certificate]
#                                   [--processes P] [--keep]
# Defaults: 64 clients, 60 s of appends after 15 s of warm-up, 20 s of reads, 4,000 proposals per second of load.
#   --signer-keys K  proposals signed by K long-lived keys in turn; 0 (default) gives each proposal its own key, as
#                  keyless signers have, so nothing the service could keep per key is reused.
#   --proposal-key public-key|certificate  what publicKey.content holds: the key as a PEM public key (default, as in
#                  earlier figures), or a PEM certificate for it issued by a bench CA made at start-up (Fulcio-like:
#                  code-signing EKU, an email SAN, 10 minutes' validity), as sigstore clients send a keyless signature;
#                  the service then reads the key out of a certificate. Certificates need --signer-keys 0.
#   --processes P  run P log-service processes on the one database (default 1), clients spread over them round-robin:
#                  the aggregate appends/s of several stateless services on one primary (issue 13).
#   --keep   keep the temp directory (cluster data, service log) for debugging; processes are still stopped.
# Service settings can be varied through the environment, e.g. Sequencer__BatchWindowMilliseconds=2 or
# Sequencer__MaxBatchSize=500; the service inherits the environment (Sequencer__*, Kestrel__*, ...).
# bench_pool_size=N sets the service's Maximum Pool Size (default 8, as ./run.sh and appsettings.json).
. "$(dirname "$0")/lib.sh"

processes=1
bench_option() {
  if [[ $1 == --processes ]]; then
    [[ $# -ge 2 && $2 =~ ^[1-9]$ ]] || { echo "error: --processes needs 1 to 9" >&2; exit 2; }
    processes=$2; bench_shift=2
  fi
}
bench_parse_args "--clients --duration --read-duration --warmup --entries --raw-batch-rows --signer-keys --proposal-key" "$@"
bench_build src/TransparencyLog.LogService bench/TransparencyLog.Benchmarks
bench_work_dir
bench_start_cluster bench_log
targets=()
for p in $(seq "$processes"); do
  bench_start_service "$( [[ $processes -gt 1 ]] && echo "$p" )"
  targets+=(--url "http://127.0.0.1:$service_port" --service-pid "$service_pid")
done

echo "==> benchmark ($(bench_load))"
dotnet "$bench_dll" log "${targets[@]}" --admin-connection "$admin" --postgres-data "$work/pg/data" "${bench_args[@]}"
echo "    $(bench_load)"
bench_service_warnings
