using Npgsql;
using TransparencyLog.LogService.Hosting;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Where reads go: a PostgreSQL hot standby (streaming replication) when <see cref="StorageOptions.StandbyConnectionString"/>
/// is set, else the primary. A standby replays the primary's commits in commit order, so each of its answers is a
/// consistent earlier state of the log: a head with exactly the entries and tiles it covers. What it has not replayed
/// yet (an entry or a tile the caller already knows exists, e.g. from a head this process committed) is read from the
/// primary instead, so a read is never refused or answered from an older state than the head it is served with.
/// Appends, the sequencer and search (whose misses cannot be told from lag) always use the primary.
/// </summary>
internal sealed class ReadReplica(NpgsqlDataSource primary, NpgsqlDataSource? standby) : IAsyncDisposable
{
    public NpgsqlDataSource Primary => primary;

    /// <summary>The standby, or null when reads go to the primary.</summary>
    public NpgsqlDataSource? Standby => standby;

    /// <summary>Where a read that any consistent state answers goes first.</summary>
    public NpgsqlDataSource Reads => standby ?? primary;

    /// <summary>Counts a read the standby answered, or one it could not answer yet that went to the primary.</summary>
    public static void Count(bool fallback) =>
        LogServiceMetrics.StandbyReads.WithLabels(fallback ? "primary_fallback" : "standby").Inc();

    public ValueTask DisposeAsync() => standby?.DisposeAsync() ?? ValueTask.CompletedTask;
}
