using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Immutable values held up to a number of bytes, for the read path's caches (entries, hash tiles). Lookups are
/// lock-free and allocate nothing (a <c>MemoryCache</c> boxes a value-type key on every lookup); writes take a lock and
/// evict in insertion order, every value of eviction class 0 before any of class 1, and so on. The held bytes never
/// exceed the limit after a write returns: that bound, not hit rates, is what keeps the service's memory flat with log
/// size.
/// </summary>
internal sealed class ByteBoundedCache<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, long Bytes)> _items = new();
    private readonly Queue<TKey>[] _order;
    private readonly Lock _writing = new();
    private readonly long _limit;
    private long _bytes;

    /// <param name="limit">The bound in bytes; 0 holds nothing.</param>
    /// <param name="evictionClasses">How many eviction classes (queues) there are; class 0 goes first.</param>
    public ByteBoundedCache(long limit, int evictionClasses = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfLessThan(evictionClasses, 1);
        _limit = limit;
        _order = new Queue<TKey>[evictionClasses];
        for (var i = 0; i < evictionClasses; i++)
        {
            _order[i] = new Queue<TKey>();
        }
    }

    /// <summary>Bytes held now (as estimated by the callers of <see cref="Add"/>).</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    public int Count => _items.Count;

    /// <summary>Whether a value of <paramref name="bytes"/> would fit now without evicting another (a hint: not reserved).</summary>
    public bool HasRoom(long bytes) => Volatile.Read(ref _bytes) + bytes <= _limit;

    public bool TryGet(TKey key, [NotNullWhen(true)] out TValue? value)
    {
        if (_items.TryGetValue(key, out var held))
        {
            value = held.Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Holds <paramref name="value"/> (estimated at <paramref name="bytes"/>) unless a held value for the key is kept
    /// (<paramref name="keepHeld"/> says so given the held one); returns what the cache holds for the key afterwards, or
    /// <paramref name="value"/> when it holds nothing (a value larger than the whole limit is not held).
    /// </summary>
    public TValue Add(TKey key, TValue value, long bytes, int evictionClass = 0, Func<TValue, bool>? keepHeld = null)
    {
        if (bytes > _limit)
        {
            return value;
        }

        lock (_writing)
        {
            if (_items.TryGetValue(key, out var held))
            {
                if (keepHeld is null || keepHeld(held.Value))
                {
                    return held.Value;
                }

                // Replaced in place (a tile that grew): its place in the eviction order stays.
                _items[key] = (value, bytes);
                _bytes += bytes - held.Bytes;
            }
            else
            {
                _items[key] = (value, bytes);
                _order[evictionClass].Enqueue(key);
                _bytes += bytes;
            }

            EvictOver(key);
            return _items.TryGetValue(key, out var now) ? now.Value : value;
        }
    }

    // Under the lock. The key just written goes last, so a new value is not its own victim while older ones remain.
    private void EvictOver(TKey justWritten)
    {
        foreach (var queue in _order)
        {
            var skipped = 0;
            while (_bytes > _limit && queue.Count > skipped)
            {
                var key = queue.Dequeue();
                if (EqualityComparer<TKey>.Default.Equals(key, justWritten))
                {
                    queue.Enqueue(key);
                    skipped++;
                    continue;
                }

                if (_items.TryRemove(key, out var removed))
                {
                    _bytes -= removed.Bytes;
                }
            }
        }
    }
}
