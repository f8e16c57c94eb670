using System.Diagnostics.CodeAnalysis;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>
/// Per full level-0 tile, its 16 nodes at height 4 (512 bytes, against about 16 KiB for the whole tile's nodes): with
/// them, an inclusion proof's nodes inside the tile need only the 16 leaves of the entry's group, which the entry
/// lookup reads in the same round trip as a 512-byte slice of the tile row (<c>substring</c> of a TOASTed value fetches
/// only the chunks it covers). A full tile never changes, so a summary is valid forever; the group's leaves are checked
/// against it before any proof is built from them. Bounded in bytes by <see cref="StorageOptions.TileSummaryCacheBytes"/>
/// (the summaries of a 10 M entry log's 39,000 tiles are about 25 MB), oldest first out.
/// </summary>
internal sealed class TileSummaries(long limit)
{
    /// <summary>Leaves per group: the run of a tile's entries fetched with an entry whose tile's summary is held.</summary>
    public const int GroupWidth = 16;

    /// <summary>The height of a group's root within its tile (log2 of <see cref="GroupWidth"/>).</summary>
    public const int GroupHeight = 4;

    /// <summary>Groups per full level-0 tile, and nodes per summary.</summary>
    public const int Groups = TileMath.Width / GroupWidth;

    /// <summary>
    /// What one summary holds in memory, on the high side: the 512-byte array with its header, and the dictionary node
    /// with its key beside it.
    /// </summary>
    public const long BytesEach = 640;

    private readonly ByteBoundedCache<(int LogId, long Tile), Hash[]> _cache = new(limit);

    /// <summary>How many summaries the cache can hold.</summary>
    public long Capacity { get; } = limit / BytesEach;

    public int Count => _cache.Count;

    public bool TryGet(int logId, long tile, [NotNullWhen(true)] out Hash[]? summary) => _cache.TryGet((logId, tile), out summary);

    /// <summary>The summary of a full tile's 256 leaves: its nodes at height <see cref="GroupHeight"/>.</summary>
    public static Hash[] Summarize(ReadOnlySpan<Hash> leaves)
    {
        if (leaves.Length != TileMath.Width)
        {
            throw new ArgumentException("only a full tile has a summary", nameof(leaves));
        }

        var summary = new Hash[Groups];
        for (var g = 0; g < Groups; g++)
        {
            summary[g] = TileMath.FoldPerfect(leaves.Slice(g * GroupWidth, GroupWidth));
        }

        return summary;
    }

    /// <summary>Keeps a summary computed from a stored full tile (by <see cref="Summarize"/>).</summary>
    public void Remember(int logId, long tile, Hash[] summary)
    {
        if (summary.Length != Groups)
        {
            throw new ArgumentException("a summary has 16 nodes", nameof(summary));
        }

        if (!_cache.TryGet((logId, tile), out _))
        {
            _cache.Add((logId, tile), summary, BytesEach);
        }
    }
}
