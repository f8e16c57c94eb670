using Npgsql;
using NpgsqlTypes;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Storage;

/// <summary>An entry as stored: its canonical body, position and the log's signature made when it was appended.</summary>
internal sealed record StoredEntry(long Index, byte[] Body, long IntegratedTime, byte[]? EntrySignature, Hash LeafHash);

/// <summary>What part of an entry's level-0 tile an entry lookup reads with it.</summary>
internal enum TilePart
{
    /// <summary>None: the tile is cached.</summary>
    None,

    /// <summary>The whole tile (up to 8 KiB): its summary is not held, or it is not full yet.</summary>
    Whole,

    /// <summary>
    /// The 16 leaf hashes of the entry's group (512 bytes) and, when the row has it (migration 0015), the full tile's
    /// summary after them (512 more).
    /// </summary>
    Group,
}

/// <summary>Reads entries and the search index. Writes happen only in the sequencer's transaction.</summary>
internal sealed class EntryStore(NpgsqlDataSource dataSource, ReadReplica replica)
{
    private const string Columns = "idx, body, integrated_time, entry_signature, leaf_hash";

    public Task<StoredEntry?> GetByIndexAsync(int logId, long index, CancellationToken cancellationToken) =>
        ReadAsync(
            $"SELECT {Columns} FROM entries WHERE log_id = $1 AND idx = $2",
            command =>
            {
                command.Parameters.AddWithValue(logId);
                command.Parameters.AddWithValue(index);
            },
            ReadOneAsync,
            found => found is not null,
            cancellationToken);

