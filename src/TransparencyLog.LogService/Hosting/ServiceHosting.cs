using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Serilog;
using Serilog.Formatting.Json;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Hosting;

/// <summary>The service's cross-cutting wiring: logging, storage, logs, health, request limits.</summary>
internal static class ServiceHosting
{
    /// <summary>Serilog as the only sink, configured from the <c>Serilog</c> section; <c>Serilog:Json=true</c> writes JSON lines.</summary>
    public static IHostApplicationBuilder AddServiceLogging(this IHostApplicationBuilder builder)
    {
        var configuration = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext();
        configuration = builder.Configuration.GetValue<bool>("Serilog:Json")
            ? configuration.WriteTo.Console(new JsonFormatter(renderMessage: true))
            : configuration.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(configuration.CreateLogger(), dispose: true);
        return builder;
    }

    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value.EffectiveConnectionString()));
        builder.Services.AddSingleton<EntryStore>();
        builder.Services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage");
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

        builder.Services.AddSingleton<LogRegistry>();
        builder.Services.AddSingleton<LogHeads>();
        builder.Services.AddSingleton<TileStore>();
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
    public static async Task OpenLogsAsync(this WebApplication app)
    {
        var registry = app.Services.GetRequiredService<LogRegistry>();
        var options = app.Services.GetRequiredService<IOptionsMonitor<LogOptions>>();
        foreach (var (kind, _) in LogSections)
        {
            var logOptions = options.Get(kind.ToString());
            if (kind == LogKind.RekorV1 || logOptions.Enabled)
            {
                await registry.OpenAsync(kind, logOptions, app.Lifetime.ApplicationStopping);
            }
        }

        await app.Services.GetRequiredService<IntegrityMonitor>().CheckAsync(app.Lifetime.ApplicationStopping);
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { AllowCachingResponses = false });
        return app;
    }

    /// <summary>Healthy when PostgreSQL answers and every log's head row can be read.</summary>
    private sealed class StorageHealthCheck(LogRegistry registry, LogHeads heads) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
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
}
