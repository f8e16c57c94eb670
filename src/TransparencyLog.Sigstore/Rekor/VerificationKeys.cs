using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// Submitters' ECDSA and RSA keys, imported once per SubjectPublicKeyInfo and kept for their next submissions. An
/// import costs more CPU than the verification it serves (on OpenSSL 3 about 100 µs for a P-256 key, most of it the
/// library's public-key check, against 60 µs for the verification), and a submitter that signs with a long-lived key
/// sends the same SPKI with every entry. Only keys that passed <see cref="ArtifactKey"/>'s checks are added, and the
/// same bytes give the same verdict, so a cached key stands for a check already made. Bounded: beyond
/// <see cref="Capacity"/> keys an arbitrary one is dropped.
/// </summary>
/// <remarks>
/// A key is held only from its second sighting (<see cref="ShouldHold"/>): keyless signers (a Fulcio certificate's
/// ephemeral key, one per signing) never send a key twice, and holding each of theirs made every append of such
/// traffic evict, dispose and insert once the cache was full, and pushed out the long-lived keys it is for.
/// </remarks>
internal static class VerificationKeys
{
    // ~20 KiB of process memory per held P-256 key (measured: 1,024 keys, 20.8 MiB working set), so 256 keys stay
    // within ~5 MiB of the service's 300 MB budget.
    public const int Capacity = 256;

    /// <summary>Recently seen keys remembered for <see cref="ShouldHold"/>: 8,192 slots (64 KiB), about three
    /// seconds of keyless traffic at 2,800 appends/s, so a key used again within that is held.</summary>
    public const int SightingSlots = 8192;

    private static readonly ConcurrentDictionary<byte[], SharedKey> s_keys = new(SpkiComparer.Instance);
    private static readonly KeySightings s_sightings = new(SightingSlots);

    /// <summary>
    /// Whether a key that is not held yet should be: true when the same SPKI was seen recently (its second sighting).
    /// Records this sighting either way.
    /// </summary>
    public static bool ShouldHold(byte[] spki) => s_sightings.Observe(spki);

    /// <summary>The key imported earlier from exactly these SPKI bytes, if it is still held.</summary>
    public static SharedKey? Find(byte[] spki) => s_keys.TryGetValue(spki, out var key) ? key : null;

    /// <summary>
    /// Holds <paramref name="key"/> (validated, imported from <paramref name="spki"/>; ownership passes to the cache)
    /// and returns the key the cache now holds for those bytes: this one, or one another request added first (then
    /// this one is disposed).
    /// </summary>
    public static SharedKey Add(byte[] spki, AsymmetricAlgorithm key)
    {
        while (s_keys.Count >= Capacity)
        {
            using var first = s_keys.GetEnumerator();
            if (!first.MoveNext())
            {
                break;
            }

            if (s_keys.TryRemove(first.Current.Key, out var evicted))
            {
                evicted.Dispose();
            }
        }

        var shared = new SharedKey(key);
        var held = s_keys.GetOrAdd(spki, shared);
        if (!ReferenceEquals(held, shared))
        {
            shared.Dispose();
        }

        return held;
    }

    private sealed class SpkiComparer : IEqualityComparer<byte[]>
    {
        public static readonly SpkiComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] spki)
        {
            var hash = new HashCode();
            hash.AddBytes(spki);
            return hash.ToHashCode();
        }
    }
}

/// <summary>
/// The keys seen recently, as 64-bit fingerprints (SHA-256 prefixes) in a fixed table where a newer key overwrites an
/// older one in the same slot: constant memory and one atomic exchange per sighting, whatever the traffic. A false
/// "seen" needs a 64-bit fingerprint collision and would only hold a valid key early; a key forgotten because its slot
/// was reused is held at its next sighting instead. Neither changes any verdict.
/// </summary>
internal sealed class KeySightings
{
    private readonly long[] _slots;

    public KeySightings(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        _slots = new long[slots];
    }

    /// <summary>Records a sighting of <paramref name="spki"/>; true when it was the last key seen in its slot.</summary>
    public bool Observe(ReadOnlySpan<byte> spki)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(spki, digest);
        // 0 marks an empty slot, so no fingerprint may be 0. The slot comes from other digest bytes than the
        // fingerprint, so keys sharing a slot still differ in their fingerprints.
        var fingerprint = BinaryPrimitives.ReadInt64LittleEndian(digest) | 1;
        var slot = (int)(BinaryPrimitives.ReadUInt32LittleEndian(digest[8..]) % (uint)_slots.Length);
        return Interlocked.Exchange(ref _slots[slot], fingerprint) == fingerprint;
    }
}

/// <summary>
/// One cached key, used by one verification at a time: the BCL does not promise that concurrent operations on one key
/// object are safe (the log's own signer serializes on its key too). A verification that finds it busy imports its
/// own copy instead of waiting, so one hot key never serializes the request threads.
/// </summary>
internal sealed class SharedKey(AsymmetricAlgorithm key, bool singleUse = false) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly AsymmetricAlgorithm _key = key;
    private readonly bool _singleUse = singleUse;
    private bool _disposed;

    /// <summary>
    /// A key imported for one submission and not held (its first sighting): disposed after its first verification,
    /// so its native key goes at once instead of at finalization. A later verification of the same submission (a
    /// DSSE verifier tried against a second signature) finds it disposed and imports from the SPKI again.
    /// </summary>
    public static SharedKey ForOneUse(AsymmetricAlgorithm key) => new(key, singleUse: true);

    /// <summary>Takes the key for one verification (release it with <see cref="Exit"/>); false when another
    /// verification holds it or it was dropped from the cache.</summary>
    public bool TryEnter(out AsymmetricAlgorithm key)
    {
        key = _key;
        if (!_gate.TryEnter())
        {
            return false;
        }

        if (_disposed)
        {
            _gate.Exit();
            return false;
        }

        return true;
    }

    public void Exit()
    {
        if (_singleUse)
        {
            _disposed = true;
            _key.Dispose();
        }

        _gate.Exit();
    }

    public void Dispose()
    {
        // Waits for a verification in progress to finish before the native key goes.
        lock (_gate)
        {
            _disposed = true;
            _key.Dispose();
        }
    }
}
