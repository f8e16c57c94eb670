using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Logs;

namespace TransparencyLog.LogService.Integrity;

/// <summary>
/// Runs the bounded storage check (<see cref="LogChecker"/>) over every log this service serves, at start-up and
/// every <see cref="IntegrityOptions.IntervalSeconds"/>, and remembers which logs failed it. A failed log stays
/// suspended for the life of the process: the sequencer refuses its appends and the refresher does not re-sign its
/// checkpoint, so nothing new is signed on top of storage that does not verify. After a repair or restore, the
/// operator runs <c>fsck --full</c> and restarts the service, whose start-up check must pass again.
/// </summary>
internal sealed partial class IntegrityMonitor(
    LogRegistry registry, LogChecker checker, IOptions<IntegrityOptions> options, TimeProvider time, ILogger<IntegrityMonitor> logger)
    : BackgroundService
{
    private readonly ConcurrentDictionary<int, string> _suspended = new();

    public bool IsSuspended(int logId) => _suspended.ContainsKey(logId);

    /// <summary>Stops signing for a log; the first reason is logged once, loudly.</summary>
    public void Suspend(LogInstance log, string reason)
    {
        if (_suspended.TryAdd(log.Id, reason))
        {
            Log.Suspended(logger, log.Name, reason);
        }
    }

    /// <summary>The bounded check of every served log; a divergence suspends that log.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var scope = new CheckScope(options.Value.CheckEntries, options.Value.CheckCheckpoints);
        foreach (var log in registry.All)
        {
            if (IsSuspended(log.Id))
            {
                continue;
            }

            try
            {
                var result = await checker.CheckAsync(log.Id, scope, cancellationToken);
                if (result.Divergence is { } divergence)
                {
                    Suspend(log, divergence.ToString());
                }
                else
                {
                    Log.Verified(logger, log.Name, result.TreeSize, result.Entries, result.Tiles, result.Checkpoints);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Unreachable storage is not a divergence; the next run (or the sequencer's own checks) tries again.
                Log.CheckFailed(logger, log.Name, e);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.IntervalSeconds;
        if (interval == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(interval), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await CheckAsync(stoppingToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Critical, Message = "Log {LogName}: STORAGE FAILED ITS INTEGRITY CHECK ({Divergence}); appends and checkpoint signing are suspended. Repair or restore the database, run `fsck --full`, then restart the service (docs/operations.md)")]
        public static partial void Suspended(ILogger logger, string logName, string divergence);

        [LoggerMessage(Level = LogLevel.Information, Message = "Log {LogName}: storage verified at size {TreeSize} ({Entries} entries, {Tiles} tiles, {Checkpoints} checkpoints re-derived)")]
        public static partial void Verified(ILogger logger, string logName, long treeSize, long entries, long tiles, long checkpoints);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Log {LogName}: the storage integrity check could not run")]
        public static partial void CheckFailed(ILogger logger, string logName, Exception exception);
    }
}
