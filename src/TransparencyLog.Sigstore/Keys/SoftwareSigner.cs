using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>A key held in this process: ECDSA or RSA through the BCL, Ed25519 through BouncyCastle.</summary>
public sealed class SoftwareSigner : ISigner
{
    private readonly AsymmetricAlgorithm? _key;
    private readonly byte[]? _ed25519Seed;
    private readonly byte[]? _ed25519PublicKey;
    private readonly Lock _gate = new();

    /// <summary>Takes ownership of an ECDSA (P-256/384/521) or RSA key.</summary>
    public SoftwareSigner(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Algorithm = SignatureAlgorithms.For(key);
        _key = key;
        PublicKeySpki = key.ExportSubjectPublicKeyInfo();
    }

    private SoftwareSigner(byte[] ed25519Seed)
    {
        Algorithm = SignatureAlgorithm.Ed25519;
        _ed25519Seed = ed25519Seed;
        _ed25519PublicKey = new byte[Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.PublicKeySize];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.GeneratePublicKey(ed25519Seed, 0, _ed25519PublicKey, 0);
        PublicKeySpki = Asn1Keys.Ed25519Spki(_ed25519PublicKey);
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
        // One key object may serve concurrent requests; signing is serialized on it rather than relying on the
        // platform's thread-safety promises for a shared key.
        lock (_gate)
        {
            return _key switch
            {
                ECDsa ecdsa => ecdsa.SignData(data, hash, DSASignatureFormat.Rfc3279DerSequence),
                RSA rsa => rsa.SignData(data, hash, RSASignaturePadding.Pkcs1),
                _ => throw new InvalidOperationException("unsupported key"),
            };
        }
    }

    /// <summary>The private key as unencrypted PKCS#8 DER (RFC 8410 for Ed25519). The caller zeroes it.</summary>
    internal byte[] ExportPkcs8()
    {
        if (_ed25519Seed is not null)
        {
            return Asn1Keys.Ed25519Pkcs8(_ed25519Seed);
        }

        lock (_gate)
        {
            return _key!.ExportPkcs8PrivateKey();
        }
    }

    public void Dispose()
    {
        _key?.Dispose();
        if (_ed25519Seed is not null)
        {
            CryptographicOperations.ZeroMemory(_ed25519Seed);
        }
    }
}
