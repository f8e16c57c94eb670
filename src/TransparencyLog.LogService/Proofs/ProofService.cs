using TransparencyLog.LogService.Hosting;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>
/// Builds roots and proofs for any tree size from stored tiles. Every proof node is a perfect subtree, so it is read
/// from (or folded inside) one tile: cost grows with log n, and a later tile answers for every earlier size.
/// </summary>
internal sealed class ProofService(TileStore tiles)
{
    // Each log's two series, looked up once: the label lookup allocates its array on every call, once per proof read.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int LogId, string Kind), Prometheus.Counter.Child> _served = new();

    /// <param name="entryTile">
    /// The nodes of the entry's level-0 tile (whole, or the entry's group under the tile's summary) when the caller read
    /// them with the entry; they are used before the cache.
    /// </param>
    public async Task<Hash[]> InclusionAsync(int logId, long index, long size, CancellationToken cancellationToken, TileNodes? entryTile = null)
    {
        var plan = ProofPlanner.Inclusion(index, size);
        LocalTile? local = entryTile is null ? null : new LocalTile(new TileKey(0, index / TileMath.Width), entryTile);
        var hashes = FromCache(logId, plan.Nodes, local)
            ?? await NodeHashesAsync(logId, plan.Nodes, local is { } l ? new Dictionary<TileKey, TileNodes> { [l.Key] = l.Nodes } : null, cancellationToken);
        var proof = plan.Assemble(hashes);
        Served(logId, "inclusion").Inc();
        return proof;
    }

    public async Task<Hash[]> ConsistencyAsync(int logId, long size1, long size2, CancellationToken cancellationToken)
    {
        var plan = ProofPlanner.Consistency(size1, size2);
        var proof = plan.Assemble(await NodeHashesAsync(logId, plan.Nodes, null, cancellationToken));
        Served(logId, "consistency").Inc();
        return proof;
    }

    private Prometheus.Counter.Child Served(int logId, string kind) =>
        _served.GetOrAdd((logId, kind), static key => LogServiceMetrics.ProofsServed.WithLabels(LogServiceMetrics.LogLabel(key.LogId), key.Kind));

    public async Task<Hash> RootAsync(int logId, long size, CancellationToken cancellationToken)
    {
        if (size == 0)
        {
            return Rfc6962.EmptyRoot;
        }

        var nodes = CompactRange(size);
        var hashes = await NodeHashesAsync(logId, nodes, null, cancellationToken);
        return FoldRightToLeft(hashes);
    }

    /// <summary>
    /// Hashes of perfect nodes, looked up first in <paramref name="local"/> (tiles just written by the caller), then in
    /// storage. <paramref name="memo"/> lets a batch share nodes between its proofs.
    /// </summary>
    public async Task<IReadOnlyList<Hash>> NodeHashesAsync(
        int logId,
        IReadOnlyList<NodeId> nodes,
        IReadOnlyDictionary<TileKey, TileNodes>? local,
        CancellationToken cancellationToken,
        Dictionary<NodeId, Hash>? memo = null)
    {
        // The usual read: every node in a cached tile. Answered without the lookup dictionaries below (two of them
        // and an array per proof read).
        if (local is null && memo is null && FromCache(logId, nodes, null) is { } cached)
        {
            return cached;
        }

        var located = new (TileKey Tile, int Offset, int Count)[nodes.Count];
        Dictionary<TileKey, int>? wanted = null;
        for (var i = 0; i < nodes.Count; i++)
        {
            var (tileLevel, tileIndex, offset, count) = TileMath.Locate(nodes[i]);
            var tile = new TileKey(tileLevel, tileIndex);
            located[i] = (tile, offset, count);
            if (memo is not null && memo.ContainsKey(nodes[i]))
            {
                continue;
            }

            if (local is not null && local.TryGetValue(tile, out var held) && held.Has(offset, count))
            {
                continue;
            }

            wanted ??= [];
            wanted[tile] = Math.Max(wanted.GetValueOrDefault(tile), offset + count);
        }

        var fetched = wanted is null ? null : await tiles.ReadAsync(logId, wanted, cancellationToken);
        var result = new Hash[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            if (memo is not null && memo.TryGetValue(nodes[i], out var known))
            {
                result[i] = known;
                continue;
            }

            var (tile, offset, count) = located[i];
            var tileNodes = local is not null && local.TryGetValue(tile, out var held) && held.Has(offset, count)
                ? held
                : fetched![tile];
            result[i] = tileNodes.Node(offset, count);
            memo?.Add(nodes[i], result[i]);
        }

        return result;
    }

    private Hash[]? FromCache(int logId, IReadOnlyList<NodeId> nodes, LocalTile? local)
    {
        var result = new Hash[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            var (tileLevel, tileIndex, offset, count) = TileMath.Locate(nodes[i]);
            var key = new TileKey(tileLevel, tileIndex);
            if (local is { } l && l.Key == key && l.Nodes.Has(offset, count))
            {
                result[i] = l.Nodes.Node(offset, count);
            }
            else if (tiles.TryGetCached(logId, key, offset + count, out var held))
            {
                result[i] = held.Node(offset, count);
            }
            else
            {
                return null;
            }
        }

        return result;
    }

    private readonly record struct LocalTile(TileKey Key, TileNodes Nodes);

    /// <summary>The perfect subtrees covering [0, size), largest (leftmost) first.</summary>
    public static List<NodeId> CompactRange(long size)
    {
        var nodes = new List<NodeId>();
        long start = 0;
        for (var level = 62; level >= 0; level--)
        {
            var width = 1L << level;
            if ((size & width) != 0)
            {
                nodes.Add(new NodeId(level, start >> level));
                start += width;
            }
        }

        return nodes;
    }

    /// <summary>Folds a compact range into the root: the smallest subtrees join first, as RFC 6962's MTH does.</summary>
    public static Hash FoldRightToLeft(IReadOnlyList<Hash> hashes)
    {
        var acc = hashes[^1];
        for (var i = hashes.Count - 2; i >= 0; i--)
        {
            acc = Rfc6962.HashChildren(hashes[i], acc);
        }

        return acc;
    }
}
