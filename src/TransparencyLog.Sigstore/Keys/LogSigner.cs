using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A log's signing key (tree heads, SETs, SCTs, TUF metadata) and the identity derived from it: an
/// <see cref="ISigner"/> (in this process or in a PKCS#11 token) restricted to the log key types. ECDSA signatures
/// are SHA-256 and ASN.1 DER because sigstore-js verifies with Node's default digest and rejects IEEE P1363;
/// Ed25519 is pure RFC 8032.
/// </summary>
public sealed class LogSigner : IDisposable
{
    private readonly ISigner _signer;

    private LogSigner(ISigner signer)
    {
        KeyType = signer.Algorithm switch
        {
            SignatureAlgorithm.EcdsaP256Sha256 => LogKeyType.EcdsaP256,
            SignatureAlgorithm.Ed25519 => LogKeyType.Ed25519,
            _ => throw new KeyLoadException($"a log key must be ECDSA P-256 or Ed25519, not {signer.Algorithm}"),
        };
        _signer = signer;
        PublicKeySpki = signer.PublicKeySpki.ToArray();
        PublicKey = LogPublicKey.FromSpki(PublicKeySpki);
        LogId = PublicKey.LogId;
        LogIdHex = PublicKey.LogIdHex;
        PublicKeyPem = Pem.Encode("PUBLIC KEY", PublicKeySpki);
    }

    public LogKeyType KeyType { get; }

    /// <summary>DER SubjectPublicKeyInfo.</summary>
    public byte[] PublicKeySpki { get; }

    /// <summary>SHA-256 of <see cref="PublicKeySpki"/>: the Rekor v1 <c>logID</c> and the RFC 6962 log ID.</summary>
    public byte[] LogId { get; }

    public string LogIdHex { get; }

    public string PublicKeyPem { get; }

    /// <summary>The matching public key, for verifiers built from the same key.</summary>
    public LogPublicKey PublicKey { get; }

    /// <summary>
    /// Signs <paramref name="data"/>: ECDSA P-256 over SHA-256 (DER), Ed25519 pure. A key in this process completes
    /// synchronously (the returned <see cref="ValueTask{TResult}"/> then allocates nothing of its own); a token or
    /// remote key is awaited rather than blocked on.
    /// </summary>
    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _signer.SignAsync(data, cancellationToken);

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => PublicKey.Verify(data, signature);

    /// <summary>Exports the private key as PKCS#8 PEM, encrypted (PBES2, PBKDF2-SHA256, AES-256-CBC) when a password is given.</summary>
    /// <exception cref="InvalidOperationException">The key lives in a token and cannot leave it.</exception>
    public string ExportPkcs8Pem(string? password)
    {
        if (_signer is not SoftwareSigner software)
        {
            throw new InvalidOperationException("the private key stays in its token and cannot be exported");
        }

        var pkcs8 = software.ExportPkcs8();
        try
        {
            return string.IsNullOrEmpty(password)
                ? Pem.Encode("PRIVATE KEY", pkcs8)
                : Pem.Encode("ENCRYPTED PRIVATE KEY", EncryptedPkcs8.Encrypt(pkcs8, password));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>A log key whose signatures an <see cref="ISigner"/> makes (takes ownership): ECDSA P-256 or Ed25519.</summary>
    /// <exception cref="KeyLoadException">The signer's algorithm is not one a log signs with.</exception>
    public static LogSigner FromSigner(ISigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return new LogSigner(signer);
    }

    /// <summary>A fresh key, for development and tests.</summary>
    public static LogSigner Generate(LogKeyType type) => type switch
    {
        LogKeyType.EcdsaP256 => new LogSigner(new SoftwareSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256))),
        LogKeyType.Ed25519 => new LogSigner(SoftwareSigner.GenerateEd25519()),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown key type"),
    };

    /// <summary>
    /// Loads a private key from PEM: PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", needs
    /// <paramref name="password"/>) holding ECDSA P-256 or Ed25519, or SEC1 ("EC PRIVATE KEY", P-256).
    /// </summary>
    /// <exception cref="KeyLoadException">The PEM holds no usable key; the message says why.</exception>
    public static LogSigner LoadPem(string pem, string? password)
    {
        var signer = PrivateKeyPem.Load(pem, password);
        try
        {
            return signer.Algorithm switch
            {
                SignatureAlgorithm.EcdsaP256Sha256 or SignatureAlgorithm.Ed25519 => new LogSigner(signer),
                SignatureAlgorithm.RsaPkcs1Sha256 => throw new KeyLoadException("RSA keys are not supported for log signing (use ECDSA P-256 or Ed25519)"),
                _ => throw new KeyLoadException("only the P-256 curve is supported for ECDSA log keys"),
            };
        }
        catch
        {
            signer.Dispose();
            throw;
        }
    }

    public void Dispose() => _signer.Dispose();
}
