namespace TransparencyLog.Merkle.Tests;

/// <summary>
/// Every tile of a tree built from scratch, level by level, the way a reader of c2sp tlog-tiles understands them:
/// entries of level L+1 are the folds of the full tiles of level L. Node hashes are read back the way the sequencer
/// reads them from storage: <see cref="TileMath.Locate"/> then <see cref="TileMath.FoldPerfect"/>.
/// </summary>
internal sealed class InMemoryTiles
{
    private readonly Dictionary<(int Level, long Index), Hash[]> _tiles = [];

    public InMemoryTiles(IReadOnlyList<Hash> leafHashes)
    {
        var entries = leafHashes.ToArray();
        for (var level = 0; entries.Length > 0; level++)
        {
            var next = new List<Hash>();
            for (var start = 0; start < entries.Length; start += TileMath.Width)
            {
                var tile = entries.AsSpan(start, Math.Min(TileMath.Width, entries.Length - start)).ToArray();
                _tiles[(level, start / TileMath.Width)] = tile;
                if (tile.Length == TileMath.Width)
                {
                    next.Add(TileMath.FoldPerfect(tile));
                }
            }

            entries = [.. next];
        }
    }

    /// <summary>Every tile as (id, entries), ordered by level then index.</summary>
    public IEnumerable<(TileId Tile, Hash[] Entries)> All =>
        _tiles.OrderBy(t => t.Key.Level).ThenBy(t => t.Key.Index)
            .Select(t => (new TileId(t.Key.Level, t.Key.Index, t.Value.Length), t.Value));

    public Hash[] Tile(int level, long index) => _tiles[(level, index)];

    public Hash NodeHash(NodeId node)
    {
        var (tileLevel, tileIndex, offset, count) = TileMath.Locate(node);
        return TileMath.FoldPerfect(_tiles[(tileLevel, tileIndex)].AsSpan(offset, count));
    }
}
