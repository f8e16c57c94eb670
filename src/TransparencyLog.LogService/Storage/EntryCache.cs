using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Committed entries, the most recently appended or read first, bounded by <see cref="StorageOptions.EntryCacheBytes"/>.
/// An entry never changes once its batch has committed (the tables are append-only and a signed checkpoint covers it),
/// so a cached one answers an inclusion-proof read without a database round trip. Only committed entries go in: the
/// sequencer adds a batch after its COMMIT succeeded, readers add what they read from storage.
/// </summary>
internal sealed class EntryCache : IDisposable
{
    // What a cached entry costs beyond its two arrays: the cache's entry and options, the key, the record, the arrays'
    // headers. An estimate on the high side, so the bound holds.
    private const int Overhead = 256;

    private readonly MemoryCache? _cache;

    public EntryCache(IOptions<StorageOptions> options)
    {
        var limit = options.Value.EntryCacheBytes;
        _cache = limit == 0 ? null : new MemoryCache(new MemoryCacheOptions { SizeLimit = limit, CompactionPercentage = 0.25 });
    }

    public bool TryGet(int logId, long index, [NotNullWhen(true)] out StoredEntry? entry)
    {
        entry = null;
        return _cache is not null && _cache.TryGetValue((logId, index), out entry) && entry is not null;
    }

    /// <summary>Remembers a committed entry of <paramref name="logId"/>; never call it before the commit succeeded.</summary>
    public void Add(int logId, StoredEntry entry)
    {
        if (_cache is null)
        {
            return;
        }

        using var cached = _cache.CreateEntry((logId, entry.Index));
        cached.Value = entry;
        cached.Size = entry.Body.Length + (entry.EntrySignature?.Length ?? 0) + Overhead;
    }

    public void Dispose() => _cache?.Dispose();
}
