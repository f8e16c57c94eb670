using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.Hosting;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Timestamping;

namespace TransparencyLog.LogService.Hosting;

/// <summary>The service's own wiring: storage, logs and their readiness checks.</summary>
internal static class ServiceHosting
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        // A Storage key the service does not know stops start-up: a setting that was renamed (TileCacheEntries became
        // TileCacheBytes) or misspelt would otherwise be ignored without a word.
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section, binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value.DataSourceConnectionString()));
        builder.Services.AddSingleton(sp => new ReadReplica(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.StandbyDataSourceConnectionString() is { } standby
                ? NpgsqlDataSource.Create(standby)
                : null));
        builder.Services.AddSingleton<EntryStore>();
        builder.Services.AddSingleton<EntryCache>();
        builder.Services.AddSingleton<EntryLookups>();
        builder.Services.AddSingleton<StorageAvailability>();
        builder.Services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("postgresql", tags: [ServiceDefaults.ReadyTag])
            .AddCheck<KeysHealthCheck>("keys", tags: [ServiceDefaults.ReadyTag]);
        return builder;
    }

    public static IHostApplicationBuilder AddLogs(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<SequencerOptions>().BindConfiguration(SequencerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        foreach (var (kind, section) in LogSections)
        {
            var options = builder.Services.AddOptions<LogOptions>(kind.ToString());
            if (kind == LogKind.RekorV2)
            {
                // Rekor v2 checkpoints are C2SP notes, which want an Ed25519 signature; configuration still overrides.
                options.Configure(o => o.DevelopmentKeyType = "ed25519");
            }

            options.BindConfiguration(section);
            if (kind == LogKind.RekorV1 || builder.Configuration.GetValue<bool>(section + ":Enabled"))
            {
                options.ValidateDataAnnotations().ValidateOnStart();
            }
        }

        foreach (var path in RekorV2PeriodConfiguration.Paths(builder.Configuration))
        {
            // A period log is served when listed: nothing to enable. Ed25519 as for the unnamed v2 log.
            builder.Services.AddOptions<LogOptions>(RekorV2PeriodConfiguration.OptionsName(path))
                .Configure(o => o.DevelopmentKeyType = "ed25519")
                .BindConfiguration(RekorV2PeriodConfiguration.Section + ":" + path)
                .ValidateDataAnnotations()
                .ValidateOnStart();
        }

        builder.Services.AddSingleton<LogRegistry>();
        builder.Services.AddSingleton<LogOpening>();
        builder.Services.AddSingleton<LogHeads>();
        builder.Services.AddSingleton<TileStore>();
        builder.Services.AddHostedService<TileSummaryWarmup>();
        builder.Services.AddSingleton<Tiles.EntryBundleCache>();
        builder.Services.AddSingleton<ProofService>();
        builder.Services.AddSingleton<Sequencers>();
        builder.Services.AddSingleton<CheckpointRefresher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CheckpointRefresher>());
        builder.Services.AddOptions<IntegrityOptions>().BindConfiguration(IntegrityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LogChecker>();
        builder.Services.AddSingleton<IntegrityMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IntegrityMonitor>());
        return builder;
    }

    /// <summary>The configuration section of each kind of log.</summary>
    public static readonly IReadOnlyList<(LogKind Kind, string Section)> LogSections =
    [
        (LogKind.RekorV1, "Logs:Rekor"),
        (LogKind.CertificateTransparency, "Logs:Ct"),
        (LogKind.RekorV2, "Logs:RekorV2"),
    ];

    /// <summary>
    /// Opens every enabled log before the server accepts requests; a key or name mismatch stops start-up. Then checks
    /// each log's storage (bounded, see <see cref="IntegrityMonitor"/>): a log that fails is served read-only.
    /// </summary>
    public static Task OpenLogsAsync(this WebApplication app) =>
        app.Services.GetRequiredService<LogOpening>().StartAsync(app.Lifetime.ApplicationStopping);

    /// <summary>Healthy when PostgreSQL answers and every log's head row can be read.</summary>
    private sealed class StorageHealthCheck(LogRegistry registry, LogHeads heads, LogOpening opening) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!opening.IsOpen)
            {
                return HealthCheckResult.Unhealthy("the logs are not open yet: PostgreSQL was unreachable at start-up");
            }

            try
            {
                foreach (var log in registry.All)
                {
                    await heads.GetAsync(log.Id, fresh: true, cancellationToken);
                }

                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy("storage is unreachable");
            }
        }
    }

    /// <summary>Healthy when every enabled log was opened with its key and the timestamp authority has its chain and key.</summary>
    private sealed class KeysHealthCheck(LogRegistry registry, IOptionsMonitor<LogOptions> options, IConfiguration configuration, IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            foreach (var path in RekorV2PeriodConfiguration.Paths(configuration))
            {
                if (!registry.TryGetPeriod(path, out _))
                {
                    return Task.FromResult(HealthCheckResult.Unhealthy($"the Rekor v2 period log {path}'s key is not loaded"));
                }
            }

            foreach (var (kind, _) in LogSections)
            {
                if ((kind == LogKind.RekorV1 || options.Get(kind.ToString()).Enabled) && !registry.TryGet(kind, out _))
                {
                    return Task.FromResult(HealthCheckResult.Unhealthy($"the {kind} log's key is not loaded"));
                }
            }

            try
            {
                services.GetRequiredService<TimestampAuthority>();
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.Security.Cryptography.CryptographicException)
            {
                return Task.FromResult(HealthCheckResult.Unhealthy("the timestamp authority's chain or key is not loaded"));
            }

            return Task.FromResult(HealthCheckResult.Healthy());
        }
    }
}
