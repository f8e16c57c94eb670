using System.Buffers.Binary;
using System.Globalization;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// Reads a c2sp.org/tlog-tiles log: its checkpoint, hash tiles and entry bundles, under a URL prefix (the Rekor v1
/// log's tiles sit at the root of its URL, Rekor v2's under <c>/api/v2</c>). Every answer is size-checked before use.
/// </summary>
internal sealed class TileLogClient(HttpClient http, string prefix)
{
    /// <summary>A checkpoint note is a few lines; a full hash tile 8 KiB; an entry bundle at most 256 × 64 KiB.</summary>
    private const int MaxCheckpointBytes = 64 * 1024;
    private const int MaxBundleBytes = 256 * (65535 + 2);

    public string Prefix { get; } = prefix.TrimEnd('/');

    public async Task<string> GetCheckpointAsync(CancellationToken cancellationToken) =>
        System.Text.Encoding.UTF8.GetString(await GetAsync("/checkpoint", MaxCheckpointBytes, cancellationToken));

    /// <summary>The first <paramref name="width"/> hashes of tile (level, index) as the tree of <paramref name="treeSize"/> has it.</summary>
    public async Task<Hash[]> GetTileAsync(int level, long index, int width, long treeSize, CancellationToken cancellationToken)
    {
        var available = (int)Math.Min(TileMath.Width, TileEntries(level, treeSize) - (index * TileMath.Width));
        if (width > available)
        {
            throw new CliException(ExitCodes.Error, $"tile {level}/{index} has only {available} hashes at size {treeSize}");
        }

        var path = $"/tile/{level.ToString(CultureInfo.InvariantCulture)}/{TileMath.FormatIndex(index)}{(available < TileMath.Width ? ".p/" + available.ToString(CultureInfo.InvariantCulture) : "")}";
        var bytes = await GetAsync(path, TileMath.Width * Hash.Size, cancellationToken);
        if (bytes.Length != available * Hash.Size)
        {
            throw new MonitorLogException($"the log served {bytes.Length} bytes for tile {path}, expected {available * Hash.Size}");
        }

        var hashes = new Hash[width];
        for (var i = 0; i < width; i++)
        {
            hashes[i] = Hash.FromBytes(bytes.AsSpan(i * Hash.Size, Hash.Size));
        }

        return hashes;
    }

    /// <summary>
    /// The hashes of a proof plan (an inclusion or consistency proof) in the tree of <paramref name="treeSize"/>, built
    /// from the log's tiles: a perfect node is a stored hash when its level is a multiple of the tile height, else the
    /// root of the 2^r stored hashes below it. Each tile is fetched once.
    /// </summary>
    public async Task<IReadOnlyList<Hash>> ProofAsync(ProofPlan plan, long treeSize, CancellationToken cancellationToken)
    {
        var cache = new Dictionary<(int, long), Hash[]>();
        var hashes = new List<Hash>(plan.Nodes.Count);
        foreach (var node in plan.Nodes)
        {
            var tileLevel = node.Level / TileMath.Height;
            var below = node.Level % TileMath.Height;
            var first = node.Index << below;
            var tileIndex = first / TileMath.Width;
            var offset = (int)(first % TileMath.Width);
            var count = 1 << below;
            if (!cache.TryGetValue((tileLevel, tileIndex), out var tile) || tile.Length < offset + count)
            {
                var available = (int)Math.Min(TileMath.Width, (treeSize >> (tileLevel * TileMath.Height)) - (tileIndex * TileMath.Width));
                tile = await GetTileAsync(tileLevel, tileIndex, available, treeSize, cancellationToken);
                cache[(tileLevel, tileIndex)] = tile;
            }

            hashes.Add(Rfc6962.RootFromLeafHashes(tile.AsSpan(offset, count)));
        }

        return plan.Assemble(hashes);
    }

    /// <summary>The entries of bundle <paramref name="index"/> in the tree of <paramref name="treeSize"/>.</summary>
    public async Task<List<byte[]>> GetEntryBundleAsync(long index, long treeSize, CancellationToken cancellationToken)
    {
        var count = (int)Math.Min(TileMath.Width, treeSize - (index * TileMath.Width));
        var path = $"/tile/entries/{TileMath.FormatIndex(index)}{(count < TileMath.Width ? ".p/" + count.ToString(CultureInfo.InvariantCulture) : "")}";
        var bytes = await GetAsync(path, MaxBundleBytes, cancellationToken);
        var entries = new List<byte[]>(count);
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (offset + 2 > bytes.Length)
            {
                throw new MonitorLogException($"entry bundle {path} is truncated");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset));
            offset += 2;
            if (offset + length > bytes.Length)
            {
                throw new MonitorLogException($"entry bundle {path} is truncated");
            }

            entries.Add(bytes[offset..(offset + length)]);
            offset += length;
        }

        if (entries.Count != count)
        {
            throw new MonitorLogException($"entry bundle {path} holds {entries.Count} entries, expected {count}");
        }

        return entries;
    }

    private static long TileEntries(int level, long treeSize) => treeSize >> (level * TileMath.Height);

    private Task<byte[]> GetAsync(string path, int maxBytes, CancellationToken cancellationToken) =>
        BoundedHttp.ReadAsync(http, new HttpRequestMessage(HttpMethod.Get, new Uri(Prefix + path)), maxBytes, cancellationToken);
}

/// <summary>The log served something malformed: a monitor failure (exit 1), distinct from proven misbehaviour (exit 4).</summary>
internal sealed class MonitorLogException(string message) : Exception(message);
