namespace TransparencyLog.Merkle;

/// <summary>
/// The right edge of a tree stored as tiles: for each tile level, the entries of the (possibly empty) partial tile
/// at the end. Everything left of the edge is in full tiles, which never change, so the edge alone determines the
/// root and how an append changes the stored tiles.
/// </summary>
/// <remarks>
/// Used by the sequencer: load the edge for the current size, <see cref="Append"/> a batch of leaf hashes, write
/// back every tile the append returns, and read the new <see cref="Root"/>. Deterministic: the same leaves give the
/// same tiles and root however they are split into batches. Not thread-safe.
/// </remarks>
public sealed class TreeEdge
{
    // 256^8 = 2^64: a tree size that fits in a long never reaches tile level 8.
    private const int Levels = 8;

    private readonly Hash[][] _entries;
    private readonly int[] _widths;

    // Computed on first read: folding the edge costs up to ~2,000 hashes, which a caller appending several batches
    // before reading the root should not pay for each batch.
    private Hash? _root;

    /// <param name="size">The tree size.</param>
    /// <param name="partialTiles">
    /// partialTiles[L] = the entries of the partial tile at level L for this size (length
    /// <see cref="TileMath.PartialWidth"/>(L, size)); trailing empty levels may be omitted.
    /// </param>
    /// <exception cref="ArgumentException">A level has the wrong number of entries.</exception>
    public TreeEdge(long size, IReadOnlyList<Hash[]> partialTiles)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(partialTiles);
        if (partialTiles.Count > TileMath.MaxLevel + 1)
        {
            throw new ArgumentException("There are at most 64 tile levels.", nameof(partialTiles));
        }

        _entries = new Hash[Levels][];
        _widths = new int[Levels];
        for (var level = 0; level < partialTiles.Count || level < Levels; level++)
        {
            var expected = level < Levels ? TileMath.PartialWidth(level, size) : 0;
            var given = level < partialTiles.Count ? partialTiles[level] : [];
            if (given is null || given.Length != expected)
            {
                throw new ArgumentException(
                    $"A tree of size {size} has {expected} entries in its partial tile at level {level}; got {given?.Length}.",
                    nameof(partialTiles));
            }

            if (level < Levels)
            {
                _entries[level] = new Hash[TileMath.Width];
                given.CopyTo(_entries[level], 0);
                _widths[level] = expected;
            }
        }

        Size = size;
    }

    /// <summary>A new, empty edge (a new instance each time, since edges are mutable).</summary>
    public static TreeEdge Empty => new(0, []);

    public long Size { get; private set; }

    public Hash Root => _root ??= ComputeRoot();

    /// <summary>A copy of the partial tiles, one per level up to the highest non-empty one.</summary>
    public IReadOnlyList<Hash[]> PartialTiles
    {
        get
        {
            var top = Levels - 1;
            while (top >= 0 && _widths[top] == 0)
            {
                top--;
            }

            var tiles = new Hash[top + 1][];
            for (var level = 0; level <= top; level++)
            {
                tiles[level] = _entries[level].AsSpan(0, _widths[level]).ToArray();
            }

            return tiles;
        }
    }

    /// <summary>
    /// Appends leaf hashes and returns every tile whose content changed with its whole current content (256 entries
    /// for a full tile, the current width for a partial one), ordered by level and then index. When a tile at level L
    /// fills, its fold becomes the next entry of level L+1.
    /// </summary>
    /// <exception cref="ArgumentException">The tree would exceed <see cref="long.MaxValue"/> leaves.</exception>
    public IReadOnlyList<(TileId Tile, Hash[] Entries)> Append(ReadOnlySpan<Hash> leafHashes)
    {
        if (leafHashes.Length > long.MaxValue - Size)
        {
            throw new ArgumentException("The tree would exceed the largest supported size.", nameof(leafHashes));
        }

        if (leafHashes.IsEmpty)
        {
            return [];
        }

        var fullTiles = new List<(TileId Tile, Hash[] Entries)>[Levels];
        Span<bool> partialChanged = stackalloc bool[Levels];
        var size = Size;
        foreach (var leaf in leafHashes)
        {
            size++;
            var entry = leaf;
            for (var level = 0; ; level++)
            {
                _entries[level][_widths[level]++] = entry;
                partialChanged[level] = true;
                if (_widths[level] < TileMath.Width)
                {
                    break;
                }

                // The tile just filled: it is final, and its root is the next entry one level up.
                var tile = (Tile: new TileId(level, TileMath.FullTileCount(level, size) - 1, TileMath.Width), Entries: (Hash[])_entries[level].Clone());
                (fullTiles[level] ??= []).Add(tile);
                _widths[level] = 0;
                partialChanged[level] = false;
                entry = TileMath.FoldPerfect(tile.Entries);
            }
        }

        Size = size;
        _root = null;

        var changed = new List<(TileId Tile, Hash[] Entries)>();
        for (var level = 0; level < Levels; level++)
        {
            if (fullTiles[level] is { } full)
            {
                changed.AddRange(full);
            }

            if (partialChanged[level] && _widths[level] > 0)
            {
                changed.Add((
                    new TileId(level, TileMath.FullTileCount(level, size), _widths[level]),
                    _entries[level].AsSpan(0, _widths[level]).ToArray()));
            }
        }

        return changed;
    }

    // The tree's compact range is the partial tiles split into perfect runs, highest level and leftmost run first.
    private Hash ComputeRoot()
    {
        if (Size == 0)
        {
            return Rfc6962.EmptyRoot;
        }

        Span<Hash> range = stackalloc Hash[64];
        var count = 0;
        for (var level = Levels - 1; level >= 0; level--)
        {
            var entries = _entries[level].AsSpan(0, _widths[level]);
            for (var run = TileMath.Width / 2; run > 0; run /= 2)
            {
                if (entries.Length >= run)
                {
                    range[count++] = TileMath.FoldPerfect(entries[..run]);
                    entries = entries[run..];
                }
            }
        }

        return Rfc6962.FoldRightToLeft(range[..count]);
    }
}
