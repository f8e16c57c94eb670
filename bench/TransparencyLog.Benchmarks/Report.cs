using System.Text;

namespace TransparencyLog.Benchmarks;

/// <summary>Everything one run measured, and the final table printed from it.</summary>
internal sealed record Report(
    BenchmarkOptions Options,
    IReadOnlyDictionary<string, string> Durability,
    int ProposalsSigned,
    PhaseResult Writes,
    CpuUsage WriteCpu,
    PhaseResult? Reads,
    CpuUsage? ReadCpu,
    PhaseResult Single,
    CpuUsage SingleCpu,
    PhaseResult Batched,
    long BatchedRows,
    CpuUsage BatchedCpu,
    double PeakRssAfterWritesMiB,
    double PeakRssMiB,
    double MaxPolledRssMiB,
    int BodyBytes,
    bool PostgresAccounted)
{
    // Issue 13's targets for this two-core machine, client and server together, fsync on.
    private const double TargetAppendsPerSecond = 4_000;
    private const double TargetP99Ms = 100;
    private const double TargetServiceMicrosPerAppend = 250;
    private const double TargetReadsPerSecond = 10_000;

    private string[] ServiceColumn => Options.ServicePids.Count <= 1
        ? ["service"]
        : [.. Options.ServicePids.Select((_, i) => Inv($"service {i + 1}"))];

    public static void Print(Report report) => Console.Write(report.Render());

    public string Render()
    {
        var o = new StringBuilder();
        var batchedRowsPerSecond = BatchedRows / Batched.Elapsed.TotalSeconds;
        o.AppendLine();
        o.AppendLine("================ TransparencyLog log-service benchmark ================");
        Table.AppendMachine(o, Inv($"PostgreSQL {Durability["server_version"]}"));
        o.AppendLine(Inv($"durability     fsync={Durability["fsync"]} synchronous_commit={Durability["synchronous_commit"]} wal_sync_method={Durability["wal_sync_method"]} full_page_writes={Durability["full_page_writes"]}"));
        o.AppendLine(Inv($"load           {Options.Clients} clients; appends {Options.DurationSeconds} s after {Options.WarmupSeconds} s warm-up; reads {Options.ReadDurationSeconds} s; {ProposalsSigned:N0} proposals pre-signed{(Options.ProposalKey == ProposalKey.Certificate ? " (keys in certificates)" : "")}"));
        o.AppendLine(Inv($"entry size     canonical body {BodyBytes} bytes (raw-insert rows use the same)"));
        o.AppendLine();
        o.AppendLine(Table.PhaseHeader());
        o.AppendLine(Table.PhaseRow(Writes, Writes.PerSecond));
        if (Reads is not null)
        {
            o.AppendLine(Table.PhaseRow(Reads, Reads.PerSecond));
        }

        o.AppendLine(Table.PhaseRow(Single, Single.PerSecond));
        o.AppendLine(Table.PhaseRow(Batched, batchedRowsPerSecond, rowsPerRequest: Options.RawBatchRows) + "   (rows/s; latency per transaction)");
        o.AppendLine();
        o.AppendLine(Inv($"log appends ÷ raw 1-row commits     {Writes.PerSecond / Single.PerSecond,7:F2}x"));
        o.AppendLine(Inv($"log appends ÷ raw {Options.RawBatchRows}-row commits   {Writes.PerSecond / batchedRowsPerSecond,7:F2}x"));
        o.AppendLine(Inv($"service peak RSS                    {PeakRssMiB,7:F0} MiB (VmHWM; {PeakRssAfterWritesMiB:F0} MiB after appends; polled VmRSS max {MaxPolledRssMiB:F0} MiB)"));
        o.AppendLine();
        o.AppendLine("CPU, in cores busy on average (the machine has " + Environment.ProcessorCount + "; 'others' is everything not ours: the noise)");
        o.AppendLine(Table.CpuHeader(ServiceColumn));
        o.AppendLine(Cpu(Writes.Name, WriteCpu));
        if (Reads is not null && ReadCpu is not null)
        {
            o.AppendLine(Cpu(Reads.Name, ReadCpu));
        }

        o.AppendLine(Cpu(Single.Name, SingleCpu));
        o.AppendLine(Cpu(Batched.Name, BatchedCpu));
        if (Writes.Succeeded > 0)
        {
            o.AppendLine(Inv($"service CPU per append {WriteCpu.Service * 1e6 / Writes.Succeeded:F0} µs, postgres CPU per append {WriteCpu.Postgres * 1e6 / Writes.Succeeded:F0} µs, load generator {WriteCpu.LoadGenerator * 1e6 / Writes.Succeeded:F0} µs"));
        }

        if (Reads is { Succeeded: > 0 } && ReadCpu is not null)
        {
            o.AppendLine(Inv($"service CPU per read {ReadCpu.Service * 1e6 / Reads.Succeeded:F0} µs, postgres CPU per read {ReadCpu.Postgres * 1e6 / Reads.Succeeded:F0} µs"));
        }

        if (!PostgresAccounted)
        {
            o.AppendLine("(PostgreSQL CPU not accounted: no --postgres-data given)");
        }

        o.AppendLine();
        o.AppendLine("targets (2 cores, client and server together, fsync on)");
        o.AppendLine(Target($"appends ≥ {TargetAppendsPerSecond:N0}/s sustained", Writes.PerSecond >= TargetAppendsPerSecond && !Writes.RanOutOfWork, Inv($"{Writes.PerSecond:N0}/s")));
        o.AppendLine(Target($"append p99 ≤ {TargetP99Ms:N0} ms", Writes.P99Ms <= TargetP99Ms, Inv($"{Writes.P99Ms:F0} ms")));
        if (Writes.Succeeded > 0)
        {
            var micros = WriteCpu.Service * 1e6 / Writes.Succeeded;
            o.AppendLine(Target($"service CPU ≤ {TargetServiceMicrosPerAppend:N0} µs per append", micros <= TargetServiceMicrosPerAppend, Inv($"{micros:F0} µs")));
        }

        if (Reads is not null)
        {
            o.AppendLine(Target($"inclusion-proof reads ≥ {TargetReadsPerSecond:N0}/s", Reads.PerSecond >= TargetReadsPerSecond, Inv($"{Reads.PerSecond:N0}/s")));
        }

        if (Writes.RanOutOfWork)
        {
            o.AppendLine(Inv($"warning: the pre-signed proposals ran out after {Writes.Elapsed.TotalSeconds:F1} s; rerun with a larger --entries"));
        }

        o.AppendLine("=======================================================================");
        return o.ToString();
    }

    private string Cpu(string name, CpuUsage cpu) => Table.CpuRow(name, cpu, ServiceColumn);

    private static string Target(string what, bool met, string measured) => Inv($"  {(met ? "MET   " : "MISSED")} {what,-40} measured {measured}");

    private static string Inv(FormattableString text) => Table.Inv(text);
}
