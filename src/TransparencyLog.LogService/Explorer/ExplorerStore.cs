using Npgsql;
using NpgsqlTypes;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Explorer;

/// <summary>An entry as the explorer lists it.</summary>
internal sealed record ExplorerEntry(int LogId, long Index, byte[] Body, long IntegratedTime, string Kind, string ApiVersion, byte[]? EntrySignature, Hash LeafHash);

/// <summary>A position in a search's results, newest log and index first: the last row of the previous page.</summary>
internal readonly record struct SearchCursor(int LogId, long Index)
{
    public override string ToString() => $"{LogId}.{Index}";

    public static bool TryParse(string? text, out SearchCursor cursor)
    {
        cursor = default;
        var dot = text?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (text is null || text.Length > 40 || dot < 1
            || !int.TryParse(text.AsSpan(0, dot), System.Globalization.NumberStyles.None, null, out var logId)
            || !long.TryParse(text.AsSpan(dot + 1), System.Globalization.NumberStyles.None, null, out var index))
        {
            return false;
        }

        cursor = new SearchCursor(logId, index);
        return true;
    }
}

/// <summary>
/// The explorer's reads. Every query is an index lookup bounded by a page size: search keys through the
/// <c>search_index</c> primary key (key, log_id, idx), entries by primary key or leaf hash, sizes over time through
/// <c>checkpoints_by_time</c>. Nothing here scans a log.
/// </summary>
internal sealed class ExplorerStore(NpgsqlDataSource dataSource)
{
    private const string EntryColumns = "e.log_id, e.idx, e.body, e.integrated_time, e.kind, e.api_version, e.entry_signature, e.leaf_hash";

    /// <summary>Entries under one search key in the given logs, newest first, after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    public async Task<List<ExplorerEntry>> SearchAsync(string key, int[] logIds, SearchCursor? after, int limit, CancellationToken cancellationToken)
    {
        // The row comparison walks the (key, log_id, idx) primary key backwards from the cursor: keyset paging.
        await using var command = dataSource.CreateCommand($"""
            SELECT {EntryColumns}
            FROM (SELECT log_id, idx FROM search_index
                  WHERE key = $1 AND log_id = ANY($2) AND (log_id, idx) < ($3, $4)
                  ORDER BY log_id DESC, idx DESC LIMIT $5) s
            JOIN entries e ON e.log_id = s.log_id AND e.idx = s.idx
            ORDER BY e.log_id DESC, e.idx DESC
            """);
        command.Parameters.AddWithValue(key);
        command.Parameters.Add(new NpgsqlParameter { Value = logIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        command.Parameters.AddWithValue(after?.LogId ?? int.MaxValue);
        command.Parameters.AddWithValue(after?.Index ?? long.MaxValue);
        command.Parameters.AddWithValue(limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<ExplorerEntry?> GetAsync(int logId, long index, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {EntryColumns} FROM entries e WHERE e.log_id = $1 AND e.idx = $2");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(index);
        return (await ReadAllAsync(command, cancellationToken)).FirstOrDefault();
    }

    public async Task<ExplorerEntry?> GetByLeafHashAsync(int logId, Hash leafHash, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {EntryColumns} FROM entries e WHERE e.log_id = $1 AND e.leaf_hash = $2");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(leafHash.ToArray());
        return (await ReadAllAsync(command, cancellationToken)).FirstOrDefault();
    }

    /// <summary>The newest entries of a log, below <paramref name="before"/> (exclusive), newest first.</summary>
    public async Task<List<ExplorerEntry>> LatestAsync(int logId, long before, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {EntryColumns} FROM entries e WHERE e.log_id = $1 AND e.idx < $2 ORDER BY e.idx DESC LIMIT $3");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(before);
        command.Parameters.AddWithValue(limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>
    /// The log's size at each of <paramref name="times"/>: the largest signed checkpoint at or before it (0 before the
    /// first). One index probe per point.
    /// </summary>
    public async Task<long[]> SizesAtAsync(int logId, DateTimeOffset[] times, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT t.at, coalesce(c.tree_size, 0)
            FROM unnest($2::timestamptz[]) WITH ORDINALITY AS t(at, n)
            LEFT JOIN LATERAL (SELECT tree_size FROM checkpoints
                               WHERE log_id = $1 AND signed_at <= t.at
                               ORDER BY signed_at DESC LIMIT 1) c ON true
            ORDER BY t.n
            """);
        command.Parameters.AddWithValue(logId);
        command.Parameters.Add(new NpgsqlParameter { Value = times, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        var sizes = new long[times.Length];
        var i = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sizes[i++] = reader.GetInt64(1);
        }

        return sizes;
    }

    /// <summary>The checkpoint the log signed when it first reached <paramref name="size"/>, if it kept one.</summary>
    public async Task<(Hash Root, DateTimeOffset SignedAt)?> CheckpointAtAsync(int logId, long size, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT root_hash, signed_at FROM checkpoints WHERE log_id = $1 AND tree_size = $2");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(size);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (Hash.FromBytes((byte[])reader[0]), reader.GetFieldValue<DateTimeOffset>(1))
            : null;
    }

    private static async Task<List<ExplorerEntry>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var result = new List<ExplorerEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new ExplorerEntry(
                reader.GetInt32(0),
                reader.GetInt64(1),
                (byte[])reader[2],
                reader.GetInt64(3),
                reader.GetString(4),
                reader.GetString(5),
                reader.IsDBNull(6) ? null : (byte[])reader[6],
                Hash.FromBytes((byte[])reader[7])));
        }

        return result;
    }
}
