using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TransparencyLog.Hosting;

namespace TransparencyLog.Witness.State;

/// <summary>Where the witness keeps its state. Section <c>Storage</c>.</summary>
internal sealed class WitnessStorageOptions
{
    public const string Section = "Storage";

    /// <summary>Npgsql connection string of the service role (no DDL rights needed; the log service's <c>migrate</c> applies the schema).</summary>
    [Required]
    public string ConnectionString { get; set; } = "";

    /// <summary>A file holding the role's password (a mounted secret), so it need not sit in the connection string.</summary>
    public string? PasswordFile { get; set; }

    public string EffectiveConnectionString() => PostgresConnections.WithPasswordFile(ConnectionString, PasswordFile);

    /// <summary>
    /// <see cref="EffectiveConnectionString"/> without Npgsql's session reset of a pooled connection, unless the
    /// connection string sets <c>No Reset On Close</c> itself: the witness's compare-and-swap is one UPDATE and it
    /// leaves no session state (<see cref="PostgresConnections.ForStatelessPool"/>).
    /// </summary>
    public string DataSourceConnectionString() => PostgresConnections.ForStatelessPool(EffectiveConnectionString());
}

/// <summary>Registers the witness's DbContext and its readiness check.</summary>
internal static class WitnessStateHosting
{
    public static IHostApplicationBuilder AddWitnessState(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WitnessStorageOptions>().BindConfiguration(WitnessStorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddDbContextPool<WitnessDbContext>((services, options) =>
            options.UseNpgsql(services.GetRequiredService<IOptions<WitnessStorageOptions>>().Value.DataSourceConnectionString()));
        return builder;
    }

    public static IHealthChecksBuilder AddWitnessStateCheck(this IHealthChecksBuilder health) =>
        health.AddCheck<WitnessDatabaseCheck>("postgresql", tags: [ServiceDefaults.ReadyTag]);

    private sealed class WitnessDatabaseCheck(IServiceScopeFactory scopes) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<WitnessDbContext>();
            try
            {
                // Reading the state table also proves the schema (migration 0007) is there and granted.
                await db.States.AsNoTracking().AnyAsync(cancellationToken);
                return HealthCheckResult.Healthy("witness state readable");
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL or the witness tables are unavailable");
            }
        }
    }
}
