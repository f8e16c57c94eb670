using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// Submitters' ECDSA and RSA keys, imported once per SubjectPublicKeyInfo and kept for their next submissions. An
/// import costs more CPU than the verification it serves (on OpenSSL 3 about 100 µs for a P-256 key, most of it the
/// library's public-key check, against 60 µs for the verification), and a submitter that signs with a long-lived key
/// sends the same SPKI with every entry. Only keys that passed <see cref="ArtifactKey"/>'s checks are added, and the
/// same bytes give the same verdict, so a cached key stands for a check already made. Bounded: beyond
/// <see cref="Capacity"/> keys an arbitrary one is dropped; a key never seen again (a Fulcio certificate's, one per
/// signing) only costs its slot until then.
/// </summary>
internal static class VerificationKeys
{
    // ~20 KiB of process memory per held P-256 key (measured: 1,024 keys, 20.8 MiB working set), so 256 keys stay
    // within ~5 MiB of the service's 300 MB budget.
    public const int Capacity = 256;

    private static readonly ConcurrentDictionary<byte[], SharedKey> s_keys = new(SpkiComparer.Instance);

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
/// One cached key, used by one verification at a time: the BCL does not promise that concurrent operations on one key
/// object are safe (the log's own signer serializes on its key too). A verification that finds it busy imports its
/// own copy instead of waiting, so one hot key never serializes the request threads.
/// </summary>
internal sealed class SharedKey(AsymmetricAlgorithm key) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly AsymmetricAlgorithm _key = key;
    private bool _disposed;

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

    public void Exit() => _gate.Exit();

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
