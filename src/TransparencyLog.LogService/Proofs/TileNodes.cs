using System.Numerics;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>
/// A tile's entries together with every perfect subtree inside it, hashed once: proof nodes below a tile level are
/// such subtrees, so a cached tile answers any of them by lookup instead of re-hashing up to 255 children per request.
/// </summary>
internal sealed class TileNodes
{
    // _levels[0] holds the entries; _levels[r][j] is the root of entries [j·2^r, (j+1)·2^r), for complete runs only.
    private readonly Hash[][] _levels;

    public TileNodes(Hash[] entries)
    {
        var levels = new List<Hash[]> { entries };
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

        _levels = [.. levels];
    }

    public Hash[] Entries => _levels[0];

    public int Width => _levels[0].Length;

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

    /// <summary>The root of the aligned run of <paramref name="count"/> (a power of two) entries at <paramref name="offset"/>.</summary>
    public Hash Node(int offset, int count)
    {
        var level = BitOperations.Log2((uint)count);
        return _levels[level][offset >> level];
    }
}