    /// <summary>
    /// The entry and, in the same round trip, the part of its level-0 tile's hashes asked for (null when that tile row
    /// does not exist): for an inclusion proof whose lower eight levels are not cached.
    /// </summary>
    public Task<(StoredEntry? Entry, byte[]? Tile)> GetByIndexWithTileAsync(int logId, long index, TilePart part, CancellationToken cancellationToken) =>
        ReadAsync(
            WithTileSql(part, "e.idx = $2"),
            command =>
            {
                command.Parameters.AddWithValue(logId);
                command.Parameters.AddWithValue(index);
            },
            async (command, ct) =>
            {
                await using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct)
                    ? (Read(reader), reader.IsDBNull(5) ? null : (byte[])reader[5])
                    : ((StoredEntry?)null, (byte[]?)null);
            },
            found => found.Item1 is not null && Complete(part, found.Item2),
            cancellationToken);

    /// <summary>
    /// The entries at <paramref name="indices"/> (distinct), in one statement, each with the part of its level-0 tile
    /// asked for (null when that tile row does not exist); indices with no entry are absent from the answer. For
    /// <see cref="EntryLookups"/>, which gathers lookups that arrive while others are in flight.
    /// </summary>
    public Task<List<(StoredEntry Entry, byte[]? Tile)>> GetManyByIndexAsync(int logId, long[] indices, TilePart part, CancellationToken cancellationToken) =>
        ReadAsync(
            part == TilePart.None
                ? $"SELECT {Columns} FROM entries WHERE log_id = $1 AND idx = ANY($2)"
                : WithTileSql(part, "e.idx = ANY($2)"),
            command =>
            {
                command.Parameters.AddWithValue(logId);
                command.Parameters.Add(new NpgsqlParameter { Value = indices, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            },
            async (command, ct) =>
            {
                var rows = new List<(StoredEntry, byte[]?)>(indices.Length);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add((Read(reader), part != TilePart.None && !reader.IsDBNull(5) ? (byte[])reader[5] : null));
                }

                return rows;
            },
            // On a standby, an index (or a tile group) it has not replayed yet is asked of the primary with the rest of
            // the batch.
            rows => rows.Count == indices.Length && rows.TrueForAll(row => Complete(part, row.Item2)),
            cancellationToken);

    // One indexed lookup per entry either way: the entries' primary key, then the tiles' for the entry's level-0 tile.
    // The group is the entry's aligned run of 16 leaves: a 512-byte substring of the tile row, of which PostgreSQL
    // fetches only the TOAST chunks it covers (a tile's 8 KiB of random hashes are stored out of line, uncompressed).
    // The summary (0015) is stored inline in the tile's heap tuple, which the lookup reads anyway; a tile stored before
    // that migration and not filled yet has none, and the answer is the group alone.
    private static string WithTileSql(TilePart part, string match) =>
        $"""
        SELECT e.idx, e.body, e.integrated_time, e.entry_signature, e.leaf_hash, {(part == TilePart.Group
            ? "substring(t.hashes FROM ((e.idx % 256) / 16 * 512 + 1)::int FOR 512) || coalesce(t.summary, ''::bytea)"
            : "t.hashes")}
        FROM entries e LEFT JOIN tiles t ON t.log_id = e.log_id AND t.level = 0 AND t.idx = e.idx / 256
        WHERE e.log_id = $1 AND {match}
        """;

    // A group is asked for only when the tile is full at the head being served: a shorter answer is a standby that has
    // not replayed the tile's last entries yet.
    private static bool Complete(TilePart part, byte[]? tile) =>
        part != TilePart.Group || tile?.Length is TileSummaries.GroupWidth * Hash.Size or 2 * TileSummaries.GroupWidth * Hash.Size;

    public Task<StoredEntry?> GetByLeafHashAsync(int logId, Hash leafHash, CancellationToken cancellationToken) =>
        ReadAsync(
            $"SELECT {Columns} FROM entries WHERE log_id = $1 AND leaf_hash = $2",
            command =>
            {
                command.Parameters.AddWithValue(logId);
                command.Parameters.AddWithValue(leafHash.ToArray());
            },
            ReadOneAsync,
            found => found is not null,
            cancellationToken);

    /// <summary>Bodies of entries [start, start + count), in index order.</summary>
    public Task<List<byte[]>> GetBodiesAsync(int logId, long start, int count, CancellationToken cancellationToken) =>
        ReadAsync(
            "SELECT body FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
            command => BindRange(command, logId, start, count),
            async (command, ct) =>
            {
                var bodies = new List<byte[]>(count);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    bodies.Add((byte[])reader[0]);
                }

                return bodies;
            },
            bodies => bodies.Count == count,
            cancellationToken);

    /// <summary>Bodies and extra data of entries [start, start + count), in index order.</summary>
    public Task<List<(byte[] Body, byte[]? ExtraData)>> GetBodiesWithExtraDataAsync(int logId, long start, int count, CancellationToken cancellationToken) =>
        ReadAsync(
            "SELECT body, extra_data FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
            command => BindRange(command, logId, start, count),
            async (command, ct) =>
            {
                var rows = new List<(byte[], byte[]?)>(count);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add(((byte[])reader[0], reader.IsDBNull(1) ? null : (byte[])reader[1]));
                }

                return rows;
            },
            rows => rows.Count == count,
            cancellationToken);

    /// <summary>
    /// Indices of entries matching the search keys: all of them (<paramref name="matchAll"/>) or any, at most
    /// <paramref name="limit"/>, in index order.
    /// </summary>
    public async Task<List<long>> SearchAsync(int logId, IReadOnlyList<string> keys, bool matchAll, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(matchAll
            ? """
              SELECT idx FROM search_index WHERE log_id = $1 AND key = ANY($2)
              GROUP BY idx HAVING count(DISTINCT key) = $3 ORDER BY idx LIMIT $4
              """
            : "SELECT DISTINCT idx FROM search_index WHERE log_id = $1 AND key = ANY($2) ORDER BY idx LIMIT $4");
        command.Parameters.AddWithValue(logId);
        command.Parameters.Add(new NpgsqlParameter { Value = keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.AddWithValue((long)keys.Distinct(StringComparer.Ordinal).Count());
        command.Parameters.AddWithValue(limit);
        var result = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(reader.GetInt64(0));
        }

        return result;
    }

    private static void BindRange(NpgsqlCommand command, int logId, long start, int count)
    {
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(start);
        command.Parameters.AddWithValue(start + count);
    }

    /// <summary>
    /// Runs a read on the standby when there is one; an answer that is not <paramref name="complete"/> (the standby has
    /// not replayed those entries yet, or they do not exist) is asked of the primary, which has the last word.
    /// </summary>
    private async Task<T> ReadAsync<T>(
        string sql,
        Action<NpgsqlCommand> bind,
        Func<NpgsqlCommand, CancellationToken, Task<T>> read,
        Func<T, bool> complete,
        CancellationToken cancellationToken)
    {
        if (replica.Standby is { } standby)
        {
            await using (var onStandby = standby.CreateCommand(sql))
            {
                bind(onStandby);
                var answer = await read(onStandby, cancellationToken);
                if (complete(answer))
                {
                    ReadReplica.Count(fallback: false);
                    return answer;
                }
            }

            ReadReplica.Count(fallback: true);
        }

        await using var command = dataSource.CreateCommand(sql);
        bind(command);
        return await read(command, cancellationToken);
    }

    private static async Task<StoredEntry?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return Read(reader);
    }

    private static StoredEntry Read(NpgsqlDataReader reader)
    {
        return new StoredEntry(
            reader.GetInt64(0),
            (byte[])reader[1],
            reader.GetInt64(2),
            reader.IsDBNull(3) ? null : (byte[])reader[3],
            Hash.FromBytes((byte[])reader[4]));
    }
}
