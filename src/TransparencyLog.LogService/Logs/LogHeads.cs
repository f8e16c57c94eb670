using System.Collections.Concurrent;
using Npgsql;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Logs;

/// <summary>A signed tree head: size, root and the checkpoint that signs exactly them.</summary>
internal sealed record TreeHead(long Size, Hash Root, string Checkpoint, DateTimeOffset SignedAt);

/// <summary>
/// The latest tree head of each log. Reads may use a head up to <see cref="MaxAge"/> old: every head served is a
/// signed one, and proofs are built for exactly its size, so a slightly older head is still a consistent answer.
/// Other processes appending to the same log are picked up by that refresh.
/// </summary>
internal sealed class LogHeads(ReadReplica replica, TimeProvider time, StorageAvailability availability)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<int, (TreeHead Head, DateTimeOffset ReadAt)> _heads = new();

    public async Task<TreeHead> GetAsync(int logId, bool fresh, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!fresh && _heads.TryGetValue(logId, out var cached) && now - cached.ReadAt < MaxAge)
        {
            return cached.Head;
        }

        return await ReadAsync(replica.Reads, logId, now, cancellationToken);
    }

    /// <summary>
    /// The primary's head (the standby's may lag), for a read about an index or tile no known head covers yet: only
    /// the primary can say it does not exist. Without a standby the same as a fresh <see cref="GetAsync"/>.
    /// </summary>
    public async Task<TreeHead> GetNewestAsync(int logId, CancellationToken cancellationToken)
    {
        var head = await ReadAsync(replica.Primary, logId, time.GetUtcNow(), cancellationToken);
        if (replica.Standby is not null)
        {
            ReadReplica.Count(fallback: true);
        }

        return head;
    }

    private async Task<TreeHead> ReadAsync(NpgsqlDataSource source, int logId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(
            "SELECT tree_size, root_hash, checkpoint, checkpoint_time FROM logs WHERE id = $1");
        command.Parameters.AddWithValue(logId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"log {logId} does not exist");
        }

        var head = new TreeHead(reader.GetInt64(0), Hash.FromBytes((byte[])reader[1]), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
        Observe(logId, head, now);
        availability.ReportSuccess();

        // A standby behind a head this process already committed or saw: answer with the newer one, which is signed
        // and whose entries and tiles the primary has (reads fall back to it for what the standby lacks).
        return _heads.TryGetValue(logId, out var latest) && latest.Head.Size > head.Size ? latest.Head : head;
    }

    /// <summary>
    /// <see cref="GetAsync"/> for reads that a signed head answers by itself (a checkpoint, log info, an STH, tiles it
    /// covers): while the database is unavailable, the last head this process saw. It was signed, so it is still a
    /// true statement about the log, only not the newest one; monitors see a log that did not grow meanwhile. Without
    /// a head seen since start, the outage propagates (503).
    /// </summary>
    public async Task<TreeHead> GetServableAsync(int logId, bool fresh, CancellationToken cancellationToken)
    {
        // Known to be down: answer at once rather than wait out a connection attempt per request. The checkpoint
        // refresher probes the database every second and reports when it is back.
        if (availability.IsUnavailable && _heads.TryGetValue(logId, out var known))
        {
            return known.Head;
        }

        try
        {
            return await GetAsync(logId, fresh, cancellationToken);
        }
        catch (Exception e) when (StorageAvailability.IsOutage(e) && _heads.TryGetValue(logId, out var last))
        {
            availability.ReportFailure(e);
            return last.Head;
        }
    }

    /// <summary>Records a head this process has just committed or read; never moves a cached head backwards.</summary>
    public void Observe(int logId, TreeHead head, DateTimeOffset? readAt = null)
    {
        var at = readAt ?? time.GetUtcNow();
        var latest = _heads.AddOrUpdate(
            logId,
            (head, at),
            (_, old) => old.Head.Size > head.Size ? (old.Head, at) : (head, at));
        LogServiceMetrics.TreeSize.WithLabels(LogServiceMetrics.LogLabel(logId)).Set(latest.Head.Size);
    }
}
