using TransparencyLog.Benchmarks;

// Benchmarks of the system as deployed, run by hand from bench/*.sh. Each prints figures and asserts nothing.
//   log  the log service: appends, inclusion-proof reads, raw PostgreSQL baselines (bench/run-log-benchmark.sh)
//   ca   the CA: certificates per second end to end, beside the crypto one certificate needs (bench/run-service-benchmarks.sh)
//   tsa  the timestamp authority: timestamps per second, JSON and DER requests, beside the signing cost alone
//   chaos-write, chaos-verify, chaos-soak-report  the fault trials' writer, verifier and soak table (scripts/chaos.sh)
//   explorer  the log explorer's page render times on a log it fills first (bench/run-explorer-benchmark.sh)
//   fill  grows the Rekor v1 log to a size by bulk import of what the sequencer writes (bench/run-scale-benchmark.sh)
//   monitor  tlog monitor: catch-up entries/s over tiles and append-to-webhook alert latency (bench/run-monitor-benchmark.sh)
return args.FirstOrDefault() switch
{
    "log" => await LogBenchmark.RunAsync(args[1..]),
    "ca" => await CaBenchmark.RunAsync(args[1..]),
    "tsa" => await TsaBenchmark.RunAsync(args[1..]),
    "chaos-write" => await ChaosWriter.RunAsync(args[1..]),
    "chaos-verify" => await ChaosVerifier.RunAsync(args[1..]),
    "chaos-soak-report" => ChaosSoakReport.Run(args[1..]),
    "explorer" => await ExplorerBenchmark.RunAsync(args[1..]),
    "monitor" => await MonitorBenchmark.RunAsync(args[1..]),
    "fill" => await LogFill.RunAsync(args[1..]),
    _ => await Usage(),
};

static async Task<int> Usage()
{
    await Console.Error.WriteLineAsync("usage: TransparencyLog.Benchmarks {log|ca|tsa|explorer|monitor|fill} [options]; run it through bench/run-log-benchmark.sh or bench/run-service-benchmarks.sh");
    return 2;
}
