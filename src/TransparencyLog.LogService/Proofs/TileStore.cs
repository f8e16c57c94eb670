using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>A tile's coordinates within one log.</summary>
internal readonly record struct TileKey(int Level, long Index);

/// <summary>
/// Reads tiles from PostgreSQL, caching what it read. Tiles only ever grow at their end, so a cached tile is a valid
/// prefix forever: it answers every request that needs no more entries than it holds.
/// </summary>
internal sealed class TileStore(ReadReplica replica, IOptions<StorageOptions> options)
{
    // Two eviction classes: level-0 tiles go first. They are 255 of every 256 tiles and each serves only its own 256
    // entries (and a level-0 tile that is not cached comes with its entry in the same round trip), while the few tiles
    // above serve every proof.
    private readonly ByteBoundedCache<(int LogId, TileKey Tile), TileNodes> _cache = new(options.Value.TileCacheBytes, evictionClasses: 2);

    /// <summary>Bytes the cached tiles hold now, at most <see cref="StorageOptions.TileCacheBytes"/>.</summary>
    public long CachedBytes => _cache.Bytes;

    /// <summary>
    /// The summaries of full level-0 tiles, kept for every full level-0 tile this store sees when
    /// <see cref="StorageOptions.TileSummaryCacheBytes"/> allows (by default none: the tile rows hold them, migration 0015).
    /// </summary>
    public TileSummaries Summaries { get; } = new(options.Value.TileSummaryCacheBytes);

    public TileNodes Remember(int logId, TileKey tile, Hash[] entries)
    {
        var nodes = new TileNodes(entries);
        KeepSummary(logId, tile, nodes);
        return _cache.Add((logId, tile), nodes, nodes.Bytes, tile.Level == 0 ? 0 : 1, held => held.Width >= nodes.Width);
    }

    /// <summary>
    /// Whether a full tile would be cached now without evicting another: then an entry read fetches its tile whole and
    /// caches it (the tile's later reads need no tile at all), else only its entry's group when the summary is held.
    /// </summary>
    public bool HasRoomForFullTile => _cache.HasRoom(TileNodes.FullTileBytes);

    /// <summary>
    /// A level-0 tile an entry read fetched whole: its nodes for this read, and its summary kept when it is full. A full
    /// tile is cached only while the cache has room for it: with more level-0 tiles than the cache holds, caching each
    /// fetched tile would only evict another (and churn the heap), while its summary makes the next read of it cheap.
    /// </summary>
    public TileNodes Read(int logId, TileKey tile, Hash[] entries)
    {
        if (tile.Level != 0 || entries.Length != TileMath.Width || HasRoomForFullTile)
        {
            // A tile that will grow (the right edge), or room: cached as any tile read.
            return Remember(logId, tile, entries);
        }

        var nodes = new TileNodes(entries);
        KeepSummary(logId, tile, nodes);
        return nodes;
    }

    private void KeepSummary(int logId, TileKey tile, TileNodes nodes)
    {
        if (tile.Level == 0 && nodes.Width == TileMath.Width)
        {
            Summaries.Remember(logId, tile.Index, nodes.Summary);
        }
    }

    /// <summary>Whether the cache holds the tile with at least <paramref name="width"/> entries.</summary>
    public bool Holds(int logId, TileKey tile, int width) => TryGetCached(logId, tile, width, out _);

    /// <summary>The cached tile, when the cache holds it with at least <paramref name="width"/> entries.</summary>
    public bool TryGetCached(int logId, TileKey tile, int width, [NotNullWhen(true)] out TileNodes? nodes) =>
        _cache.TryGet((logId, tile), out nodes) && nodes.Width >= width;

    /// <summary>Reads every wanted tile with at least the given number of entries, from cache or one query.</summary>
    public async Task<Dictionary<TileKey, TileNodes>> ReadAsync(
        int logId, IReadOnlyDictionary<TileKey, int> wanted, CancellationToken cancellationToken)
    {
        var result = new Dictionary<TileKey, TileNodes>(wanted.Count);
        List<TileKey>? missing = null;
        foreach (var (tile, width) in wanted)
        {
            if (_cache.TryGet((logId, tile), out var cached) && cached.Width >= width)
            {
                result[tile] = cached;
            }
            else
            {
                (missing ??= []).Add(tile);
            }
        }

        if (missing is null)
        {
            return result;
        }

        if (replica.Standby is { } standby)
        {
            // The standby's tiles are a consistent earlier state: those it has at the wanted width are as good as the
            // primary's (tiles only grow); the rest it has not replayed yet and the primary answers.
            await FetchAsync(standby, logId, missing, result, cancellationToken);
            var behind = missing.Where(t => !result.TryGetValue(t, out var read) || read.Width < wanted[t]).ToList();
            ReadReplica.Count(fallback: behind.Count > 0);
            missing = behind;
        }

        if (missing.Count > 0)
        {
            await FetchAsync(replica.Primary, logId, missing, result, cancellationToken);
        }

        foreach (var tile in missing)
        {
            if (!result.TryGetValue(tile, out var read) || read.Width < wanted[tile])
            {
                throw new LogStorageException($"tile {tile.Level}/{tile.Index} of log {logId} is missing or shorter than the tree needs");
            }
        }

        return result;
    }

    private async Task FetchAsync(
        NpgsqlDataSource source, int logId, List<TileKey> tiles, Dictionary<TileKey, TileNodes> result, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("""
            SELECT t.level, t.idx, t.hashes
            FROM tiles t JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx
            WHERE t.log_id = $1
            """);
        command.Parameters.AddWithValue(logId);
        command.Parameters.Add(new NpgsqlParameter { Value = tiles.Select(t => (short)t.Level).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
        command.Parameters.Add(new NpgsqlParameter { Value = tiles.Select(t => t.Index).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var tile = new TileKey(reader.GetInt16(0), reader.GetInt64(1));
            result[tile] = Remember(logId, tile, Decode((byte[])reader[2]));
        }
    }

    public static Hash[] Decode(ReadOnlySpan<byte> bytes)
    {
        var entries = new Hash[bytes.Length / Hash.Size];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = Hash.FromBytes(bytes.Slice(i * Hash.Size, Hash.Size));
        }

        return entries;
    }

    public static byte[] Encode(ReadOnlySpan<Hash> entries)
    {
        var bytes = new byte[entries.Length * Hash.Size];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i].CopyTo(bytes.AsSpan(i * Hash.Size, Hash.Size));
        }

        return bytes;
    }
}
