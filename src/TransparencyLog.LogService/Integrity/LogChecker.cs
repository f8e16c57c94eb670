using System.Data;
using System.Globalization;
using Npgsql;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Integrity;

/// <summary>The first place a log's storage disagrees with what its entries, tiles and key imply.</summary>
/// <param name="Row">The table and row (and where inside it), e.g. <c>tiles row 0/3, hash 17</c>.</param>
internal sealed record Divergence(string Row, string Expected, string Found)
{
    public override string ToString() => $"{Row}: expected {Expected}, found {Found}";
}

/// <summary>How much of a log to check: everything, or its last entries (with the tiles above them) and checkpoints.</summary>
internal sealed record CheckScope(long? LastEntries, int? LastCheckpoints)
{
    public static CheckScope Full { get; } = new(null, null);
}

/// <summary>What a check of one log covered and, when it failed, where.</summary>
internal sealed record LogCheckResult(
    string Name, string Kind, long TreeSize, long FirstEntry, long Entries, long Tiles, long Checkpoints, Divergence? Divergence)
{
    public bool Consistent => Divergence is null;

    public override string ToString() => Divergence is null
        ? $"ok    log {Name} ({Kind}): size {TreeSize}; entries {FirstEntry}..{TreeSize - 1} ({Entries}), {Tiles} tiles, {Checkpoints} checkpoints verified"
        : $"FAIL  log {Name} ({Kind}): {Divergence}";
}

/// <summary>
/// Re-derives a log from its entries and compares every stored row with the result: each entry's leaf is the hash
/// of its body and indices are gap-free up to the head; level-0 tiles hold those leaves and each higher tile hash is
/// the root of the full tile below it; no entry or tile lies beyond the head; the head's root and every stored
/// checkpoint's root recompute from the tiles; and every checkpoint text is signed by the log's key and names
/// exactly its row's size and root. This is what the database cannot check itself (migration 0003 covers the rest).
/// One repeatable-read snapshot per log, so a log that is being appended to is checked at one consistent point.
/// </summary>
internal sealed class LogChecker(NpgsqlDataSource dataSource)
{
    /// <summary>Entries read per query: 64 level-0 tiles.</summary>
    private const int EntryChunk = 64 * TileMath.Width;

    public async Task<IReadOnlyList<LogCheckResult>> CheckAllAsync(CheckScope scope, CancellationToken cancellationToken)
    {
        var ids = new List<int>();
        await using (var command = dataSource.CreateCommand("SELECT id FROM logs ORDER BY id"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt32(0));
            }
        }

        var results = new List<LogCheckResult>(ids.Count);
        foreach (var id in ids)
        {
            results.Add(await CheckAsync(id, scope, cancellationToken));
        }

