using System.Diagnostics;
using System.Globalization;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// CPU seconds used over one phase by each party on the machine, and the wall time they were measured over.
/// <paramref name="Processes"/> are the watched service processes, in the order the sampler was given them.
/// </summary>
internal sealed record CpuUsage(TimeSpan Wall, IReadOnlyList<double> Processes, double Postgres, double LoadGenerator, double MachineBusy)
{
    /// <summary>All watched service processes together.</summary>
    public double Service => Processes.Sum();

    /// <summary>CPU the rest of the machine used meanwhile (other engineers' builds): the noise in these figures.</summary>
    public double Others => Math.Max(0, MachineBusy - Service - Postgres - LoadGenerator);

    public double Cores(double seconds) => seconds / Wall.TotalSeconds;
}

/// <summary>
/// Reads /proc: the first service's peak resident memory (VmHWM, plus VmRSS polled as a cross-check) and CPU time of
/// each watched service process (the log service; or the CA and the log service behind it), the PostgreSQL server,
/// this load generator and the whole machine, so each phase can say where the two cores went.
/// </summary>
internal sealed class ProcessSampler : IAsyncDisposable
{
    // USER_HZ, the unit of /proc/*/stat and /proc/stat times, is 100 on every Linux ABI .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly int[] _processPids;
    private readonly int _servicePid;
    private readonly int _postmasterPid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _polling;
    private long _maxRssKb;

    public ProcessSampler(int servicePid, string? postgresDataDirectory)
        : this([servicePid], postgresDataDirectory)
    {
    }

    /// <param name="processPids">Service processes to account separately; the first is the one whose memory is watched.</param>
    public ProcessSampler(IReadOnlyList<int> processPids, string? postgresDataDirectory)
    {
        ArgumentOutOfRangeException.ThrowIfZero(processPids.Count);
        _processPids = [.. processPids];
        _servicePid = _processPids[0];
        _postmasterPid = postgresDataDirectory is null ? 0 : ReadPostmasterPid(postgresDataDirectory);
        _polling = Task.Run(PollAsync);
    }

    /// <summary>The largest VmRSS seen by polling, in MiB.</summary>
    public double MaxPolledRssMiB => Interlocked.Read(ref _maxRssKb) / 1024.0;

    /// <summary>The kernel's own high-water mark of the service's resident set (VmHWM), in MiB.</summary>
    public double PeakRssMiB => StatusKb(_servicePid, "VmHWM:") / 1024.0;

    public bool HasPostgres => _postmasterPid > 0;

    public Snapshot Take() => new(
        Stopwatch.GetTimestamp(),
        [.. _processPids.Select(pid => ProcessCpuSeconds(pid))],
        PostgresCpuSeconds(),
        Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        MachineBusySeconds());

    public static CpuUsage Between(Snapshot before, Snapshot after) => new(
        Stopwatch.GetElapsedTime(before.Timestamp, after.Timestamp),
        [.. after.Processes.Zip(before.Processes, (a, b) => a - b)],
        after.Postgres - before.Postgres,
        after.LoadGenerator - before.LoadGenerator,
        after.Machine - before.Machine);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _polling;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task PollAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var rss = StatusKb(_servicePid, "VmRSS:");
            if (rss > Interlocked.Read(ref _maxRssKb))
            {
                Interlocked.Exchange(ref _maxRssKb, rss);
            }

            await Task.Delay(200, _stop.Token);
        }
    }

    private static long StatusKb(int pid, string field)
    {
        if (pid <= 0)
        {
            return 0;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>utime + stime (+ cutime + cstime when <paramref name="withChildren"/>), in seconds; 0 if it is gone.</summary>
    private static double ProcessCpuSeconds(int pid, bool withChildren = false)
    {
        if (pid <= 0 || StatFields(pid) is not { } fields)
        {
            return 0;
        }

        // Fields after "(comm)": state is [0], utime [11], stime [12], cutime [13], cstime [14].
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (withChildren)
        {
            ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        }

        return ticks / TicksPerSecond;
    }

    /// <summary>The postmaster, its live backends and workers, and the backends that already exited (its cutime).</summary>
    private double PostgresCpuSeconds()
    {
        if (_postmasterPid <= 0)
        {
            return 0;
        }

        var total = ProcessCpuSeconds(_postmasterPid, withChildren: true);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && StatFields(pid) is { } fields
                && int.Parse(fields[1], CultureInfo.InvariantCulture) == _postmasterPid)
            {
                total += ProcessCpuSeconds(pid);
            }
        }

        return total;
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // The command name may contain spaces and parentheses; everything after the last ')' is numeric.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double MachineBusySeconds()
    {
        // cpu  user nice system idle iowait irq softirq steal ...: busy is everything but idle and iowait.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var busy = fields.Take(8).Sum() - fields[3] - fields[4];
        return busy / TicksPerSecond;
    }

    private static int ReadPostmasterPid(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, "postmaster.pid");
        return File.Exists(file) && int.TryParse(File.ReadLines(file).First(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
    }

    internal readonly record struct Snapshot(long Timestamp, double[] Processes, double Postgres, double LoadGenerator, double Machine);
}
