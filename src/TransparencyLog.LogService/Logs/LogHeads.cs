using System.Collections.Concurrent;
using Npgsql;
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
internal sealed class LogHeads(NpgsqlDataSource dataSource, TimeProvider time)
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

        await using var command = dataSource.CreateCommand(
            "SELECT tree_size, root_hash, checkpoint, checkpoint_time FROM logs WHERE id = $1");
        command.Parameters.AddWithValue(logId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"log {logId} does not exist");
        }

        var head = new TreeHead(reader.GetInt64(0), Hash.FromBytes((byte[])reader[1]), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
        Observe(logId, head, now);
        return head;
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
