using System.Collections.Concurrent;

namespace TransparencyLog.Policy.Evaluation;

/// <summary>
/// Whole policy outcomes keyed by image digest, policy, policy generation and trust-root generation (a changed
/// policy or trust root changes the key, so nothing stale is ever read). Bounded in entries and in time: passes live
/// <see cref="SuccessTtl"/>, definite failures <see cref="FailureTtl"/>, transient failures are never stored.
/// </summary>
public sealed class OutcomeCache(TimeProvider time, int capacity = 10_000)
{
    public static readonly TimeSpan SuccessTtl = TimeSpan.FromHours(1);
    public static readonly TimeSpan FailureTtl = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (PolicyOutcome Outcome, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    private long _hits;
    private long _misses;

    public static string Key(string digest, string policy, string policyGeneration, string trustRootGeneration, string credentialScope) =>
        $"{digest}|{policy}|{policyGeneration}|{trustRootGeneration}|{credentialScope}";

    public PolicyOutcome? Get(string key)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Expires > time.GetUtcNow())
        {
            Interlocked.Increment(ref _hits);
            return entry.Outcome with { CacheHit = true };
        }

        Interlocked.Increment(ref _misses);
        return null;
    }

    public void Put(string key, PolicyOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Transient)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (_entries.Count >= capacity)
        {
            Evict(now);
        }

        _entries[key] = (outcome, now + (outcome.Passed ? SuccessTtl : FailureTtl));
    }

    /// <summary>Drops expired entries, then the soonest-expiring quarter if still full (bounded work, bounded size).</summary>
    private void Evict(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.Expires <= now)
            {
                _entries.TryRemove(key, out _);
            }
        }

        if (_entries.Count >= capacity)
        {
            foreach (var key in _entries.OrderBy(static e => e.Value.Expires).Take(Math.Max(1, capacity / 4)).Select(static e => e.Key).ToList())
            {
                _entries.TryRemove(key, out _);
            }
        }
    }
}
