using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>A key held in this process: ECDSA or RSA through the BCL, Ed25519 through BouncyCastle.</summary>
public sealed class SoftwareSigner : ISigner
{
    private readonly AsymmetricAlgorithm? _key;
    private readonly byte[]? _ed25519Seed;
    private readonly byte[]? _ed25519PublicKey;

    // Each key object signs for one thread at a time (rather than relying on the platform's thread-safety promises
    // for a shared key), and there are up to one per core, so concurrent signatures on one key (a batch's SETs, the
    // CA's certificates) do not queue behind a single lock. Slot 0 is the key given; the others are copies of it made
    // when first needed.
    private readonly KeySlot[] _slots;

    /// <summary>Takes ownership of an ECDSA (P-256/384/521) or RSA key.</summary>
    public SoftwareSigner(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Algorithm = SignatureAlgorithms.For(key);
        _key = key;
        PublicKeySpki = key.ExportSubjectPublicKeyInfo();
        _slots = new KeySlot[Math.Clamp(Environment.ProcessorCount, 1, MaxKeyObjects)];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new KeySlot(i == 0 ? key : null);
        }
    }

    /// <summary>At most this many key objects hold one key, whatever the core count.</summary>
    private const int MaxKeyObjects = 8;

    private SoftwareSigner(byte[] ed25519Seed)
    {
        Algorithm = SignatureAlgorithm.Ed25519;
        _ed25519Seed = ed25519Seed;
        _ed25519PublicKey = new byte[Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.PublicKeySize];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.GeneratePublicKey(ed25519Seed, 0, _ed25519PublicKey, 0);
        PublicKeySpki = Asn1Keys.Ed25519Spki(_ed25519PublicKey);
        _slots = [];
    }

    public SignatureAlgorithm Algorithm { get; }

    public ReadOnlyMemory<byte> PublicKeySpki { get; }

    /// <summary>An Ed25519 key from its 32-byte RFC 8032 seed (copied).</summary>
    public static SoftwareSigner FromEd25519Seed(ReadOnlySpan<byte> seed) =>
        seed.Length == Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.SecretKeySize
            ? new SoftwareSigner(seed.ToArray())
            : throw new ArgumentException("an Ed25519 seed is 32 bytes", nameof(seed));

    /// <summary>A fresh Ed25519 key, for development and tests.</summary>
    public static SoftwareSigner GenerateEd25519() =>
        new(RandomNumberGenerator.GetBytes(Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.SecretKeySize));

    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Sign(data.Span));

    /// <summary>The synchronous form (a key in memory never waits).</summary>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        if (_ed25519Seed is not null && _ed25519PublicKey is not null)
        {
            var message = data.ToArray();
            var signature = new byte[Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.SignatureSize];
            Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Sign(_ed25519Seed, 0, _ed25519PublicKey, 0, message, 0, message.Length, signature, 0);
            return signature;
        }

        var hash = Algorithm.Hash() ?? throw new InvalidOperationException("no hash for " + Algorithm);
        // A free key object if there is one; otherwise wait for this thread's slot (spreads waiters over the slots).
        foreach (var slot in _slots)
        {
            if (slot.Gate.TryEnter())
            {
                try
                {
                    return SignWith(slot, data, hash);
                }
                finally
                {
                    slot.Gate.Exit();
                }
            }
        }

        var mine = _slots[Environment.CurrentManagedThreadId % _slots.Length];
        lock (mine.Gate)
        {
            return SignWith(mine, data, hash);
        }
    }

    /// <summary>Signs with a slot's key object, which the caller holds; a slot without one gets a copy of the key.</summary>
    private byte[] SignWith(KeySlot slot, ReadOnlySpan<byte> data, HashAlgorithmName hash)
    {
        var key = slot.Key ??= CopyKey();
        return key switch
        {
            ECDsa ecdsa => ecdsa.SignData(data, hash, DSASignatureFormat.Rfc3279DerSequence),
            RSA rsa => rsa.SignData(data, hash, RSASignaturePadding.Pkcs1),
            _ => throw new InvalidOperationException("unsupported key"),
        };
    }

    /// <summary>A second key object with the same private key (the given key read under its slot's lock).</summary>
    private AsymmetricAlgorithm CopyKey()
    {
        lock (_slots[0].Gate)
        {
            switch (_key)
            {
                case ECDsa ecdsa:
                {
                    var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
                    try
                    {
                        return ECDsa.Create(parameters);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(parameters.D);
                    }
                }

                case RSA rsa:
                {
                    var parameters = rsa.ExportParameters(includePrivateParameters: true);
                    try
                    {
                        return RSA.Create(parameters);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(parameters.D);
                        CryptographicOperations.ZeroMemory(parameters.P);
                        CryptographicOperations.ZeroMemory(parameters.Q);
                        CryptographicOperations.ZeroMemory(parameters.DP);
                        CryptographicOperations.ZeroMemory(parameters.DQ);
                        CryptographicOperations.ZeroMemory(parameters.InverseQ);
                    }
                }

                default:
                    throw new InvalidOperationException("unsupported key");
            }
        }
    }

    /// <summary>The private key as unencrypted PKCS#8 DER (RFC 8410 for Ed25519). The caller zeroes it.</summary>
    internal byte[] ExportPkcs8()
    {
        if (_ed25519Seed is not null)
        {
            return Asn1Keys.Ed25519Pkcs8(_ed25519Seed);
        }

        lock (_slots[0].Gate)
        {
            return _key!.ExportPkcs8PrivateKey();
        }
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Key?.Dispose();
        }

        if (_ed25519Seed is not null)
        {
            CryptographicOperations.ZeroMemory(_ed25519Seed);
        }
    }

    /// <summary>A key object and the lock under which one thread at a time signs with it.</summary>
    private sealed class KeySlot(AsymmetricAlgorithm? key)
    {
        public Lock Gate { get; } = new();

        public AsymmetricAlgorithm? Key { get; set; } = key;
    }
}
