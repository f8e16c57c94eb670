using Microsoft.Extensions.Options;
using TransparencyLog.LogService.CertificateTransparency;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Hosting;

/// <summary>
/// Opens every enabled log (key loaded, row created or matched, head read) and runs the start-up integrity check.
/// When PostgreSQL cannot be reached at start-up the service still starts: alive, not ready, its APIs answering 503
/// with Retry-After (<see cref="StorageOutageAnswers"/>), the outage logged once; opening is retried every second
/// until PostgreSQL answers. A configuration error (a key that does not match its log, a wrong key type) still stops
/// the service, whenever it is found.
/// </summary>
internal sealed partial class LogOpening(
    LogRegistry registry,
    IOptionsMonitor<LogOptions> options,
    IConfiguration configuration,
    LogHeads heads,
    IntegrityMonitor integrity,
    StorageAvailability availability,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<LogOpening> logger)
{
    private static readonly TimeSpan s_retryInterval = TimeSpan.FromSeconds(1);

    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether every enabled log is open: until then nothing that needs a log or the database is served.</summary>
    public bool IsOpen => _opened.Task.IsCompleted;

    /// <summary>Completes when the logs are open (for background work that needs them).</summary>
    public Task WhenOpenAsync(CancellationToken cancellationToken) => _opened.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Opens the logs now; if PostgreSQL is unreachable, reports the outage and keeps trying in the background.
    /// Anything else (a configuration error) is thrown, so a misconfigured service does not start.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await OpenAsync(cancellationToken);
            return;
        }
        catch (Exception e) when (StorageAvailability.IsOutage(e))
        {
            availability.ReportFailure(e);
        }

        _ = RetryAsync(lifetime.ApplicationStopping);
    }

    private async Task RetryAsync(CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await Task.Delay(s_retryInterval, time, stopping);
                await OpenAsync(stopping);
                availability.ReportSuccess();
                Log.OpenedLate(logger);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (StorageAvailability.IsOutage(e))
            {
                // Logged once per outage by StorageAvailability; probing goes on quietly.
                availability.ReportFailure(e);
            }
            catch (Exception e)
            {
                // What start-up would have refused (a log's key changed, a wrong key type): stop, as start-up would.
                Log.OpenFailed(logger, e);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
        }
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        foreach (var (kind, _) in ServiceHosting.LogSections)
        {
            var logOptions = options.Get(kind.ToString());
            if (kind != LogKind.RekorV1 && !logOptions.Enabled)
            {
                continue;
            }

            // A log opened by an earlier attempt (before the outage cut its head read short) is not opened twice.
            if (!registry.TryGet(kind, out var log) || log is null)
            {
                log = await registry.OpenAsync(kind, logOptions, cancellationToken);
            }

            if (kind == LogKind.CertificateTransparency)
            {
                CertificateTransparencyApi.RequireSctKey(log);
            }

            LogServiceMetrics.Register(log, (await heads.GetAsync(log.Id, fresh: true, cancellationToken)).Size);
        }

        foreach (var path in RekorV2PeriodConfiguration.Paths(configuration))
        {
            if (!registry.TryGetPeriod(path, out var period) || period is null)
            {
                period = await registry.OpenPeriodAsync(path, options.Get(RekorV2PeriodConfiguration.OptionsName(path)), cancellationToken);
            }

            LogServiceMetrics.Register(period, (await heads.GetAsync(period.Id, fresh: true, cancellationToken)).Size);
        }

        await integrity.CheckAsync(cancellationToken);
        _opened.TrySetResult();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL answered: the logs are open and the service is ready")]
        public static partial void OpenedLate(ILogger logger);

        [LoggerMessage(Level = LogLevel.Critical, Message = "The logs cannot be opened; stopping")]
        public static partial void OpenFailed(ILogger logger, Exception exception);
    }
}
