using TransparencyLog.Benchmarks;

// Benchmarks of the system as deployed, run by hand from bench/*.sh. Each prints figures and asserts nothing.
//   log  the log service: appends, inclusion-proof reads, raw PostgreSQL baselines (bench/run-log-benchmark.sh)
return args.FirstOrDefault() switch
{
    "log" => await LogBenchmark.RunAsync(args[1..]),
    _ => await Usage(),
};

static async Task<int> Usage()
{
    await Console.Error.WriteLineAsync("usage: TransparencyLog.Benchmarks {log} [options]; run it through bench/run-log-benchmark.sh");
    return 2;
}
