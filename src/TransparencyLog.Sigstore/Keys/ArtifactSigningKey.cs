using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A user's own signing key for artifacts and images (<c>--key</c>), signing as cosign does so that Rekor's
/// <c>hashedrekord</c>, sigstore verifiers and skopeo accept the result: ECDSA with the curve's hash (P-256 SHA-256,
/// P-384 SHA-384, P-521 SHA-512), RSA PKCS#1 v1.5 with SHA-256, and Ed25519 as Ed25519ph over SHA-512 for digests
/// (the only Ed25519 mode hashedrekord can check) but pure Ed25519 for messages (DSSE, simple-signing payloads).
/// </summary>
public sealed class ArtifactSigningKey : IDisposable
{
    private const int MinRsaBits = 2048;
    private const int MaxRsaBits = 8192;

    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;
    private readonly byte[]? _ed25519Seed;
    private readonly byte[]? _ed25519PublicKey;

    private ArtifactSigningKey(ECDsa? ecdsa, RSA? rsa, byte[]? ed25519Seed)
    {
        _ecdsa = ecdsa;
        _rsa = rsa;
        if (ed25519Seed is not null)
        {
            _ed25519Seed = ed25519Seed;
            _ed25519PublicKey = new byte[Ed25519.PublicKeySize];
            Ed25519.GeneratePublicKey(ed25519Seed, 0, _ed25519PublicKey, 0);
            PublicKeySpki = Asn1Keys.Ed25519Spki(_ed25519PublicKey);
            Hash = HashAlgorithmName.SHA512;
            Algorithm = "Ed25519";
        }
        else if (ecdsa is not null)
        {
            PublicKeySpki = ecdsa.ExportSubjectPublicKeyInfo();
            (Hash, Algorithm) = ecdsa.KeySize switch
            {
                256 => (HashAlgorithmName.SHA256, "ECDSA P-256"),
                384 => (HashAlgorithmName.SHA384, "ECDSA P-384"),
                _ => (HashAlgorithmName.SHA512, "ECDSA P-521"),
            };
        }
        else
        {
            ArgumentNullException.ThrowIfNull(rsa);
            PublicKeySpki = rsa.ExportSubjectPublicKeyInfo();
            Hash = HashAlgorithmName.SHA256;
            Algorithm = $"RSA-{rsa.KeySize}";
        }

        PublicKeyPem = Pem.Encode("PUBLIC KEY", PublicKeySpki);
    }

    /// <summary>DER SubjectPublicKeyInfo of the matching public key.</summary>
    public byte[] PublicKeySpki { get; }

    /// <summary>The public key as cosign writes <c>cosign.pub</c>.</summary>
    public string PublicKeyPem { get; }

    /// <summary>The digest <see cref="SignDigest"/> signs and a hashedrekord carries for this key.</summary>
    public HashAlgorithmName Hash { get; }

    /// <summary>A name for people: "ECDSA P-256", "RSA-3072", "Ed25519".</summary>
    public string Algorithm { get; }

    public bool IsEd25519 => _ed25519Seed is not null;

    /// <summary>The Rekor v2 <c>PublicKeyDetails</c> name for a hashedrekord with this key, or null if v2 has none.</summary>
    public string? RekorV2KeyDetails => Algorithm switch
    {
        "ECDSA P-256" => "PKIX_ECDSA_P256_SHA_256",
        "ECDSA P-384" => "PKIX_ECDSA_P384_SHA_384",
        "ECDSA P-521" => "PKIX_ECDSA_P521_SHA_512",
        "RSA-2048" => "PKIX_RSA_PKCS1V15_2048_SHA256",
        "RSA-3072" => "PKIX_RSA_PKCS1V15_3072_SHA256",
        "RSA-4096" => "PKIX_RSA_PKCS1V15_4096_SHA256",
        "Ed25519" => "PKIX_ED25519_PH",
        _ => null,
    };

