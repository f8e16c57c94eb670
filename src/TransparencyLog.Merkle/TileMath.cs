using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace TransparencyLog.Merkle;

/// <summary>Arithmetic of c2sp.org/tlog-tiles: tiles of height 8 (256 entries per tile).</summary>
public static class TileMath
{
    public const int Height = 8;
    public const int Width = 256;
    public const int MaxLevel = 63;

    /// <summary>The tile index in 3-digit groups, all but the last prefixed with 'x': 1234067 → "x001/x234/067".</summary>
    public static string FormatIndex(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var text = new StringBuilder(28);
        var divisor = 1L;
        while (n / divisor >= 1000)
        {
            divisor *= 1000;
        }

        for (; divisor > 1; divisor /= 1000)
        {
            text.Append('x').Append((n / divisor % 1000).ToString("D3", CultureInfo.InvariantCulture)).Append('/');
        }

        return text.Append((n % 1000).ToString("D3", CultureInfo.InvariantCulture)).ToString();
    }

    /// <summary>Width of the partial tile at <paramref name="level"/> for a tree size; 0 when there is none.</summary>
    public static int PartialWidth(int level, long treeSize) => (int)(EntryCount(level, treeSize) % Width);

    /// <summary>Number of full tiles at <paramref name="level"/> for a tree size.</summary>
    public static long FullTileCount(int level, long treeSize) => EntryCount(level, treeSize) / Width;

    /// <summary>
    /// Every tile, full or partial, of a tree of <paramref name="treeSize"/> leaves, by level and then index.
    /// The list is computed on access, not materialised, so even large trees cost constant memory.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More than <see cref="int.MaxValue"/> tiles (over ~5·10^11 leaves).</exception>
    public static IReadOnlyList<TileId> TilesForTreeSize(long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        return new TileList(treeSize);
    }

    /// <summary>
    /// Where the descendants of a perfect node live: the tile at level node.Level / 8, and the run of its entries
    /// [Offset, Offset + Count) whose <see cref="FoldPerfect"/> is the node's hash (Count = 2^(node.Level % 8)).
    /// </summary>
    public static (int TileLevel, long TileIndex, int Offset, int Count) Locate(NodeId node)
    {
        var below = node.Level % Height;
        var tileIndex = node.Index >> (Height - below);
        // Only the low 8 bits matter, so a shift that overflows the high bits is harmless.
        var offset = (int)((node.Index << below) & (Width - 1));
        return (node.Level / Height, tileIndex, offset, 1 << below);
    }

    /// <summary>Hash of the perfect subtree over 2^k entries of the same level (for one entry, the entry itself).</summary>
    /// <exception cref="ArgumentException">The number of entries is not a power of two.</exception>
    public static Hash FoldPerfect(ReadOnlySpan<Hash> entries)
    {
        if (!BitOperations.IsPow2(entries.Length))
        {
            throw new ArgumentException($"A perfect subtree has 2^k entries; got {entries.Length}.", nameof(entries));
        }

        // For a power of two the MTH split is the perfect one.
        return Rfc6962.RootFromLeafHashes(entries);
    }

    // Entries at tile level L are the nodes of tree level 8L: floor(size / 256^L) of them.
    private static long EntryCount(int level, long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        var shift = level * Height;
        // C# masks shift counts to 6 bits; a shift of 64 or more must give 0, not treeSize.
        return shift >= 64 ? 0 : treeSize >> shift;
    }

    private sealed class TileList : IReadOnlyList<TileId>
    {
        // Per level: number of full tiles, width of the partial tile, and index in the list of the level's first tile.
        private readonly List<(long Full, int Partial, int First)> _levels = [];

        public TileList(long treeSize)
        {
            long count = 0;
            for (var level = 0; EntryCount(level, treeSize) > 0; level++)
            {
                var full = FullTileCount(level, treeSize);
                var partial = PartialWidth(level, treeSize);
                _levels.Add((full, partial, (int)count));
                count += full + (partial > 0 ? 1 : 0);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(count, int.MaxValue, nameof(treeSize));
            }

            Count = (int)count;
        }

        public int Count { get; }

        public TileId this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                var level = _levels.Count - 1;
                while (_levels[level].First > index)
                {
                    level--;
                }

                var (full, partial, first) = _levels[level];
                var tileIndex = (long)index - first;
                return new TileId(level, tileIndex, tileIndex < full ? Width : partial);
            }
        }

        public IEnumerator<TileId> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
