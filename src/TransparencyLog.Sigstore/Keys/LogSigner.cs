using System.Formats.Asn1;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A log's private signing key (tree heads, SETs, SCTs). ECDSA signatures are SHA-256 and ASN.1 DER because
/// sigstore-js verifies with Node's default digest and rejects IEEE P1363; Ed25519 is pure RFC 8032.
/// </summary>
public abstract class LogSigner : IDisposable
{
    private protected LogSigner(byte[] publicKeySpki)
    {
        PublicKeySpki = publicKeySpki;
        LogId = SHA256.HashData(publicKeySpki);
        LogIdHex = Convert.ToHexStringLower(LogId);
        PublicKeyPem = Pem.Encode("PUBLIC KEY", publicKeySpki);
    }

    public abstract LogKeyType KeyType { get; }

    /// <summary>DER SubjectPublicKeyInfo.</summary>
    public byte[] PublicKeySpki { get; }

    /// <summary>SHA-256 of <see cref="PublicKeySpki"/>: the Rekor v1 <c>logID</c> and the RFC 6962 log ID.</summary>
    public byte[] LogId { get; }

    public string LogIdHex { get; }

    public string PublicKeyPem { get; }

    /// <summary>The matching public key, for verifiers built from the same key.</summary>
    public LogPublicKey PublicKey => LogPublicKey.FromSpki(PublicKeySpki);

    public abstract byte[] Sign(ReadOnlySpan<byte> data);

    public abstract bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);

    /// <summary>Exports the private key as PKCS#8 PEM, encrypted (PBES2, PBKDF2-SHA256, AES-256-CBC) when a password is given.</summary>
    public string ExportPkcs8Pem(string? password)
    {
        var pkcs8 = ExportPkcs8();
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
        return new SignerLogSigner(signer, signer.PublicKeySpki.ToArray());
    }

    /// <summary>A fresh key, for development and tests.</summary>
    public static LogSigner Generate(LogKeyType type) => type switch
    {
        LogKeyType.EcdsaP256 => new EcdsaLogSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256)),
        LogKeyType.Ed25519 => Ed25519LogSigner.Generate(),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown key type"),
    };

    /// <summary>
    /// Loads a private key from PEM: PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", needs
    /// <paramref name="password"/>) holding ECDSA P-256 or Ed25519, or SEC1 ("EC PRIVATE KEY", P-256).
    /// </summary>
    /// <exception cref="KeyLoadException">The PEM holds no usable key; the message says why.</exception>
    public static LogSigner LoadPem(string pem, string? password)
    {
        ArgumentNullException.ThrowIfNull(pem);

        List<(string Label, byte[] Der)> blocks;
        try
        {
            blocks = Pem.DecodeAll(pem, maxBlocks: 8);
        }
        catch (FormatException ex)
        {
            throw new KeyLoadException("the key file is not valid PEM", ex);
        }

        var keyBlocks = blocks.Where(static b => b.Label is "PRIVATE KEY" or "ENCRYPTED PRIVATE KEY" or "EC PRIVATE KEY").ToList();
        if (keyBlocks.Count == 0)
        {
            throw new KeyLoadException(
                "no PEM private key found (expected PRIVATE KEY, ENCRYPTED PRIVATE KEY or EC PRIVATE KEY; legacy encrypted PEM with Proc-Type headers is not supported)");
        }

        if (keyBlocks.Count > 1)
        {
            throw new KeyLoadException("the PEM holds more than one private key");
        }

        var (label, der) = keyBlocks[0];
        try
        {
            switch (label)
            {
                case "EC PRIVATE KEY":
                    return LoadSec1(der);
                case "ENCRYPTED PRIVATE KEY":
                    if (string.IsNullOrEmpty(password))
                    {
                        throw new KeyLoadException("the private key is encrypted and no password was given");
                    }

                    var decrypted = EncryptedPkcs8.Decrypt(der, password);
                    try
                    {
                        return LoadPkcs8(decrypted, afterDecryption: true);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(decrypted);
                    }

                default:
                    return LoadPkcs8(der, afterDecryption: false);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    private protected abstract byte[] ExportPkcs8();

    private static LogSigner LoadPkcs8(byte[] pkcs8, bool afterDecryption)
    {
        string oid;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(pkcs8, privateKeyInfo: true);
        }
        catch (AsnContentException ex)
        {
            // Garbage after decryption almost always means the padding happened to check out with a wrong password.
            throw new KeyLoadException(
                afterDecryption
                    ? "could not decrypt the private key: wrong password or corrupted key file"
                    : "the private key is not valid PKCS#8",
                ex);
        }

        switch (oid)
        {
            case Oids.EcPublicKey:
                var ecdsa = ECDsa.Create();
                try
                {
                    ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
                }
                catch (CryptographicException ex)
                {
                    ecdsa.Dispose();
                    throw new KeyLoadException("the EC private key is not valid PKCS#8", ex);
                }

                return EcdsaLogSigner.RequireP256(ecdsa);
            case Oids.Ed25519:
                byte[] seed;
                try
                {
                    seed = Asn1Keys.ReadEd25519Seed(pkcs8);
                }
                catch (AsnContentException ex)
                {
                    throw new KeyLoadException("the Ed25519 private key is not valid RFC 8410 PKCS#8", ex);
                }

                return new Ed25519LogSigner(seed);
            case Oids.Rsa:
                throw new KeyLoadException("RSA keys are not supported for log signing (use ECDSA P-256 or Ed25519)");
            default:
                throw new KeyLoadException($"unsupported private key algorithm {oid} (use ECDSA P-256 or Ed25519)");
        }
    }

    private static EcdsaLogSigner LoadSec1(byte[] der)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportECPrivateKey(der, out _);
        }
        catch (CryptographicException ex)
        {
            ecdsa.Dispose();
            throw new KeyLoadException("the EC PRIVATE KEY block is not a valid SEC1 key", ex);
        }

        return EcdsaLogSigner.RequireP256(ecdsa);
    }
}
