using System.Formats.Asn1;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// The one reader of a service's private key file (log, CT log, TSA, CA): PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8
/// ("ENCRYPTED PRIVATE KEY", decrypted through the BCL's <see cref="System.Security.Cryptography.Pkcs.Pkcs8PrivateKeyInfo"/>
/// with a bounded PBKDF2 count), SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"), holding ECDSA, RSA or Ed25519.
/// Callers restrict the algorithm to what they sign with.
/// </summary>
public static class PrivateKeyPem
{
    /// <summary>A key file is a few kilobytes; anything larger is not one.</summary>
    public const int MaxPemChars = 64 * 1024;

    /// <summary>Loads the single private key of <paramref name="pem"/>; <paramref name="password"/> is used only when it is encrypted.</summary>
    /// <exception cref="KeyLoadException">No usable key; the message says why and never holds key material or the password.</exception>
    public static SoftwareSigner Load(string pem, ReadOnlySpan<char> password)
    {
        ArgumentNullException.ThrowIfNull(pem);
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
            throw new KeyLoadException("the key file is not valid PEM", ex);
        }

        var keyBlocks = blocks.Where(static b => b.Label is "PRIVATE KEY" or "ENCRYPTED PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY").ToList();
        if (keyBlocks.Count == 0)
        {
            throw new KeyLoadException(
                "no PEM private key found (expected PRIVATE KEY, ENCRYPTED PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY; legacy encrypted PEM with Proc-Type headers is not supported)");
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
                    return Import(ECDsa.Create(), static (k, d) => k.ImportECPrivateKey(d, out _), der, "the EC PRIVATE KEY block is not a valid SEC1 key");
                case "RSA PRIVATE KEY":
                    return Import(RSA.Create(), static (k, d) => k.ImportRSAPrivateKey(d, out _), der, "the RSA PRIVATE KEY block is not a valid PKCS#1 key");
                case "ENCRYPTED PRIVATE KEY":
                    if (password.IsEmpty)
                    {
                        throw new KeyLoadException("the private key is encrypted and no password was given");
                    }

                    var decrypted = EncryptedPkcs8.Decrypt(der, password);
                    try
                    {
                        return FromPkcs8(decrypted, afterDecryption: true);
                    }
                    finally
                    {
                        CryptographicOperations.ZeroMemory(decrypted);
                    }

                default:
                    return FromPkcs8(der, afterDecryption: false);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Whether the file's private key block is encrypted PKCS#8 (for services that require it).</summary>
    public static bool IsEncrypted(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        return pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
    }

    private static SoftwareSigner FromPkcs8(byte[] pkcs8, bool afterDecryption)
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
                return Import(ECDsa.Create(), static (k, d) => k.ImportPkcs8PrivateKey(d, out _), pkcs8, "the EC private key is not valid PKCS#8");
            case Oids.Rsa:
                return Import(RSA.Create(), static (k, d) => k.ImportPkcs8PrivateKey(d, out _), pkcs8, "the RSA private key is not valid PKCS#8");
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

                try
                {
                    return SoftwareSigner.FromEd25519Seed(seed);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(seed);
                }

            default:
                throw new KeyLoadException($"unsupported private key algorithm {oid} (expected ECDSA, RSA or Ed25519)");
        }
    }

    private static SoftwareSigner Import<T>(T key, Action<T, byte[]> import, byte[] der, string error)
        where T : AsymmetricAlgorithm
    {
        try
        {
            import(key, der);
            return new SoftwareSigner(key);
        }
        // ArgumentException: SoftwareSigner refuses a curve it cannot sign with (not P-256/384/521).
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new KeyLoadException(ex is ArgumentException ? "unsupported key (ECDSA keys must be on P-256, P-384 or P-521)" : error, ex);
        }
    }
}
