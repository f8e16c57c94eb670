using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Tiles;

/// <summary>
/// Full entry bundles as served, bounded by <see cref="StorageOptions.EntryBundleCacheBytes"/>. A full bundle never
/// changes (its 256 entries are fixed by the signed tree), so a cached one is the answer forever, with or without
/// the database. Hash tiles are cached by <see cref="Proofs.TileStore"/>.
/// </summary>
internal sealed class EntryBundleCache : IDisposable
{
    private readonly MemoryCache? _cache;

    public EntryBundleCache(IOptions<StorageOptions> options)
    {
        var limit = options.Value.EntryBundleCacheBytes;
        _cache = limit == 0 ? null : new MemoryCache(new MemoryCacheOptions { SizeLimit = limit, CompactionPercentage = 0.25 });
    }

    public bool TryGet(int logId, long index, out byte[] bundle)
    {
        bundle = [];
        if (_cache is not null && _cache.TryGetValue((logId, index), out byte[]? cached) && cached is not null)
        {
            bundle = cached;
            return true;
        }

        return false;
    }

    public void Add(int logId, long index, byte[] bundle) =>
        _cache?.Set((logId, index), bundle, new MemoryCacheEntryOptions { Size = Math.Max(1, bundle.Length) });

    public void Dispose() => _cache?.Dispose();
}