    /// <summary>A fresh ECDSA P-256 key, cosign's default.</summary>
    public static ArtifactSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), null, null);

    /// <summary>
    /// Loads a private key: cosign's encrypted format (either PEM type), PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8
    /// ("ENCRYPTED PRIVATE KEY"), SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"). <paramref name="password"/>
    /// is asked for only when the key is encrypted.
    /// </summary>
    /// <exception cref="KeyLoadException">No usable key; the message says why and never holds key material.</exception>
    public static ArtifactSigningKey Load(string pem, Func<string> password)
    {
        ArgumentNullException.ThrowIfNull(pem);
        ArgumentNullException.ThrowIfNull(password);
        if (pem.Length > PrivateKeyPem.MaxPemChars)
        {
            throw new KeyLoadException("the key file is too large to be a private key");
        }

        List<(string Label, byte[] Der)> blocks;
        try
        {
            blocks = Pem.DecodeAll(pem, maxBlocks: 8);
        }
        catch (FormatException ex)
        {
            throw new KeyLoadException("the key file is truncated or corrupted (invalid PEM)", ex);
        }

        var keyBlocks = blocks.Where(static b => b.Label.EndsWith("PRIVATE KEY", StringComparison.Ordinal)).ToList();
        if (keyBlocks.Count == 0)
        {
            throw new KeyLoadException(
                pem.Contains("-----BEGIN", StringComparison.Ordinal)
                    ? "the key file is truncated or holds no PEM private key"
                    : "the key file holds no PEM private key (expected cosign's ENCRYPTED SIGSTORE PRIVATE KEY, PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)");
        }

        if (keyBlocks.Count > 1)
        {
            throw new KeyLoadException("the key file holds more than one private key");
        }

        var (label, der) = keyBlocks[0];
        try
        {
            return FromDecoded(label switch
            {
                CosignKeyFile.PemLabel or CosignKeyFile.LegacyPemLabel => PrivateKeyDer.FromDecryptedPkcs8(CosignKeyFile.Decrypt(der, password)),
                "ENCRYPTED PRIVATE KEY" => PrivateKeyDer.FromDecryptedPkcs8(EncryptedPkcs8.Decrypt(der, password())),
                _ => PrivateKeyDer.Decode(label, der),
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>The private key as PKCS#8 DER; the caller zeroes it.</summary>
    public byte[] ExportPkcs8() =>
        _ed25519Seed is not null ? Asn1Keys.Ed25519Pkcs8(_ed25519Seed)
        : _ecdsa is not null ? _ecdsa.ExportPkcs8PrivateKey()
        : Rsa.ExportPkcs8PrivateKey();

    /// <summary>The private key in cosign's encrypted format (<c>cosign.key</c>).</summary>
    public string ExportCosignPem(string password)
    {
        var pkcs8 = ExportPkcs8();
        try
        {
            return CosignKeyFile.Encrypt(pkcs8, password);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>Hashes <paramref name="data"/> with <see cref="Hash"/> and signs the digest; returns both.</summary>
    public (byte[] Digest, byte[] Signature) SignArtifact(ReadOnlySpan<byte> data)
    {
        var digest = Hash == HashAlgorithmName.SHA512 ? SHA512.HashData(data)
            : Hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data)
            : SHA256.HashData(data);
        return (digest, SignDigest(digest));
    }

    /// <summary>A signature over a digest made with <see cref="Hash"/> (Ed25519ph for Ed25519 keys).</summary>
    public byte[] SignDigest(byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (_ed25519Seed is not null)
        {
            var signature = new byte[Ed25519.SignatureSize];
            Ed25519.SignPrehash(_ed25519Seed, 0, _ed25519PublicKey, 0, [], digest, 0, signature, 0);
            return signature;
        }

        return _ecdsa is not null
            ? _ecdsa.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)
            : Rsa.SignHash(digest, Hash, RSASignaturePadding.Pkcs1);
    }

    /// <summary>A signature over a message (DSSE PAE, simple-signing payload): pure Ed25519 for Ed25519 keys.</summary>
    public byte[] SignMessage(ReadOnlySpan<byte> message)
    {
        if (_ed25519Seed is not null)
        {
            var data = message.ToArray();
            var signature = new byte[Ed25519.SignatureSize];
            Ed25519.Sign(_ed25519Seed, 0, _ed25519PublicKey, 0, data, 0, data.Length, signature, 0);
            return signature;
        }

        return _ecdsa is not null
            ? _ecdsa.SignData(message, Hash, DSASignatureFormat.Rfc3279DerSequence)
            : Rsa.SignData(message.ToArray(), Hash, RSASignaturePadding.Pkcs1);
    }

    // Exactly one of the three key fields is set (the constructor's invariant); this is the RSA case.
    private RSA Rsa => _rsa ?? throw new InvalidOperationException("not an RSA key");

    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
        if (_ed25519Seed is not null)
        {
            CryptographicOperations.ZeroMemory(_ed25519Seed);
        }
    }

    // Takes ownership of the decoded key; refuses (and disposes) a curve or an RSA size cosign's formats do not use.
    private static ArtifactSigningKey FromDecoded(DecodedPrivateKey decoded)
    {
        if (decoded.Ed25519Seed is { } seed)
        {
            return new ArtifactSigningKey(null, null, seed);
        }

        var key = decoded.Key!;
        try
        {
            switch (key)
            {
                case ECDsa ecdsa when ecdsa.ExportParameters(false).Curve.Oid.Value is Oids.P256 or Oids.P384 or Oids.P521:
                    return new ArtifactSigningKey(ecdsa, null, null);
                case ECDsa:
                    throw new KeyLoadException("unsupported elliptic curve (use P-256, P-384 or P-521)");
                case RSA { KeySize: >= MinRsaBits and <= MaxRsaBits } rsa:
                    return new ArtifactSigningKey(null, rsa, null);
                case RSA:
                    throw new KeyLoadException($"RSA keys must have {MinRsaBits} to {MaxRsaBits} bits");
                default:
                    throw new KeyLoadException("unsupported key type");
            }
        }
        catch (Exception ex) when (ex is KeyLoadException or CryptographicException)
        {
            key.Dispose();
            throw ex as KeyLoadException ?? new KeyLoadException("the private key is not valid", ex);
        }
    }

    /// <summary>Names the algorithm only: a key's text form must never carry key material.</summary>
    public override string ToString() => $"{Algorithm} signing key";
}
