using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// Grows the Rekor v1 log of a database to a target size for the flat-cost benchmark (issue 13), writing exactly the
/// rows the sequencer writes, with the service's own code for each of them: each proposal is parsed and canonicalised
/// by <see cref="ProposedEntryParser"/> (signature verified), keyed by <see cref="SearchKeys"/>, hashed by
/// <see cref="EntryToAppend"/>, signed by the log's key (<see cref="LogInstance.SignEntryTimestamp"/>), appended in
/// batches to the same <see cref="TreeEdge"/> the sequencer keeps (whose changed tiles are stored as
/// <see cref="TileStore.Encode"/> stores them), and each batch gets a checkpoint signed by
/// <see cref="LogInstance.SignCheckpoint"/>. Rows go in with binary COPY as the superuser, one transaction per chunk
/// that also moves the head, so the log is consistent after every commit; <c>fsck --full</c> then re-derives it
/// independently. The log row and key are the service's: <see cref="LogRegistry"/> opens (or creates) the log with the
/// key file in the state directory, as the service does at start-up. The service must not be running.
/// </summary>
/// <remarks>
/// The entries are hashedrekord entries signed under the 64 certificate identities of the explorer benchmark
/// (<c>signer-N@bench.example</c>), spread over the last <c>--span-days</c> days so the growth chart has a history.
/// </remarks>
internal static class LogFill
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? admin = null;
        string? stateDirectory = null;
        var name = "bench.log.local";
        long target = 0;
        var batchSize = 256;
        var chunkSize = 65_536;
        var spanDays = 30;
        for (var i = 0; i < args.Length; i++)
        {
            var option = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{option} needs a value");
            switch (option)
            {
                case "--admin-connection": admin = Next(); break;
                case "--state-directory": stateDirectory = Next(); break;
                case "--log-name": name = Next(); break;
                case "--entries": target = long.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                case "--batch": batchSize = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                case "--chunk": chunkSize = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                case "--span-days": spanDays = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {option}");
            }
        }

        if (admin is null || stateDirectory is null || target <= 0 || batchSize is < 1 or > 1000 || chunkSize < batchSize)
        {
            await Console.Error.WriteLineAsync("usage: fill --admin-connection CS --state-directory DIR --entries N [--log-name NAME] [--batch 1..1000] [--chunk N] [--span-days D]");
            return 2;
        }

        await using var dataSource = NpgsqlDataSource.Create(admin);
        var log = await new LogRegistry(dataSource, TimeProvider.System)
            .OpenAsync(LogKind.RekorV1, new LogOptions { Enabled = true, Name = name, StateDirectory = stateDirectory }, CancellationToken.None);
        var (size, root, headTime) = await HeadAsync(dataSource, log.Id);
        if (size >= target)
        {
            Console.WriteLine(Inv($"fill: log {name} already holds {size:N0} entries (target {target:N0}); nothing to do"));
            return 0;
        }

        var edge = await LoadEdgeAsync(dataSource, log.Id, size);
        if (edge.Root != root)
        {
            await Console.Error.WriteLineAsync(Inv($"fill: the tiles of log {name} do not give its head's root at size {size}; run fsck"));
            return 1;
        }

        var signers = ExplorerBenchmark.MakeSigners();
        var limits = new LimitsOptions().ToEntryLimits();
        var now = DateTimeOffset.UtcNow;
        var first = size;
        var spanStart = headTime > now.AddDays(-spanDays) ? headTime : now.AddDays(-spanDays);
        var secondsPerEntry = (now - spanStart).TotalSeconds / (target - first);
        Console.WriteLine(Inv($"fill: log {name} from {size:N0} to {target:N0} entries, batches of {batchSize}, one transaction per {chunkSize:N0}"));
        var wall = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var generate = TimeSpan.Zero;
        var copy = TimeSpan.Zero;
        while (size < target)
        {
            var count = (int)Math.Min(chunkSize, target - size);
            var step = Stopwatch.StartNew();
            var chunk = Generate(log, signers, limits, size, count, batchSize, i => spanStart.AddSeconds((i - first) * secondsPerEntry));
            var (tiles, checkpoints) = Sequence(log, edge, chunk, batchSize);
            generate += step.Elapsed;
            step.Restart();
            await WriteAsync(dataSource, log.Id, chunk, tiles, checkpoints);
            copy += step.Elapsed;
            size += count;
            Console.WriteLine(Inv($"  {size:N0} entries ({(size - first) / wall.Elapsed.TotalSeconds:N0}/s)"));
        }

        // A sequencer's log is vacuumed and analysed by autovacuum as it grows; after a bulk load that work would land
        // in the first measurement (as PostgreSQL CPU per read), so it is done here, before the service starts.
        await using (var vacuum = dataSource.CreateCommand("VACUUM (ANALYZE) entries, search_index, tiles, checkpoints"))
        {
            vacuum.CommandTimeout = 0;
            await vacuum.ExecuteNonQueryAsync();
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var filled = size - first;
        Console.WriteLine(Inv($"fill: {filled:N0} entries in {wall.Elapsed.TotalSeconds:F1} s ({filled / wall.Elapsed.TotalSeconds:N0}/s): generating, signing and tiling {generate.TotalSeconds:F1} s, COPY and commit {copy.TotalSeconds:F1} s; filler CPU {cpu.TotalMicroseconds / filled:F0} µs/entry"));
        return 0;
    }

    /// <summary>One entry as the sequencer stores it.</summary>
    private sealed record Row(long Index, EntryToAppend Entry, long IntegratedTime, byte[] Signature);

    /// <summary>
    /// Signed proposals turned into the sequencer's entries, in parallel: each batch shares one integrated time, as a
    /// sequencer batch does, and the SET covers the entry's index.
    /// </summary>
    private static Row[] Generate(
        LogInstance log, (ECDsa Key, string Email, string CertificateBase64)[] signers, EntryLimits limits,
        long firstIndex, int count, int batchSize, Func<long, DateTimeOffset> timeOf)
    {
        var rows = new Row[count];
        Parallel.For(0, count, i =>
        {
            var index = firstIndex + i;
            var (key, _, certificate) = signers[index % signers.Length];
            var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(32));
            var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            var proposal = Proposals.HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), certificate);
            var proposed = ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(proposal), limits);
            var entry = new EntryToAppend(proposed.CanonicalBody, proposed.Kind, proposed.ApiVersion, SearchKeys.For(proposed.IndexKeys));
            var batchFirst = index - ((index - firstIndex) % batchSize);
            var integratedTime = timeOf(batchFirst).ToUnixTimeSeconds();
            rows[i] = new Row(index, entry, integratedTime, log.SignEntryTimestampAsync(entry.Body, integratedTime, index, CancellationToken.None).Completed());
        });
        return rows;
    }

    /// <summary>
    /// Appends the rows to the edge batch by batch, as the sequencer does, keeping the last content of every tile the
    /// batches changed and one signed checkpoint per batch.
    /// </summary>
    private static (Dictionary<(int Level, long Index), Hash[]> Tiles, List<(long Size, Hash Root, string Note, DateTimeOffset SignedAt)> Checkpoints) Sequence(
        LogInstance log, TreeEdge edge, Row[] rows, int batchSize)
    {
        var tiles = new Dictionary<(int Level, long Index), Hash[]>();
        var checkpoints = new List<(long, Hash, string, DateTimeOffset)>();
        for (var start = 0; start < rows.Length; start += batchSize)
        {
            var batch = rows.AsSpan(start, Math.Min(batchSize, rows.Length - start));
            var leaves = new Hash[batch.Length];
            for (var i = 0; i < batch.Length; i++)
            {
                leaves[i] = batch[i].Entry.LeafHash;
            }

            foreach (var (tile, entries) in edge.Append(leaves))
            {
                tiles[(tile.Level, tile.Index)] = entries;
            }

            var signedAt = DateTimeOffset.FromUnixTimeSeconds(batch[^1].IntegratedTime);
            checkpoints.Add((edge.Size, edge.Root, log.SignCheckpointAsync(edge.Size, edge.Root, signedAt, CancellationToken.None).Completed(), signedAt));
        }

        return (tiles, checkpoints);
    }

    private static async Task WriteAsync(
        NpgsqlDataSource dataSource, int logId, Row[] rows,
        Dictionary<(int Level, long Index), Hash[]> tiles, List<(long Size, Hash Root, string Note, DateTimeOffset SignedAt)> checkpoints)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var entries = await connection.BeginBinaryImportAsync(
            "COPY entries (log_id, idx, leaf_hash, body, integrated_time, kind, api_version, entry_signature, extra_data) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await entries.StartRowAsync();
                await entries.WriteAsync(logId, NpgsqlDbType.Integer);
                await entries.WriteAsync(row.Index, NpgsqlDbType.Bigint);
                await entries.WriteAsync(row.Entry.LeafHash.ToArray(), NpgsqlDbType.Bytea);
                await entries.WriteAsync(row.Entry.Body, NpgsqlDbType.Bytea);
                await entries.WriteAsync(row.IntegratedTime, NpgsqlDbType.Bigint);
                await entries.WriteAsync(row.Entry.Kind, NpgsqlDbType.Text);
                await entries.WriteAsync(row.Entry.ApiVersion, NpgsqlDbType.Text);
                await entries.WriteAsync(row.Signature, NpgsqlDbType.Bytea);
                await entries.WriteNullAsync();
            }

            await entries.CompleteAsync();
        }

        await using (var keys = await connection.BeginBinaryImportAsync("COPY search_index (log_id, key, idx) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                foreach (var key in row.Entry.SearchKeys.Distinct(StringComparer.Ordinal))
                {
                    await keys.StartRowAsync();
                    await keys.WriteAsync(logId, NpgsqlDbType.Integer);
                    await keys.WriteAsync(key, NpgsqlDbType.Text);
                    await keys.WriteAsync(row.Index, NpgsqlDbType.Bigint);
                }
            }

            await keys.CompleteAsync();
        }

        // Tiles the previous chunk left partial are extended in place (the tiles_extend_only trigger checks the prefix).
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE fill_tiles (level smallint, idx bigint, hashes bytea) ON COMMIT DROP", connection, transaction))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY fill_tiles (level, idx, hashes) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var ((level, index), hashes) in tiles.OrderBy(t => t.Key.Level).ThenBy(t => t.Key.Index))
            {
                await copy.StartRowAsync();
                await copy.WriteAsync((short)level, NpgsqlDbType.Smallint);
                await copy.WriteAsync(index, NpgsqlDbType.Bigint);
                await copy.WriteAsync(TileStore.Encode(hashes), NpgsqlDbType.Bytea);
            }

            await copy.CompleteAsync();
        }

        await using (var merge = new NpgsqlCommand("""
            INSERT INTO tiles (log_id, level, idx, hashes) SELECT $1, level, idx, hashes FROM fill_tiles
            ON CONFLICT (log_id, level, idx) DO UPDATE SET hashes = EXCLUDED.hashes
            """, connection, transaction))
        {
            merge.Parameters.AddWithValue(logId);
            await merge.ExecuteNonQueryAsync();
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY checkpoints (log_id, tree_size, root_hash, note, signed_at) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (size, root, note, signedAt) in checkpoints)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(logId, NpgsqlDbType.Integer);
                await copy.WriteAsync(size, NpgsqlDbType.Bigint);
                await copy.WriteAsync(root.ToArray(), NpgsqlDbType.Bytea);
                await copy.WriteAsync(note, NpgsqlDbType.Text);
                await copy.WriteAsync(signedAt, NpgsqlDbType.TimestampTz);
            }

            await copy.CompleteAsync();
        }

        var head = checkpoints[^1];
        await using (var update = new NpgsqlCommand(
            "UPDATE logs SET tree_size = $2, root_hash = $3, checkpoint = $4, checkpoint_time = $5 WHERE id = $1", connection, transaction))
        {
            update.Parameters.AddWithValue(logId);
            update.Parameters.AddWithValue(head.Size);
            update.Parameters.AddWithValue(head.Root.ToArray());
            update.Parameters.AddWithValue(head.Note);
            update.Parameters.AddWithValue(head.SignedAt);
            await update.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private static async Task<(long Size, Hash Root, DateTimeOffset Time)> HeadAsync(NpgsqlDataSource dataSource, int logId)
    {
        await using var command = dataSource.CreateCommand("SELECT tree_size, root_hash, checkpoint_time FROM logs WHERE id = $1");
        command.Parameters.AddWithValue(logId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), Hash.FromBytes((byte[])reader[1]), reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>The partial tiles at the head's size, as the sequencer reads them when its prediction fails.</summary>
    private static async Task<TreeEdge> LoadEdgeAsync(NpgsqlDataSource dataSource, int logId, long size)
    {
        var partial = new List<Hash[]>();
        for (var level = 0; level < 8 && (level == 0 || size >> (8 * level) > 0); level++)
        {
            var width = TileMath.PartialWidth(level, size);
            if (width == 0)
            {
                partial.Add([]);
                continue;
            }

            await using var command = dataSource.CreateCommand("SELECT hashes FROM tiles WHERE log_id = $1 AND level = $2 AND idx = $3");
            command.Parameters.AddWithValue(logId);
            command.Parameters.AddWithValue((short)level);
            command.Parameters.AddWithValue(TileMath.FullTileCount(level, size));
            var hashes = await command.ExecuteScalarAsync() as byte[] ?? [];
            partial.Add(TileStore.Decode(hashes)[..width]);
        }

        return new TreeEdge(size, partial);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
