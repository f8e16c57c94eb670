using System.Numerics;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>
/// A tile's entries together with every perfect subtree inside it, hashed once: proof nodes below a tile level are
/// such subtrees, so a cached tile answers any of them by lookup instead of re-hashing up to 255 children per request.
/// Or, for one entry of a full level-0 tile, only what that entry's inclusion proof needs inside the tile
/// (<see cref="ForGroup"/>): its group of <see cref="TileSummaries.GroupWidth"/> leaves and the tile's subtrees of that
/// width and wider. Which nodes a value holds is <see cref="Has"/>; the group form is never cached.
/// </summary>
internal sealed class TileNodes
{
    // _levels[0] holds the entries; _levels[r][j] is the root of entries [j·2^r, (j+1)·2^r), for complete runs only.
    // In the group form, levels below TileSummaries.GroupHeight hold only the group's nodes (the group's first entry is
    // _groupStart) and the levels from it up hold every node of the full tile.
    private readonly Hash[][] _levels;
    private readonly int _groupStart = -1;

    public TileNodes(Hash[] entries)
    {
        _levels = Build(entries);
    }

    private TileNodes(Hash[][] levels, int groupStart)
    {
        _levels = levels;
        _groupStart = groupStart;
    }

    /// <summary>
    /// The nodes of a full level-0 tile that an inclusion proof of an entry in group <paramref name="group"/> needs:
    /// the group's <paramref name="leaves"/> and the tile's <paramref name="summary"/> (its nodes at height
    /// <see cref="TileSummaries.GroupHeight"/>). Null when the leaves do not hash to the summary's node for the group:
    /// the stored tile and the summary disagree, and nothing built from them may be served.
    /// </summary>
    public static TileNodes? ForGroup(Hash[] summary, int group, Hash[] leaves)
    {
        if (summary.Length != TileSummaries.Groups || leaves.Length != TileSummaries.GroupWidth || (uint)group >= TileSummaries.Groups)
        {
            throw new ArgumentException("a group of a full level-0 tile has 16 leaves under a summary of 16 nodes");
        }

        var below = Build(leaves);
        if (below[^1][0] != summary[group])
        {
            return null;
        }

        var above = Build(summary);
        var levels = new Hash[below.Length - 1 + above.Length][];
        Array.Copy(below, levels, below.Length - 1);
        Array.Copy(above, 0, levels, below.Length - 1, above.Length);
        return new TileNodes(levels, group * TileSummaries.GroupWidth);
    }

    // The levels from `bottom` up to one root (or to the last complete pair, for a partial tile).
    private static Hash[][] Build(Hash[] bottom)
    {
        var levels = new List<Hash[]> { bottom };
        while (levels[^1].Length >= 2)
        {
            var below = levels[^1];
            var above = new Hash[below.Length / 2];
            for (var j = 0; j < above.Length; j++)
            {
                above[j] = Rfc6962.HashChildren(below[2 * j], below[(2 * j) + 1]);
            }

            levels.Add(above);
        }

        return [.. levels];
    }

    /// <summary>The tile's entries; only the full form has them all.</summary>
    public Hash[] Entries => _groupStart < 0
        ? _levels[0]
        : throw new InvalidOperationException("a tile's group form does not hold all its entries");

    /// <summary>How many entries the tile has (a group form stands for a full tile).</summary>
    public int Width => _groupStart < 0 ? _levels[0].Length : TileMath.Width;

    /// <summary>The summary of a full tile: its nodes at height <see cref="TileSummaries.GroupHeight"/>.</summary>
    public Hash[] Summary => _levels[TileSummaries.GroupHeight];

    /// <summary>What a full tile's <see cref="Bytes"/> are: 511 hashes on 9 levels.</summary>
    public const long FullTileBytes = 64 + (9 * 32) + (((2 * TileMath.Width) - 1) * Hash.Size);

    /// <summary>
    /// What the tile holds in memory, on the high side: every level's hashes and the arrays' headers (a full tile is
    /// 511 hashes, about 16 KiB).
    /// </summary>
    public long Bytes
    {
        get
        {
            long bytes = 64 + (_levels.Length * 32);
            foreach (var level in _levels)
            {
                bytes += (long)level.Length * Hash.Size;
            }

            return bytes;
        }
    }

    /// <summary>Whether <see cref="Node"/> can answer for the aligned run of <paramref name="count"/> entries at <paramref name="offset"/>.</summary>
    public bool Has(int offset, int count)
    {
        if (offset + count > Width)
        {
            return false;
        }

        return _groupStart < 0
            || count >= TileSummaries.GroupWidth
            || (offset >= _groupStart && offset + count <= _groupStart + TileSummaries.GroupWidth);
    }

    /// <summary>The root of the aligned run of <paramref name="count"/> (a power of two) entries at <paramref name="offset"/>.</summary>
    public Hash Node(int offset, int count)
    {
        var level = BitOperations.Log2((uint)count);
        if (_groupStart < 0 || level >= TileSummaries.GroupHeight)
        {
            return _levels[level][offset >> level];
        }

        if (!Has(offset, count))
        {
            throw new InvalidOperationException($"the tile's group form does not hold the node of {count} entries at {offset}");
        }

        return _levels[level][(offset - _groupStart) >> level];
    }
}
