using System.Diagnostics;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// The cost of one unit of in-process work (one certificate's or one timestamp's crypto) on one thread, as wall time
/// and as this process's CPU time. On a machine shared with other engineers' builds the wall time stretches whenever
/// the thread is preempted; CPU time does not, so the per-core ceiling is computed from CPU time.
/// </summary>
internal sealed record CryptoCost(string Name, string Unit, int Iterations, double WallMicroseconds, double CpuMicroseconds)
{
    /// <summary>Units per second one core could do if it did nothing else.</summary>
    public double CeilingPerCore => CpuMicroseconds > 0 ? 1e6 / CpuMicroseconds : 0;

    /// <summary>Runs <paramref name="work"/> a tenth as often untimed (JIT, OpenSSL's tables), then times it.</summary>
    /// <param name="unit">What one run of <paramref name="work"/> is, for the ceiling: "ops", "certs", "tokens".</param>
    public static CryptoCost Measure(string name, string unit, int iterations, Action work)
    {
        for (var i = 0; i < Math.Max(20, iterations / 10); i++)
        {
            work();
        }

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            work();
        }

        var wall = Stopwatch.GetElapsedTime(start);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        return new CryptoCost(name, unit, iterations, wall.TotalMicroseconds / iterations, cpu.TotalMicroseconds / iterations);
    }

    public static string Header(int nameWidth) =>
        Table.Inv($"{"in-process, one thread".PadRight(nameWidth)}{"CPU µs",10}{"wall µs",10}{"ceiling per core",18}");

    public string Row(int nameWidth) =>
        Table.Inv($"{Name.PadRight(nameWidth)}{CpuMicroseconds,10:F1}{WallMicroseconds,10:F1}{CeilingPerCore,12:N0} {Unit}/s");

    /// <summary>Throws when a verification that must succeed does not: the figures are of real, passing checks.</summary>
    public static void Check(bool verified, string what)
    {
        if (!verified)
        {
            throw new InvalidOperationException($"crypto benchmark: {what} did not verify");
        }
    }
}