        return results;
    }

    public async Task<LogCheckResult> CheckAsync(int logId, CheckScope scope, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var check = await Run.StartAsync(connection, transaction, logId, cancellationToken);
        var divergence = await check.CheckAsync(scope, cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
        return new LogCheckResult(check.Name, check.Kind, check.Size, check.FirstEntry, check.EntriesChecked, check.TilesChecked, check.CheckpointsChecked, divergence);
    }

    /// <summary>One log's check, in order: entries, tiles level by level, rows beyond the head, head, checkpoints.</summary>
    private sealed class Run
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;
        private readonly int _logId;
        private readonly long _treeId;
        private readonly byte[] _publicKey;
        private readonly Hash _root;
        private readonly string _checkpoint;
        private readonly Dictionary<TileKey, TileNodes?> _tiles = [];

        private Run(NpgsqlConnection connection, NpgsqlTransaction transaction, int logId, string name, string kind, long treeId, byte[] publicKey, long size, Hash root, string checkpoint)
        {
            _connection = connection;
            _transaction = transaction;
            _logId = logId;
            Name = name;
            Kind = kind;
            _treeId = treeId;
            _publicKey = publicKey;
            Size = size;
            _root = root;
            _checkpoint = checkpoint;
        }

        public string Name { get; }

        public string Kind { get; }

        public long Size { get; }

        public long FirstEntry { get; private set; }

        public long EntriesChecked { get; private set; }

        public long TilesChecked { get; private set; }

        public long CheckpointsChecked { get; private set; }

        public static async Task<Run> StartAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int logId, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand(
                "SELECT name, kind, tree_id, public_key, tree_size, root_hash, checkpoint FROM logs WHERE id = $1", connection, transaction);
            command.Parameters.AddWithValue(logId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"log {logId} does not exist");
            }

            return new Run(
                connection, transaction, logId, reader.GetString(0), reader.GetString(1), reader.GetInt64(2), (byte[])reader[3],
                reader.GetInt64(4), Hash.FromBytes((byte[])reader[5]), reader.GetString(6));
        }

        public async Task<Divergence?> CheckAsync(CheckScope scope, CancellationToken cancellationToken)
        {
            // Start on a tile boundary so every level-0 tile checked is checked whole.
            FirstEntry = scope.LastEntries is { } last ? Math.Max(0, Size - last) / TileMath.Width * TileMath.Width : 0;
            return await EntriesBeyondHeadAsync(cancellationToken)
                ?? await TreeAsync(cancellationToken)
                ?? await TilesBeyondHeadAsync(cancellationToken)
                ?? await HeadAsync(cancellationToken)
                ?? await CheckpointsAsync(scope.LastCheckpoints, cancellationToken);
        }

        private async Task<Divergence?> EntriesBeyondHeadAsync(CancellationToken cancellationToken)
        {
            await using var command = Command("SELECT min(idx) FROM entries WHERE log_id = $1 AND idx >= $2", _logId, Size);
            return await command.ExecuteScalarAsync(cancellationToken) is long index
                ? new Divergence($"entries row idx {index}", $"no entry at or beyond the head's size {Size}", "an entry")
                : null;
        }

        /// <summary>
        /// Level 0 from the entries, then each level from the level below: the expected hashes of level L + 1 are the
        /// roots of the full level-L tiles just verified.
        /// </summary>
        private async Task<Divergence?> TreeAsync(CancellationToken cancellationToken)
        {
            var parents = new List<Hash>();
            for (var start = FirstEntry; start < Size; start += EntryChunk)
            {
                var end = Math.Min(Size, start + EntryChunk);
                var leaves = new List<Hash>(EntryChunk);
                if (await EntriesAsync(start, end, leaves, cancellationToken) is { } divergence)
                {
                    return divergence;
                }

                // Chunks end on tile boundaries except the last, which ends at the head: "end" is the node count.
                if (await LevelAsync(0, start, end, leaves, parents, cancellationToken) is { } tileDivergence)
                {
                    return tileDivergence;
                }
            }

            var first = FirstEntry;
            for (var level = 1; level <= 7 && (Size >> (8 * level)) > 0; level++)
            {
                first >>= 8;
                var expected = parents;
                parents = [];
                if (await LevelAsync(level, first, Size >> (8 * level), expected, parents, cancellationToken) is { } divergence)
                {
                    return divergence;
                }
            }

            return null;
        }

        private async Task<Divergence?> EntriesAsync(long start, long end, List<Hash> leaves, CancellationToken cancellationToken)
        {
            await using var command = Command("SELECT idx, leaf_hash, body FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx", _logId, start, end);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
            var next = start;
            while (await reader.ReadAsync(cancellationToken))
            {
                var index = reader.GetInt64(0);
                if (index != next)
                {
                    return Missing(next);
                }

                var stored = Hash.FromBytes(await reader.GetFieldValueAsync<byte[]>(1, cancellationToken));
                var leaf = Rfc6962.HashLeaf(await reader.GetFieldValueAsync<byte[]>(2, cancellationToken));
                if (leaf != stored)
                {
                    return new Divergence($"entries row idx {index} leaf_hash", $"{leaf} (the hash of its body)", stored.ToString());
                }

                leaves.Add(leaf);
                next++;
                EntriesChecked++;
            }

            return next < end ? Missing(next) : null;

            Divergence Missing(long index) =>
                new($"entries row idx {index}", $"an entry (indices are gap-free up to the head's size {Size})", "no row");
        }

        /// <summary>
        /// Compares the stored tiles holding nodes [first, count) of a level with <paramref name="expected"/> (the hashes
        /// of those nodes, in order) and adds the root of every full tile to <paramref name="parents"/>.
        /// </summary>
        private async Task<Divergence?> LevelAsync(int level, long first, long count, List<Hash> expected, List<Hash> parents, CancellationToken cancellationToken)
        {
            var firstTile = first / TileMath.Width;
            var endTile = (count + TileMath.Width - 1) / TileMath.Width;
            var stored = new Dictionary<long, Hash[]>();
            // A full level-0 tile's stored summary (migration 0015; absent on a tile stored before it until the service's
            // start-up pass fills it) must be the nodes of its hashes: reads build proofs from it.
            var summaries = new Dictionary<long, Hash[]>();
            await using (var command = Command("SELECT idx, hashes, summary FROM tiles WHERE log_id = $1 AND level = $2 AND idx >= $3 AND idx < $4", _logId, (short)level, firstTile, endTile))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    stored[reader.GetInt64(0)] = TileStore.Decode((byte[])reader[1]);
                    if (!reader.IsDBNull(2))
                    {
                        summaries[reader.GetInt64(0)] = TileStore.Decode((byte[])reader[2]);
                    }
                }
            }

            for (var tile = firstTile; tile < endTile; tile++)
            {
                var row = $"tiles row {level}/{tile}";
                var width = (int)Math.Min(TileMath.Width, count - (tile * TileMath.Width));
                if (!stored.TryGetValue(tile, out var hashes))
                {
                    return new Divergence(row, $"a tile of {width} hashes (head size {Size})", "no row");
                }

                if (hashes.Length != width)
                {
                    return new Divergence(row, $"{width} hashes (head size {Size})", $"{hashes.Length} hashes");
                }

                for (var j = (int)Math.Max(0, first - (tile * TileMath.Width)); j < width; j++)
                {
                    var node = (tile * TileMath.Width) + j;
                    var want = expected[(int)(node - first)];
                    if (hashes[j] != want)
                    {
                        var what = level == 0 ? $"the leaf hash of entry {node}" : $"the root of tile {level - 1}/{node}";
                        return new Divergence($"{row}, hash {j}", $"{want} ({what})", hashes[j].ToString());
                    }
                }

                if (summaries.TryGetValue(tile, out var summary))
                {
                    var want = width == TileMath.Width ? TileSummaries.Summarize(hashes) : null;
                    if (want is null || !summary.AsSpan().SequenceEqual(want))
                    {
                        return new Divergence($"{row}, summary", want is null ? "no summary (not a full tile)" : "the tile's nodes at height 4", $"{summary.Length} other hashes");
                    }
                }

                if (width == TileMath.Width)
                {
                    parents.Add(TileMath.FoldPerfect(hashes));
                }

                TilesChecked++;
            }

            return null;
        }

        private async Task<Divergence?> TilesBeyondHeadAsync(CancellationToken cancellationToken)
        {
            // A level holds floor(size / 256^level) nodes; a tile starting at or after that count has no place.
            await using var command = Command("""
                SELECT level, idx FROM tiles
                WHERE log_id = $1 AND CASE WHEN level > 7 THEN true ELSE idx * 256 >= ($2 >> (8 * level)) END
                ORDER BY level, idx LIMIT 1
                """, _logId, Size);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new Divergence($"tiles row {reader.GetInt16(0)}/{reader.GetInt64(1)}", $"no tile beyond the head's size {Size}", "a tile")
                : null;
        }

        private async Task<Divergence?> HeadAsync(CancellationToken cancellationToken)
        {
            var computed = await RootFromTilesAsync(Size, cancellationToken);
            if (computed != _root)
            {
                return new Divergence("logs row (head) root_hash", Describe(computed, Size), _root.ToString());
            }

            return CheckNote("logs row (head) checkpoint", _checkpoint, Size, _root);
        }

        private async Task<Divergence?> CheckpointsAsync(int? last, CancellationToken cancellationToken)
        {
            // Newest first when bounded; then checked in ascending order so tiles are reused between neighbours.
            var rows = new List<(long Size, Hash Root, string Note)>();
            await using (var command = last is { } limit
                ? Command("SELECT tree_size, root_hash, note FROM checkpoints WHERE log_id = $1 ORDER BY tree_size DESC LIMIT $2", _logId, limit)
                : Command("SELECT tree_size, root_hash, note FROM checkpoints WHERE log_id = $1 ORDER BY tree_size", _logId))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add((reader.GetInt64(0), Hash.FromBytes((byte[])reader[1]), reader.GetString(2)));
                }
            }

            foreach (var (size, root, note) in rows.OrderBy(r => r.Size))
            {
                var row = $"checkpoints row tree_size {size}";
                if (size > Size)
                {
                    return new Divergence(row, $"a size the head has reached (at most {Size})", $"size {size}");
                }

                var computed = await RootFromTilesAsync(size, cancellationToken);
                if (computed != root)
                {
                    return new Divergence($"{row} root_hash", Describe(computed, size), root.ToString());
                }

                if (CheckNote($"{row} note", note, size, root) is { } divergence)
                {
                    return divergence;
                }

                CheckpointsChecked++;
            }

            return null;
        }

        private Divergence? CheckNote(string row, string note, long size, Hash root)
        {
            LogPublicKey key;
            try
            {
                key = LogPublicKey.FromSpki(_publicKey);
            }
            catch (KeyLoadException e)
            {
                return new Divergence("logs row public_key", "a P-256 or Ed25519 public key", e.Message);
            }

            if (!new NoteVerifier(Name, key).TryVerifyCheckpoint(note, out var checkpoint) || checkpoint is null)
            {
                return new Divergence(row, $"a checkpoint signed by {Name}'s key", "a note whose signature does not verify with it");
            }

            var origin = Kind == "rekor-v1" ? $"{Name} - {_treeId.ToString(CultureInfo.InvariantCulture)}" : Name;
            if (checkpoint.Origin != origin)
            {
                return new Divergence(row, $"origin {origin}", $"origin {checkpoint.Origin}");
            }

            var signedRoot = Hash.FromBytes(checkpoint.RootHash);
            return checkpoint.Size != size || signedRoot != root
                ? new Divergence(row, $"size {size} and root {root}", $"size {checkpoint.Size} and root {signedRoot}")
                : null;
        }

        private static string Describe(Hash? computed, long size) => computed is { } root
            ? $"{root} (the root of the tiles at size {size})"
            : $"a root, but the tiles for size {size} are missing or short";

        /// <summary>The root at <paramref name="size"/> folded from the stored tiles' perfect subtrees, or null when a tile is missing.</summary>
        private async Task<Hash?> RootFromTilesAsync(long size, CancellationToken cancellationToken)
        {
            if (size == 0)
            {
                return Rfc6962.EmptyRoot;
            }

            var hashes = new List<Hash>();
            foreach (var node in ProofService.CompactRange(size))
            {
                var (level, index, offset, count) = TileMath.Locate(node);
                var nodes = await TileAsync(new TileKey(level, index), cancellationToken);
                if (nodes is null || nodes.Width < offset + count)
                {
                    return null;
                }

                hashes.Add(nodes.Node(offset, count));
            }

            return ProofService.FoldRightToLeft(hashes);
        }

        private async Task<TileNodes?> TileAsync(TileKey key, CancellationToken cancellationToken)
        {
            if (_tiles.TryGetValue(key, out var cached))
            {
                return cached;
            }

            if (_tiles.Count > 4096)
            {
                // Checkpoints are visited in size order, so the working set is the few tiles along the moving edge.
                _tiles.Clear();
            }

            await using var command = Command("SELECT hashes FROM tiles WHERE log_id = $1 AND level = $2 AND idx = $3", _logId, (short)key.Level, key.Index);
            var nodes = await command.ExecuteScalarAsync(cancellationToken) is byte[] bytes ? new TileNodes(TileStore.Decode(bytes)) : null;
            _tiles[key] = nodes;
            return nodes;
        }

        private NpgsqlCommand Command(string sql, params object[] parameters)
        {
            var command = new NpgsqlCommand(sql, _connection, _transaction);
            foreach (var parameter in parameters)
            {
                command.Parameters.AddWithValue(parameter);
            }

            return command;
        }
    }
}
