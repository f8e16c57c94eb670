using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// <c>--state-db</c>: the monitor's position per log and every alert it raised, in PostgreSQL (migrations/0009), the
/// same database as the log's when the explorer's health page should show the alerts. An alert row is written before
/// the alert is sent and marked delivered after: an alert is sent once, also across restarts, and one whose sending
/// was cut short by a crash is sent again by the next cycle (it is found undelivered).
/// </summary>
internal sealed class DatabaseMonitorStore : IMonitorStore
{
    /// <summary>Longest summary and body kept (the schema's limits); a longer body keeps only its identifying fields.</summary>
    internal const int MaxSummaryChars = 4096;

    internal const int MaxBodyChars = 256 * 1024;

    private const int MaxPasswordFileBytes = 4096;

    private readonly DbContextOptions<MonitorDbContext> _options;
    private readonly string _logUrl;
    private readonly TimeProvider _time;

    private DatabaseMonitorStore(DbContextOptions<MonitorDbContext> options, string logUrl, TimeProvider time)
    {
        _options = options;
        _logUrl = logUrl;
        _time = time;
    }

    public string Description => $"the state database's position for {_logUrl}";

    /// <summary>
    /// Opens the store for one log. The password may come from <paramref name="passwordFile"/> so it never appears on a
    /// command line; the connection string is never repeated in a message.
    /// </summary>
    public static DatabaseMonitorStore Open(string connectionString, string? passwordFile, string logUrl, TimeProvider time)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            throw new CliException(ExitCodes.Usage, "--state-db is not a PostgreSQL connection string (Host=...;Database=...;Username=...)");
        }

        if (passwordFile is not null)
        {
            var info = new FileInfo(passwordFile);
            if (!info.Exists || info.Length > MaxPasswordFileBytes)
            {
                throw new CliException(ExitCodes.Usage, $"--state-db-password-file '{passwordFile}' does not exist or is larger than {MaxPasswordFileBytes} bytes");
            }

            builder.Password = File.ReadAllText(passwordFile).Trim();
        }

        var options = new DbContextOptionsBuilder<MonitorDbContext>().UseNpgsql(builder.ConnectionString).Options;
        return new DatabaseMonitorStore(options, logUrl, time);
    }

    // Each query below runs on a context that is a local of its lambda and compares with locals only: EF Core's query
    // precompiler (dotnet ef dbcontext optimize --precompile-queries, which Native AOT needs) cannot follow a context or
    // a captured value or argument that is a parameter or a field (dotnet/efcore#38030), and a query it cannot precompile fails at
    // run time under Native AOT. Monitoring/Compiled/ holds the generated code (docs/monitoring.md: regenerating it).

    public Task<MonitorState?> LoadAsync(CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var logUrl = _logUrl;
        var ct = cancellationToken;
        await using var db = new MonitorDbContext(_options);
        var position = await db.Positions.AsNoTracking().FirstOrDefaultAsync(p => p.LogUrl == logUrl, ct);
        if (position is null)
        {
            return null;
        }

        try
        {
            var edge = JsonSerializer.Deserialize(position.Edge, MonitorWireJsonContext.Default.ListListString) ?? [];
            return new MonitorState(position.LogUrl, position.VerifierKey, position.Checkpoint, position.TreeSize, position.RootHash, edge);
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.Error, $"{Description} holds a corrupt tree edge");
        }
    });

    public Task SaveAsync(MonitorState state, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var logUrl = _logUrl;
        var edge = JsonSerializer.Serialize(state.Edge, MonitorWireJsonContext.Default.IReadOnlyListIReadOnlyListString);
        var ct = cancellationToken;
        await using var db = new MonitorDbContext(_options);
        var position = await db.Positions.FirstOrDefaultAsync(p => p.LogUrl == logUrl, ct);
        if (position is null)
        {
            db.Positions.Add(new MonitorPosition
            {
                LogUrl = logUrl,
                VerifierKey = state.VerifierKey,
                Checkpoint = state.Checkpoint,
                TreeSize = state.Size,
                RootHash = state.RootHash,
                Edge = edge,
                UpdatedAt = _time.GetUtcNow(),
            });
        }
        else
        {
            position.Checkpoint = state.Checkpoint;
            position.TreeSize = state.Size;
            position.RootHash = state.RootHash;
            position.Edge = edge;
            position.UpdatedAt = _time.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
        return true;
    });

    public Task<bool> RecordAsync(MonitorEvent alert, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var id = alert.Id;
        var ct = cancellationToken;
        await using var db = new MonitorDbContext(_options);

        // Null when the alert was never recorded, else whether it was delivered (a scalar, not an anonymous type: the
        // expression tree of `new { … }` is built with reflection that trimming cannot follow, IL2026).
        var delivered = await db.Alerts.Where(a => a.EventId == id).Select(a => (bool?)(a.DeliveredAt != null)).FirstOrDefaultAsync(ct);
        if (delivered is { } wasDelivered)
        {
            return !wasDelivered;
        }

        db.Alerts.Add(RowOf(alert));
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Another monitor process recorded the same finding first: it sends it.
            return false;
        }
    });

    public Task DeliveredAsync(MonitorEvent alert, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var id = alert.Id;
        DateTimeOffset? now = _time.GetUtcNow(); // the column's type: the precompiler does not insert the conversion

        var ct = cancellationToken;
        await using var db = new MonitorDbContext(_options);
        return await db.Alerts.Where(a => a.EventId == id && a.DeliveredAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(a => a.DeliveredAt, a => now), ct);
    });

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private MonitorAlert RowOf(MonitorEvent alert)
    {
        var body = alert.Body;
        var summary = alert.Type == "identity_match"
            ? $"{Text(body, "rule")} matched {Text(body, "value")}" + (Text(body, "issuer") is { Length: > 0 } issuer ? $" (issuer {issuer})" : "")
            : Text(body, "message");
        var json = body.ToJsonString();
        if (json.Length > MaxBodyChars)
        {
            // Only the evidence (two checkpoints of a misbehaving log) can be this long; stdout and webhooks had it whole.
            json = new JsonObject { ["id"] = alert.Id, ["type"] = alert.Type, ["severity"] = alert.Severity, ["log"] = Text(body, "log"), ["message"] = Truncate(summary) }.ToJsonString();
        }

        return new MonitorAlert
        {
            EventId = alert.Id,
            LogUrl = _logUrl,
            Origin = Truncate(Text(body, "log"), 1024),
            Type = alert.Type,
            Severity = alert.Severity,
            LogIndex = body["logIndex"] is JsonValue index && index.TryGetValue<long>(out var i) ? i : null,
            Summary = Truncate(summary),
            Body = json,
            RaisedAt = _time.GetUtcNow(),
        };
    }

    private static string Text(JsonObject body, string name) => body[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";

    private static string Truncate(string text, int max = MaxSummaryChars) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>One unit of work (on a fresh context of its own); database failures become a clear error without the connection string.</summary>
    private static async Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException or InvalidOperationException)
        {
            var cause = ex is DbUpdateException { InnerException: { } inner } ? inner : ex;
            throw cause switch
            {
                PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } =>
                    new CliException(ExitCodes.Error, "the state database has no monitor tables: apply migrations/ (TransparencyLog.LogService migrate) first"),
                PostgresException { SqlState: PostgresErrorCodes.CheckViolation } check =>
                    new CliException(ExitCodes.Error, $"the state database refused the monitor's state: {check.MessageText}"),
                _ => new CliException(ExitCodes.Error, $"the state database cannot be used: {cause.Message}"),
            };
        }
    }
}
