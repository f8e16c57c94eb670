using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
/// rows the sequencer writes, with the service's own code for each of them: each entry's body is written by the
/// hashedrekord parser's canonical writer and keyed by <see cref="SearchKeys"/> (every 61st proposal also goes through
/// <see cref="ProposedEntryParser"/> whole, signature and certificate included, and must give the same bytes), hashed
/// by <see cref="EntryToAppend"/>, signed by the log's key (<see cref="LogInstance.SignEntryTimestampAsync"/>),
/// appended in batches to the same <see cref="TreeEdge"/> the sequencer keeps (whose changed tiles are stored as
/// <see cref="TileStore.Encode"/> stores them), and each batch gets a checkpoint signed by
/// <see cref="LogInstance.SignCheckpointAsync"/>. Rows go in with binary COPY as the superuser, one transaction per
/// chunk that also moves the head, so the log is consistent after every commit and a fill that is interrupted or
/// asked for a larger size continues from the head; <c>fsck --full</c> then re-derives it independently. The next
/// chunk is generated on both cores while the previous one is copied. The log row and key are the service's:
/// <see cref="LogRegistry"/> opens (or creates) the log with the key file in the state directory, as the service does
/// at start-up. The service must not be running.
/// </summary>
/// <remarks>
/// The entries are hashedrekord entries, each over a fresh random artifact digest, signed under the 64 certificate
/// identities of the explorer benchmark (<c>signer-N@bench.example</c>, a new key and certificate per identity on each
/// run), spread over the last <c>--span-days</c> days so the growth chart has a history.
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
        var parseEvery = 61;
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
                case "--parse-every": parseEvery = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                case "--span-days": spanDays = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {option}");
            }
        }

        if (admin is null || stateDirectory is null || target <= 0 || batchSize is < 1 or > 1000 || chunkSize < batchSize || parseEvery < 1)
        {
            await Console.Error.WriteLineAsync("usage: fill --admin-connection CS --state-directory DIR --entries N [--log-name NAME] [--batch 1..1000] [--chunk N] [--parse-every N] [--span-days D]");
            return 2;
        }

        // No command timeout: a chunk's COPY is answered only when the server has stored all of it, which on a loaded
        // machine took longer than Npgsql's default 30 s (the fill then died mid-chunk; rerunning it continued).
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(admin) { CommandTimeout = 0 }.ConnectionString);
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

        var limits = new LimitsOptions().ToEntryLimits();
        var identities = Identity.MakeAll(limits);
        var now = DateTimeOffset.UtcNow;
        var first = size;
        var spanStart = headTime > now.AddDays(-spanDays) ? headTime : now.AddDays(-spanDays);
        var secondsPerEntry = (now - spanStart).TotalSeconds / (target - first);
        Console.WriteLine(Inv($"fill: log {name} from {size:N0} to {target:N0} entries, batches of {batchSize}, one transaction per {chunkSize:N0}; every {parseEvery}th proposal also through the service's parser"));
        var wall = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stages = new Stages();
        var waitGenerate = TimeSpan.Zero;
        var copy = TimeSpan.Zero;
        var writeSteps = new double[3];

        // Chunk N + 1 is generated (both cores) while chunk N is copied and committed: PostgreSQL's work overlaps the
        // signing. Chunks are built one after another, so the tree edge is only ever touched by one of them.
        Task<Chunk> Build(long from, int count) => Task.Run(() =>
        {
            var rows = Generate(log, identities, limits, from, count, batchSize, parseEvery, stages, i => spanStart.AddSeconds((i - first) * secondsPerEntry));
            var started = Stopwatch.GetTimestamp();
            var chunk = Sequence(log, edge, rows, batchSize);
            Interlocked.Add(ref stages.Sequence, Stopwatch.GetTimestamp() - started);
            return chunk;
        });

        Task<Chunk>? pending = Build(size, (int)Math.Min(chunkSize, target - size));
        while (pending is not null)
        {
            var step = Stopwatch.StartNew();
            var chunk = await pending;
            waitGenerate += step.Elapsed;
            var end = size + chunk.Rows.Length;
            pending = end < target ? Build(end, (int)Math.Min(chunkSize, target - end)) : null;
            step.Restart();
            await WriteAsync(dataSource, log.Id, chunk, writeSteps);
            copy += step.Elapsed;
            size = end;
            Console.WriteLine(Inv($"  {size:N0} entries ({(size - first) / wall.Elapsed.TotalSeconds:N0}/s, load average {LoadAverage()})"));
        }

        // A sequencer's log is vacuumed and analysed by autovacuum as it grows; after a bulk load that work would land
        // in the first measurement (as PostgreSQL CPU per read), so it is done here, before the service starts.
        var vacuumTime = Stopwatch.StartNew();
        await using (var vacuum = dataSource.CreateCommand("VACUUM (ANALYZE) entries, search_index, tiles, checkpoints"))
        {
            vacuum.CommandTimeout = 0;
            await vacuum.ExecuteNonQueryAsync();
        }

        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var filled = size - first;
        Console.WriteLine(Inv($"fill: {filled:N0} entries in {wall.Elapsed.TotalSeconds:F1} s ({filled / wall.Elapsed.TotalSeconds:N0}/s): waiting for generation {waitGenerate.TotalSeconds:F1} s, COPY and commit {copy.TotalSeconds:F1} s (overlapping the next chunk's generation: entries {writeSteps[0]:F1} s, search keys {writeSteps[1]:F1} s, tiles, checkpoints, head and commit {writeSteps[2]:F1} s), VACUUM (ANALYZE) {vacuumTime.Elapsed.TotalSeconds:F1} s; filler CPU {cpu.TotalMicroseconds / filled:F0} µs/entry"));
        Console.WriteLine(Inv($"fill: thread time per entry: proposal signature {stages.Micros(stages.Propose, filled):F1} µs, body and search keys {stages.Micros(stages.Body, filled):F1}, service parser (every {parseEvery}th) {stages.Micros(stages.Parse, filled):F1}, SET {stages.Micros(stages.Set, filled):F1}, tiles and checkpoints {stages.Micros(stages.Sequence, filled):F1}"));
        return 0;
    }

    /// <summary>One entry as the sequencer stores it.</summary>
    private sealed record Row(long Index, EntryToAppend Entry, long IntegratedTime, byte[] Signature);

    /// <summary>A chunk ready to write: its rows, the last content of every tile it changed (encoded), its checkpoints.</summary>
    private sealed record Chunk(Row[] Rows, Dictionary<(int Level, long Index), byte[]> Tiles, List<(long Size, Hash Root, string Note, DateTimeOffset SignedAt)> Checkpoints);

    /// <summary>Thread time by stage (Stopwatch ticks, summed over the threads that did it).</summary>
    private sealed class Stages
    {
        public long Propose;
        public long Body;
        public long Parse;
        public long Set;
        public long Sequence;

        public double Micros(long ticks, long entries) => ticks * 1e6 / Stopwatch.Frequency / entries;
    }

    /// <summary>
    /// One certificate identity, parsed once by the service's own parser: the canonical key content and the search
    /// keys it gives are the same for every entry signed under it (the parser derives them from the certificate alone).
    /// </summary>
    private sealed record Identity(ECDsa Key, string CertificateBase64, string PublicKeyContent, IReadOnlyList<string> Fingerprints, IReadOnlyList<string> Identities)
    {
        public static Identity[] MakeAll(EntryLimits limits) =>
            [.. ExplorerBenchmark.MakeSigners().Select(signer =>
            {
                var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(32));
                var signature = Convert.ToBase64String(signer.Key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence));
                var parsed = ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(Proposals.HashedRekord(Convert.ToHexStringLower(digest), signature, signer.CertificateBase64)), limits);
                using var body = JsonDocument.Parse(parsed.CanonicalBody);
                var content = body.RootElement.GetProperty("spec").GetProperty("signature").GetProperty("publicKey").GetProperty("content").GetString()
                    ?? throw new InvalidOperationException("the parser's body has no key content");
                return new Identity(signer.Key, signer.CertificateBase64, content, parsed.IndexKeys.PublicKeyFingerprints, parsed.IndexKeys.Identities);
            })];
    }

    /// <summary>
    /// Signed proposals turned into the sequencer's entries, in parallel: each batch shares one integrated time, as a
    /// sequencer batch does, and the SET covers the entry's index. Each entry is a fresh artifact digest signed with its
    /// identity's key; its body is written by the parser's own canonical writer
    /// (<see cref="HashedRekordV001.CanonicalBody"/>) and its search keys from the identity's parsed keys plus the
    /// digest. Every <paramref name="parseEvery"/>th proposal (61 is prime to the 64 identities, so every identity is
    /// sampled) also goes through <see cref="ProposedEntryParser"/> whole (JSON, certificate, signature verification),
    /// and the fill stops if its body or keys differ by a byte.
    /// </summary>
    private static Row[] Generate(
        LogInstance log, Identity[] identities, EntryLimits limits,
        long firstIndex, int count, int batchSize, int parseEvery, Stages stages, Func<long, DateTimeOffset> timeOf)
    {
        var rows = new Row[count];
        Parallel.For(0, count, i =>
        {
            var index = firstIndex + i;
            var identity = identities[index % identities.Length];
            var t0 = Stopwatch.GetTimestamp();
            Span<byte> artifact = stackalloc byte[32];
            RandomNumberGenerator.Fill(artifact);
            var digest = SHA256.HashData(artifact);
            var signature = identity.Key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            var t1 = Stopwatch.GetTimestamp();
            var hex = Convert.ToHexStringLower(digest);
            var signatureBase64 = Convert.ToBase64String(signature);
            var body = HashedRekordV001.CanonicalBody("sha256", hex, signatureBase64, identity.PublicKeyContent);
            var searchKeys = SearchKeys.For(new EntryIndexKeys([$"sha256:{hex}"], identity.Fingerprints, identity.Identities));
            var t2 = Stopwatch.GetTimestamp();
            if (index % parseEvery == 0)
            {
                var parsed = ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(Proposals.HashedRekord(hex, signatureBase64, identity.CertificateBase64)), limits);
                if (!parsed.CanonicalBody.AsSpan().SequenceEqual(body) || parsed.Kind != HashedRekordV001.Kind || parsed.ApiVersion != HashedRekordV001.ApiVersion
                    || !SearchKeys.For(parsed.IndexKeys).SequenceEqual(searchKeys, StringComparer.Ordinal))
                {
                    throw new InvalidOperationException(Inv($"fill: entry {index} differs from what the service's parser makes of its proposal"));
                }
            }

            var t3 = Stopwatch.GetTimestamp();
            var entry = new EntryToAppend(body, HashedRekordV001.Kind, HashedRekordV001.ApiVersion, searchKeys);
            var batchFirst = index - ((index - firstIndex) % batchSize);
            var integratedTime = timeOf(batchFirst).ToUnixTimeSeconds();
            rows[i] = new Row(index, entry, integratedTime, log.SignEntryTimestampAsync(entry.Body, integratedTime, index, CancellationToken.None).Completed());
            var t4 = Stopwatch.GetTimestamp();
            Interlocked.Add(ref stages.Propose, t1 - t0);
            Interlocked.Add(ref stages.Body, t2 - t1);
            Interlocked.Add(ref stages.Parse, t3 - t2);
            Interlocked.Add(ref stages.Set, t4 - t3);
        });
        return rows;
    }

    /// <summary>
    /// Appends the rows to the edge batch by batch, as the sequencer does, keeping the last content of every tile the
    /// batches changed (encoded now: the edge's arrays change with the next chunk) and one signed checkpoint per batch.
    /// </summary>
    private static Chunk Sequence(LogInstance log, TreeEdge edge, Row[] rows, int batchSize)
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

        return new Chunk(rows, tiles.ToDictionary(t => t.Key, t => TileStore.Encode(t.Value)), checkpoints);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <param name="seconds">Wall time added up by step: [0] the entries' COPY, [1] the search keys', [2] tiles, checkpoints, head and commit.</param>
    private static async Task WriteAsync(NpgsqlDataSource dataSource, int logId, Chunk chunk, double[] seconds)
    {
        var (rows, tiles, checkpoints) = chunk;
        var step = Stopwatch.StartNew();
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

        seconds[0] += step.Elapsed.TotalSeconds;
        step.Restart();
        await using (var keys = await connection.BeginBinaryImportAsync("COPY search_index (log_id, key, idx) FROM STDIN (FORMAT BINARY)"))
        {
            // In the index's order (key, then index; the cluster's collation is C): the B-tree inserts of a chunk walk
            // the index once instead of jumping to a random leaf per artifact digest.
            var ordered = rows
                .SelectMany(row => row.Entry.SearchKeys.Distinct(StringComparer.Ordinal).Select(key => (Key: key, row.Index)))
                .OrderBy(k => k.Key, StringComparer.Ordinal).ThenBy(k => k.Index);
            foreach (var (key, index) in ordered)
            {
                await keys.StartRowAsync();
                await keys.WriteAsync(logId, NpgsqlDbType.Integer);
                await keys.WriteAsync(key, NpgsqlDbType.Text);
                await keys.WriteAsync(index, NpgsqlDbType.Bigint);
            }

            await keys.CompleteAsync();
        }

        seconds[1] += step.Elapsed.TotalSeconds;
        step.Restart();

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
                await copy.WriteAsync(hashes, NpgsqlDbType.Bytea);
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
        seconds[2] += step.Elapsed.TotalSeconds;
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
