using System.Diagnostics.CodeAnalysis;
using Microsoft.EntityFrameworkCore;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>The monitor's tables (schema in migrations/0009_monitor.sql, never EF migrations).</summary>
/// <remarks>
/// Public, as are its two entities, because the compiled model and precompiled queries generated into
/// Monitoring/Compiled/ (for Native AOT, scripts/monitor-ef-codegen.sh) reach their members through public
/// <c>UnsafeAccessor</c> classes. An ordinary constructor, not a primary one: EF Core's query precompiler does not
/// follow primary-constructor parameters (dotnet/efcore#38030). The entities are not sealed because the generated
/// materializer casts each to EF Core's <c>IInjectableService</c>, which C# refuses for a sealed class.
/// </remarks>
public sealed class MonitorDbContext : DbContext
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification =
        "EF Core marks every DbContext constructor; this context runs on the compiled model and precompiled queries of Monitoring/Compiled/ (scripts/monitor-ef-codegen.sh, checked by test.sh), and the Native AOT tlog's monitor tests store and resume its state through it (docs/benchmarks.md, issue 8).")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification =
        "EF Core marks every DbContext constructor; this context runs on the compiled model and precompiled queries of Monitoring/Compiled/ (scripts/monitor-ef-codegen.sh, checked by test.sh), and the Native AOT tlog's monitor tests store and resume its state through it (docs/benchmarks.md, issue 8).")]
    public MonitorDbContext(DbContextOptions<MonitorDbContext> options)
        : base(options)
    {
    }

    public DbSet<MonitorPosition> Positions => Set<MonitorPosition>();

    public DbSet<MonitorAlert> Alerts => Set<MonitorAlert>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<MonitorPosition>(position =>
        {
            position.ToTable("monitor_position");
            position.HasKey(p => p.LogUrl);
            position.Property(p => p.LogUrl).HasColumnName("log_url");
            position.Property(p => p.VerifierKey).HasColumnName("verifier_key");
            position.Property(p => p.Checkpoint).HasColumnName("checkpoint");
            position.Property(p => p.TreeSize).HasColumnName("tree_size");
            position.Property(p => p.RootHash).HasColumnName("root_hash");
            position.Property(p => p.Edge).HasColumnName("edge");
            position.Property(p => p.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<MonitorAlert>(alert =>
        {
            alert.ToTable("monitor_alert");
            alert.HasKey(a => a.EventId);
            alert.Property(a => a.EventId).HasColumnName("event_id");
            alert.Property(a => a.LogUrl).HasColumnName("log_url");
            alert.Property(a => a.Origin).HasColumnName("origin");
            alert.Property(a => a.Type).HasColumnName("type");
            alert.Property(a => a.Severity).HasColumnName("severity");
            alert.Property(a => a.LogIndex).HasColumnName("log_index");
            alert.Property(a => a.Summary).HasColumnName("summary");
            alert.Property(a => a.Body).HasColumnName("body");
            alert.Property(a => a.RaisedAt).HasColumnName("raised_at");
            alert.Property(a => a.DeliveredAt).HasColumnName("delivered_at");
        });
    }
}

/// <summary>The monitor's verified position in one log (the database form of <see cref="MonitorState"/>).</summary>
public class MonitorPosition
{
    public required string LogUrl { get; init; }

    public required string VerifierKey { get; init; }

    public required string Checkpoint { get; set; }

    public long TreeSize { get; set; }

    public required string RootHash { get; set; }

    /// <summary>The tree's right edge as JSON (levels of hex hashes).</summary>
    public required string Edge { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One alert the monitor raised; only <see cref="DeliveredAt"/> is ever set afterwards.</summary>
public class MonitorAlert
{
    public required string EventId { get; init; }

    public required string LogUrl { get; init; }

    public required string Origin { get; init; }

    public required string Type { get; init; }

    public required string Severity { get; init; }

    public long? LogIndex { get; init; }

    public required string Summary { get; init; }

    /// <summary>The event exactly as printed and posted (JSON).</summary>
    public required string Body { get; init; }

    public DateTimeOffset RaisedAt { get; init; }

    public DateTimeOffset? DeliveredAt { get; set; }
}
