using System.Formats.Asn1;
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
    private const int MaxPemChars = 64 * 1024;

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
        if (pem.Length > MaxPemChars)
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
            switch (label)
            {
                case CosignKeyFile.PemLabel or CosignKeyFile.LegacyPemLabel:
                    return FromDecrypted(CosignKeyFile.Decrypt(der, password));
                case "ENCRYPTED PRIVATE KEY":
                    return FromDecrypted(EncryptedPkcs8.Decrypt(der, password()));
                case "PRIVATE KEY":
                    return FromPkcs8(der, afterDecryption: false);
                case "EC PRIVATE KEY":
                    return Import(ECDsa.Create(), static (k, d) => k.ImportECPrivateKey(d, out _), der, "the EC PRIVATE KEY block is not a valid SEC1 key");
                case "RSA PRIVATE KEY":
                    return Import(RSA.Create(), static (k, d) => k.ImportRSAPrivateKey(d, out _), der, "the RSA PRIVATE KEY block is not a valid PKCS#1 key");
                default:
                    throw new KeyLoadException($"unsupported private key PEM type '{label}'");
            }
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

    private static ArtifactSigningKey FromDecrypted(byte[] pkcs8)
    {
        try
        {
            return FromPkcs8(pkcs8, afterDecryption: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static ArtifactSigningKey FromPkcs8(byte[] pkcs8, bool afterDecryption)
    {
        string oid;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(pkcs8, privateKeyInfo: true);
        }
        catch (AsnContentException ex)
        {
            throw new KeyLoadException(
                afterDecryption ? "could not decrypt the private key: wrong password or corrupted key file" : "the key file is truncated or corrupted (not valid PKCS#8)",
                ex);
        }

        switch (oid)
        {
            case Oids.EcPublicKey:
                return Import(ECDsa.Create(), static (k, d) => k.ImportPkcs8PrivateKey(d, out _), pkcs8, "the EC private key is not valid PKCS#8");
            case Oids.Rsa:
                return Import(RSA.Create(), static (k, d) => k.ImportPkcs8PrivateKey(d, out _), pkcs8, "the RSA private key is not valid PKCS#8");
            case Oids.Ed25519:
                try
                {
                    return new ArtifactSigningKey(null, null, Asn1Keys.ReadEd25519Seed(pkcs8));
                }
                catch (AsnContentException ex)
                {
                    throw new KeyLoadException("the Ed25519 private key is not valid RFC 8410 PKCS#8", ex);
                }

            default:
                throw new KeyLoadException($"unsupported private key algorithm {oid} (use ECDSA P-256/P-384/P-521, RSA or Ed25519)");
        }
    }

    private static ArtifactSigningKey Import<TKey>(TKey key, Action<TKey, byte[]> import, byte[] der, string invalid)
        where TKey : AsymmetricAlgorithm
    {
        try
        {
            import(key, der);
            switch (key)
            {
                case ECDsa ecdsa:
                    var curve = ecdsa.ExportParameters(false).Curve.Oid.Value;
                    if (curve is not (Oids.P256 or Oids.P384 or Oids.P521))
                    {
                        throw new KeyLoadException("unsupported elliptic curve (use P-256, P-384 or P-521)");
                    }

                    return new ArtifactSigningKey(ecdsa, null, null);
                case RSA rsa:
                    if (rsa.KeySize is < MinRsaBits or > MaxRsaBits)
                    {
                        throw new KeyLoadException($"RSA keys must have {MinRsaBits} to {MaxRsaBits} bits");
                    }

                    return new ArtifactSigningKey(null, rsa, null);
                default:
                    throw new KeyLoadException("unsupported key type");
            }
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new KeyLoadException(invalid, ex);
        }
        catch (KeyLoadException)
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Names the algorithm only: a key's text form must never carry key material.</summary>
    public override string ToString() => $"{Algorithm} signing key";
}
