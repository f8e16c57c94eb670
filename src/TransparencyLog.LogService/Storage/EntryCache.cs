using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Committed entries, the most recently appended or read from storage kept, bounded by
/// <see cref="StorageOptions.EntryCacheBytes"/>. An entry never changes once its batch has committed (the tables are
/// append-only and a signed checkpoint covers it), so a cached one answers an inclusion-proof read without a database
/// round trip. Only committed entries go in: the sequencer adds a batch after its COMMIT succeeded, readers add what
/// they read from storage. Evicted in the order they came in (a hit does not renew an entry): a lookup takes no lock
/// and allocates nothing.
/// </summary>
internal sealed class EntryCache(IOptions<StorageOptions> options)
{
    // What a cached entry costs beyond its two arrays: the dictionary node and queue slot, the key, the record, the
    // arrays' headers. An estimate on the high side, so the bound holds.
    private const int Overhead = 256;

    private readonly ByteBoundedCache<(int LogId, long Index), StoredEntry> _cache = new(options.Value.EntryCacheBytes);

    public bool TryGet(int logId, long index, [NotNullWhen(true)] out StoredEntry? entry) =>
        _cache.TryGet((logId, index), out entry);

    /// <summary>Remembers a committed entry of <paramref name="logId"/>; never call it before the commit succeeded.</summary>
    public void Add(int logId, StoredEntry entry) =>
        _cache.Add((logId, entry.Index), entry, entry.Body.Length + (entry.EntrySignature?.Length ?? 0) + Overhead);
}
