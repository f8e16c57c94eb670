using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// The alerts monitors recorded in this database (<c>tlog monitor --state-db</c>, migrations/0009_monitor.sql), read
/// for the health page. The service only reads them: monitors run outside it and write their own rows.
/// </summary>
internal sealed class MonitorAlerts(IDbContextFactory<MonitorAlertsDbContext> contexts)
{
    /// <summary>How many of the latest alerts the health page shows.</summary>
    public const int Shown = 20;

    public async Task<List<RecordedAlert>> LatestAsync(int count, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Alerts.AsNoTracking().OrderByDescending(a => a.RaisedAt).ThenBy(a => a.EventId).Take(count).ToListAsync(cancellationToken);
    }

    public static void AddTo(IHostApplicationBuilder builder)
    {
        builder.Services.AddPooledDbContextFactory<MonitorAlertsDbContext>((services, db) =>
            db.UseNpgsql(services.GetRequiredService<IOptions<StorageOptions>>().Value.EffectiveConnectionString()));
        builder.Services.AddSingleton<MonitorAlerts>();
    }

    /// <summary>The health page's "Monitor alerts" section: the latest alerts, newest first, every value as text.</summary>
    public async Task RenderAsync(Html html, LogRegistry registry, CancellationToken cancellationToken)
    {
        var alerts = await LatestAsync(Shown, cancellationToken);
        html.Open("section", ("aria-labelledby", "alerts-heading")).Element("h2", "Monitor alerts", ("id", "alerts-heading"));
        if (alerts.Count == 0)
        {
            html.Element("p", "No monitor has recorded an alert in this database. A monitor started with tlog monitor --state-db and this log's database records its alerts here.")
                .Close("section");
            return;
        }

        html.Element("p", string.Create(CultureInfo.InvariantCulture, $"The latest {alerts.Count} alerts recorded by monitors keeping their state in this database (tlog monitor --state-db), newest first."));
        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Monitor alerts"), ("tabindex", "0"))
            .Open("table", ("class", "health monitor-alerts")).Open("thead").Open("tr");
        foreach (var column in new[] { "Raised", "Severity", "Alert", "Log", "Entry", "Details", "Delivered" })
        {
            html.Element("th", column, ("scope", "col"));
        }

        html.Close("tr").Close("thead").Open("tbody");
        foreach (var alert in alerts)
        {
            html.Open("tr")
                .Element("td", Layout.Time(alert.RaisedAt))
                .Element("td", alert.Severity, ("class", alert.Severity == "critical" ? "bad severity" : "severity"))
                .Element("td", alert.Type, ("class", "type"))
                .Element("td", alert.Origin, ("class", "origin"));
            var served = registry.All.FirstOrDefault(l => string.Equals(l.Origin, alert.Origin, StringComparison.Ordinal));
            if (alert.LogIndex is { } index && served is not null)
            {
                html.Open("td", ("class", "entry"))
                    .Link($"{Layout.Root}/entries/{Layout.Slug(served)}/{index.ToString(CultureInfo.InvariantCulture)}", index.ToString(CultureInfo.InvariantCulture))
                    .Close("td");
            }
            else
            {
                html.Element("td", alert.LogIndex?.ToString(CultureInfo.InvariantCulture) ?? "—", ("class", "entry"));
            }

            html.Element("td", alert.Summary, ("class", "summary"))
                .Element("td", alert.DeliveredAt is { } delivered ? Layout.Time(delivered) : "not yet", ("class", alert.DeliveredAt is null ? "bad" : null))
                .Close("tr");
        }

        html.Close("tbody").Close("table").Close("div").Close("section");
    }
}

/// <summary>The monitor's alert table, as the explorer reads it (schema in migrations/0009_monitor.sql).</summary>
internal sealed class MonitorAlertsDbContext(DbContextOptions<MonitorAlertsDbContext> options) : DbContext(options)
{
    public DbSet<RecordedAlert> Alerts => Set<RecordedAlert>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<RecordedAlert>(alert =>
        {
            alert.ToTable("monitor_alert");
            alert.HasKey(a => a.EventId);
            alert.Property(a => a.EventId).HasColumnName("event_id");
            alert.Property(a => a.Origin).HasColumnName("origin");
            alert.Property(a => a.Type).HasColumnName("type");
            alert.Property(a => a.Severity).HasColumnName("severity");
            alert.Property(a => a.LogIndex).HasColumnName("log_index");
            alert.Property(a => a.Summary).HasColumnName("summary");
            alert.Property(a => a.RaisedAt).HasColumnName("raised_at");
            alert.Property(a => a.DeliveredAt).HasColumnName("delivered_at");
        });
}

/// <summary>One alert a monitor recorded.</summary>
internal sealed class RecordedAlert
{
    public required string EventId { get; init; }

    public required string Origin { get; init; }

    public required string Type { get; init; }

    public required string Severity { get; init; }

    public long? LogIndex { get; init; }

    public required string Summary { get; init; }

    public DateTimeOffset RaisedAt { get; init; }

    public DateTimeOffset? DeliveredAt { get; init; }
}
