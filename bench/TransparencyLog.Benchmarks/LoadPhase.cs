using System.Diagnostics;

namespace TransparencyLog.Benchmarks;

/// <summary>What one request of a load phase came to: success, a labelled failure, or no more work to do.</summary>
internal readonly record struct Outcome(bool Success, string? Failure, bool Exhausted = false)
{
    public static readonly Outcome Ok = new(true, null);

    public static readonly Outcome NoMoreWork = new(false, null, Exhausted: true);

    public static Outcome Failed(string label) => new(false, label);
}

/// <summary>Figures of one timed phase. Latencies are of successful requests only; failures are counted by label.</summary>
internal sealed record PhaseResult(
    string Name,
    long Succeeded,
    TimeSpan Elapsed,
    double P50Ms,
    double P95Ms,
    double P99Ms,
    double MaxMs,
    double SlowestSecond,
    double FastestSecond,
    IReadOnlyDictionary<string, long> Failures,
    bool RanOutOfWork)
{
    public double PerSecond => Succeeded / Elapsed.TotalSeconds;

    public long FailureCount => Failures.Values.Sum();
}

/// <summary>
/// Runs <c>clients</c> closed-loop workers, each issuing one request after the other, for a fixed time. The request
/// gets its worker's number, so a worker can keep its own connection.
/// </summary>
internal static class LoadPhase
{
    public static async Task<PhaseResult> RunAsync(string name, int clients, TimeSpan duration, Func<int, CancellationToken, Task<Outcome>> request)
    {
        using var stop = new CancellationTokenSource();
        var workers = new Worker[clients];
        var seconds = (int)Math.Ceiling(duration.TotalSeconds) + 1;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < clients; i++)
        {
            workers[i] = new Worker(i, seconds);
        }

        var tasks = workers.Select(w => Task.Run(() => w.RunAsync(start, request, stop.Token))).ToArray();
        var finished = Task.WhenAll(tasks);
        await Task.WhenAny(finished, Task.Delay(duration));
        await stop.CancelAsync();
        await finished;

        // Requests still in flight when the clock stopped finish late; only the planned duration (or less, when the
        // work ran out) is the denominator, and completions after it are not counted.
        var elapsed = Stopwatch.GetElapsedTime(start);
        var ranOut = workers.Any(w => w.Exhausted);
        var window = ranOut && elapsed < duration ? workers.Max(w => w.LastCompletion) : duration;

        var latencies = workers.SelectMany(w => w.Latencies).ToArray();
        Array.Sort(latencies);
        var failures = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var worker in workers)
        {
            foreach (var (label, count) in worker.Failures)
            {
                failures[label] = failures.GetValueOrDefault(label) + count;
            }
        }

        var perSecond = new long[seconds];
        foreach (var worker in workers)
        {
            for (var s = 0; s < seconds; s++)
            {
                perSecond[s] += worker.PerSecond[s];
            }
        }

        // Whole seconds only: the last, partial second would look like a stall.
        var whole = perSecond.Take(Math.Max(1, (int)Math.Floor(window.TotalSeconds))).ToArray();
        return new PhaseResult(
            name,
            latencies.Length,
            window,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            Percentile(latencies, 0.99),
            latencies.Length == 0 ? 0 : ToMs(latencies[^1]),
            whole.Min(),
            whole.Max(),
            failures,
            ranOut);
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : ToMs(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)]);

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private sealed class Worker(int id, int seconds)
    {
        public List<long> Latencies { get; } = new(4096);

        public Dictionary<string, long> Failures { get; } = new(StringComparer.Ordinal);

        public long[] PerSecond { get; } = new long[seconds];

        public bool Exhausted { get; private set; }

        public TimeSpan LastCompletion { get; private set; }

        public async Task RunAsync(long start, Func<int, CancellationToken, Task<Outcome>> request, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                var began = Stopwatch.GetTimestamp();
                Outcome outcome;
                try
                {
                    // Not cancelled by the stop signal: an in-flight write is let to finish so the service is not
                    // left with aborted requests, and it simply does not count if it ends after the clock.
                    outcome = await request(id, CancellationToken.None);
                }
                catch (HttpRequestException e)
                {
                    outcome = Outcome.Failed(e.HttpRequestError.ToString());
                }
                catch (TaskCanceledException)
                {
                    outcome = Outcome.Failed("timeout");
                }

                var ended = Stopwatch.GetTimestamp();
                if (outcome.Exhausted)
                {
                    Exhausted = true;
                    return;
                }

                if (stop.IsCancellationRequested)
                {
                    return;
                }

                var second = (int)Stopwatch.GetElapsedTime(start, ended).TotalSeconds;
                LastCompletion = Stopwatch.GetElapsedTime(start, ended);
                if (outcome.Success)
                {
                    Latencies.Add(ended - began);
                    if (second < PerSecond.Length)
                    {
                        PerSecond[second]++;
                    }
                }
                else
                {
                    var label = outcome.Failure ?? "unknown";
                    Failures[label] = Failures.GetValueOrDefault(label) + 1;
                }
            }
        }
    }
}
