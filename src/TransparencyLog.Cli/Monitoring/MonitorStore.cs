using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// Where the monitor keeps what it verified (its position in one log) and remembers the alerts it raised: a state
/// file (<see cref="FileMonitorStore"/>, the default) or PostgreSQL (<see cref="DatabaseMonitorStore"/>,
/// <c>--state-db</c>).
/// </summary>
internal interface IMonitorStore : IAsyncDisposable
{
    /// <summary>Where the state is, for messages (never a connection string: it may hold a password).</summary>
    string Description { get; }

    Task<MonitorState?> LoadAsync(CancellationToken cancellationToken);

    Task SaveAsync(MonitorState state, CancellationToken cancellationToken);

    /// <summary>
    /// Records an alert before it is sent; false when this store already holds it as delivered (sent by an earlier
    /// cycle or process), so it is not sent again.
    /// </summary>
    Task<bool> RecordAsync(MonitorEvent alert, CancellationToken cancellationToken);

    /// <summary>Every sink took the alert (or gave up after its retries).</summary>
    Task DeliveredAsync(MonitorEvent alert, CancellationToken cancellationToken);
}

/// <summary>
/// The state file: written after the alerts went out, so a crash in between rescans and re-sends (at least once).
/// Alerts are not remembered beyond that: the saved position is what keeps a match from being sent twice.
/// </summary>
internal sealed class FileMonitorStore(string path) : IMonitorStore
{
    public string Description => $"the state file {path}";

    public Task<MonitorState?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(MonitorState.Load(path));

    public Task SaveAsync(MonitorState state, CancellationToken cancellationToken)
    {
        state.Save(path);
        return Task.CompletedTask;
    }

    public Task<bool> RecordAsync(MonitorEvent alert, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task DeliveredAsync(MonitorEvent alert, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
