using System.Globalization;
using System.Text.Json;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// The soak table of scripts/chaos.sh --soak: per time bucket, the appends acknowledged, their latency (p50, p99,
/// max) from the writers' records, and the log service's resident memory sampled by the script (<c>unix-ms rss-kB</c>
/// lines). Prints a Markdown table; asserts nothing.
/// </summary>
internal static class ChaosSoakReport
{
    public static int Run(string[] args)
    {
        var options = ChaosOptions.Parse(args);
        var bucket = TimeSpan.FromSeconds(double.Parse(options.Get("--bucket", "300"), CultureInfo.InvariantCulture));
        var latencies = new List<(long At, double Ms)>();
        foreach (var file in options.All("--acks"))
        {
            foreach (var line in File.ReadLines(file).Where(static l => l.Length > 0))
            {
                using var record = JsonDocument.Parse(line);
                if (record.RootElement.GetProperty("type").GetString() == "ack")
                {
                    latencies.Add((record.RootElement.GetProperty("at").GetInt64(), record.RootElement.GetProperty("latencyMs").GetDouble()));
                }
            }
        }

        var rss = File.ReadLines(options.Get("--rss"))
            .Select(static l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(static p => p.Length == 2)
            .Select(static p => (At: long.Parse(p[0], CultureInfo.InvariantCulture), Kb: long.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
        if (latencies.Count == 0 || rss.Count == 0)
        {
            Console.WriteLine("soak: no acknowledged appends or no memory samples");
            return 1;
        }

        var start = Math.Min(latencies.Min(l => l.At), rss.Min(r => r.At));
        var width = (long)bucket.TotalMilliseconds;
        Console.WriteLine("| minutes | appends | appends/s | p50 ms | p99 ms | max ms | service RSS MB (end of bucket) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var end = Math.Max(latencies.Max(l => l.At), rss.Max(r => r.At));
        for (var from = start; from <= end; from += width)
        {
            var slice = latencies.Where(l => l.At >= from && l.At < from + width).Select(l => l.Ms).Order().ToList();
            var memory = rss.Where(r => r.At < from + width).Select(r => r.Kb).LastOrDefault();
            var seconds = Math.Min(width, end - from + 1) / 1000.0;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(from - start) / 60_000}-{(from - start + width) / 60_000} | {slice.Count} | {slice.Count / Math.Max(seconds, 1):F1} | {Percentile(slice, 0.50):F1} | {Percentile(slice, 0.99):F1} | {(slice.Count > 0 ? slice[^1] : 0):F1} | {memory / 1024.0:F0} |"));
        }

        return 0;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
