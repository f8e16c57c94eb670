using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// The text every benchmark report shares: where it ran, one row per load phase, and where the CPU went. One copy, so
/// the log, CA and TSA figures line up and read the same way.
/// </summary>
internal static class Table
{
    /// <summary>Date, machine and runtime lines.</summary>
    public static void AppendMachine(StringBuilder o, string? extraRuntime = null)
    {
        o.AppendLine(Inv($"date (UTC)     {DateTime.UtcNow:yyyy-MM-dd HH:mm}"));
        o.AppendLine(Inv($"machine        {Environment.ProcessorCount} cores, {CpuModel()}, {RuntimeInformation.OSDescription}"));
        o.AppendLine(Inv($"runtime        {RuntimeInformation.FrameworkDescription}{(extraRuntime is null ? "" : "; " + extraRuntime)}"));
    }

    public static string PhaseHeader(int nameWidth = 34) =>
        Inv($"{"phase".PadRight(nameWidth)}{"per s",10}{"p50 ms",9}{"p95 ms",9}{"p99 ms",9}{"max ms",9}{"worst 1 s",11}  errors");

    /// <summary>
    /// One phase: rate, latency percentiles of successful requests, the slowest whole second (times
    /// <paramref name="rowsPerRequest"/> when a request carries several rows) and failures by label.
    /// </summary>
    public static string PhaseRow(PhaseResult phase, double perSecond, int rowsPerRequest = 1, int nameWidth = 34)
    {
        var errors = phase.Failures.Count == 0
            ? "0"
            : string.Join(", ", phase.Failures.OrderByDescending(f => f.Value).Select(f => Inv($"{f.Key}: {f.Value}")));
        return Inv($"{phase.Name.PadRight(nameWidth)}{perSecond,10:N0}{phase.P50Ms,9:F1}{phase.P95Ms,9:F1}{phase.P99Ms,9:F1}{phase.MaxMs,9:F0}{phase.SlowestSecond * rowsPerRequest,11:N0}  {errors}");
    }

    /// <summary>The header of a CPU table whose process columns are <paramref name="processes"/>.</summary>
    public static string CpuHeader(IReadOnlyList<string> processes, int nameWidth = 34)
    {
        var o = new StringBuilder("phase".PadRight(nameWidth));
        foreach (var name in processes)
        {
            o.Append(name.PadLeft(Math.Max(9, name.Length + 1)));
        }

        return o.Append(Inv($"{"postgres",9}{"load gen",9}{"others",9}{"idle",9}")).ToString();
    }

    /// <summary>Average cores busy per party over the phase; 'others' is the machine minus everything we started.</summary>
    public static string CpuRow(string name, CpuUsage cpu, IReadOnlyList<string> processes, int nameWidth = 34)
    {
        var o = new StringBuilder(name.PadRight(nameWidth));
        for (var i = 0; i < processes.Count; i++)
        {
            o.Append(Inv($"{cpu.Cores(cpu.Processes[i]):F2}").PadLeft(Math.Max(9, processes[i].Length + 1)));
        }

        var idle = Math.Max(0, Environment.ProcessorCount - cpu.Cores(cpu.MachineBusy));
        return o.Append(Inv($"{cpu.Cores(cpu.Postgres),9:F2}{cpu.Cores(cpu.LoadGenerator),9:F2}{cpu.Cores(cpu.Others),9:F2}{idle,9:F2}")).ToString();
    }

    public static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
