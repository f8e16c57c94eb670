using System.Buffers.Binary;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// How fast the same PostgreSQL cluster stores rows shaped like the log's entries with no log around them: the
/// naive Rekor-style way (each row its own INSERT and commit, one fsync'd WAL flush per row unless concurrent commits
/// share one) and batched (many rows per transaction), the ceiling any sequencer on this disk can approach.
/// Tables are <c>LIKE entries INCLUDING ALL</c>: the same columns, checks and indexes (primary key and the unique
/// leaf-hash index), without the log's triggers and foreign key.
/// </summary>
internal sealed class RawInsertBaseline(string adminConnectionString, int clients, int bodyBytes)
{
    private const string Columns = "log_id, idx, leaf_hash, body, integrated_time, kind, api_version, entry_signature";

    public async Task<PhaseResult> SingleRowAsync(TimeSpan duration)
    {
        await using var dataSource = await CreateTableAsync("bench_raw_single");
        long next = -1;
        var connections = await OpenAsync(dataSource);
        try
        {
            return await LoadPhase.RunAsync("raw PG, 1 row/commit", clients, duration, async (worker, cancellationToken) =>
            {
                var connection = connections[worker];
                var index = Interlocked.Increment(ref next);
                await using var insert = new NpgsqlCommand($"INSERT INTO bench_raw_single ({Columns}) VALUES (1, $1, $2, $3, $4, 'hashedrekord', '0.0.1', $5)", connection);
                var (leaf, body, signature) = Row(index);
                insert.Parameters.AddWithValue(index);
                insert.Parameters.AddWithValue(leaf);
                insert.Parameters.AddWithValue(body);
                insert.Parameters.AddWithValue(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                insert.Parameters.AddWithValue(signature);
                await insert.ExecuteNonQueryAsync(cancellationToken);
                return Outcome.Ok;
            });
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>Each request is one transaction of <paramref name="rows"/> rows; the result counts rows, latency is per transaction.</summary>
    public async Task<(PhaseResult Transactions, long Rows)> BatchedAsync(TimeSpan duration, int rows)
    {
        await using var dataSource = await CreateTableAsync("bench_raw_batched");
        long next = -rows;
        var connections = await OpenAsync(dataSource);
        try
        {
            var result = await LoadPhase.RunAsync($"raw PG, {rows} rows/commit", clients, duration, async (worker, cancellationToken) =>
            {
                var connection = connections[worker];
                var first = Interlocked.Add(ref next, rows);
                var indices = new long[rows];
                var leaves = new byte[rows][];
                var bodies = new byte[rows][];
                var signatures = new byte[rows][];
                for (var r = 0; r < rows; r++)
                {
                    indices[r] = first + r;
                    (leaves[r], bodies[r], signatures[r]) = Row(first + r);
                }

                await using var insert = new NpgsqlCommand($"""
                    INSERT INTO bench_raw_batched ({Columns})
                    SELECT 1, r.idx, r.leaf_hash, r.body, $4, 'hashedrekord', '0.0.1', r.sig
                    FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $5::bytea[]) AS r(idx, leaf_hash, body, sig)
                    """, connection);
                insert.Parameters.AddWithValue(indices);
                insert.Parameters.Add(new NpgsqlParameter { Value = leaves, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
                insert.Parameters.Add(new NpgsqlParameter { Value = bodies, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
                insert.Parameters.AddWithValue(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                insert.Parameters.Add(new NpgsqlParameter { Value = signatures, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
                await insert.ExecuteNonQueryAsync(cancellationToken);
                return Outcome.Ok;
            });
            return (result, result.Succeeded * rows);
        }
        finally
        {
            await CloseAsync(connections);
        }
    }

    /// <summary>A row like a real entry: a body of the measured canonical size, its leaf hash, a DER-sized signature.</summary>
    private (byte[] Leaf, byte[] Body, byte[] Signature) Row(long index)
    {
        var body = new byte[bodyBytes];
        RandomNumberGenerator.Fill(body);
        BinaryPrimitives.WriteInt64LittleEndian(body, index);
        var signature = new byte[72];
        RandomNumberGenerator.Fill(signature);
        return (SHA256.HashData(body), body, signature);
    }

    // Each closed-loop worker keeps one connection for the whole phase, as C separate naive clients would.
    private async Task<NpgsqlConnection[]> OpenAsync(NpgsqlDataSource dataSource)
    {
        var connections = new NpgsqlConnection[clients];
        for (var i = 0; i < clients; i++)
        {
            connections[i] = await dataSource.OpenConnectionAsync();
        }

        return connections;
    }

    private static async Task CloseAsync(NpgsqlConnection[] connections)
    {
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    private async Task<NpgsqlDataSource> CreateTableAsync(string table)
    {
        var builder = new NpgsqlConnectionStringBuilder(adminConnectionString) { MaxPoolSize = clients + 2, MinPoolSize = 0 };
        var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var create = dataSource.CreateCommand($"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (LIKE entries INCLUDING ALL)");
        await create.ExecuteNonQueryAsync();
        return dataSource;
    }
}
