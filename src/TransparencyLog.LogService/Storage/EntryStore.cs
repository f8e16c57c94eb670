using Npgsql;
using NpgsqlTypes;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Storage;

/// <summary>An entry as stored: its canonical body, position and the log's signature made when it was appended.</summary>
internal sealed record StoredEntry(long Index, byte[] Body, long IntegratedTime, byte[]? EntrySignature, Hash LeafHash);

/// <summary>Reads entries and the search index. Writes happen only in the sequencer's transaction.</summary>
internal sealed class EntryStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "idx, body, integrated_time, entry_signature, leaf_hash";

    public async Task<StoredEntry?> GetByIndexAsync(int logId, long index, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM entries WHERE log_id = $1 AND idx = $2");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(index);
        return await ReadOneAsync(command, cancellationToken);
    }

    public async Task<StoredEntry?> GetByLeafHashAsync(int logId, Hash leafHash, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM entries WHERE log_id = $1 AND leaf_hash = $2");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(leafHash.ToArray());
        return await ReadOneAsync(command, cancellationToken);
    }

    /// <summary>Bodies of entries [start, start + count), in index order.</summary>
    public async Task<List<byte[]>> GetBodiesAsync(int logId, long start, int count, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT body FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(start);
        command.Parameters.AddWithValue(start + count);
        var bodies = new List<byte[]>(count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            bodies.Add((byte[])reader[0]);
        }

        return bodies;
    }

    /// <summary>Bodies and extra data of entries [start, start + count), in index order.</summary>
    public async Task<List<(byte[] Body, byte[]? ExtraData)>> GetBodiesWithExtraDataAsync(int logId, long start, int count, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT body, extra_data FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx");
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(start);
        command.Parameters.AddWithValue(start + count);
        var rows = new List<(byte[], byte[]?)>(count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(((byte[])reader[0], reader.IsDBNull(1) ? null : (byte[])reader[1]));
        }

        return rows;
    }

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

    private static async Task<StoredEntry?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredEntry(
            reader.GetInt64(0),
            (byte[])reader[1],
            reader.GetInt64(2),
            reader.IsDBNull(3) ? null : (byte[])reader[3],
            Hash.FromBytes((byte[])reader[4]));
    }
}
