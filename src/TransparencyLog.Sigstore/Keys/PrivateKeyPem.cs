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
            if (label != "ENCRYPTED PRIVATE KEY")
            {
                return ToSigner(PrivateKeyDer.Decode(label, der));
            }

            if (password.IsEmpty)
            {
                throw new KeyLoadException("the private key is encrypted and no password was given");
            }

            return ToSigner(PrivateKeyDer.FromDecryptedPkcs8(EncryptedPkcs8.Decrypt(der, password)));
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

    private static SoftwareSigner ToSigner(DecodedPrivateKey decoded)
    {
        if (decoded.Ed25519Seed is { } seed)
        {
            try
            {
                return SoftwareSigner.FromEd25519Seed(seed);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }
        }

        var key = decoded.Key!;
        try
        {
            return new SoftwareSigner(key);
        }
        // SoftwareSigner refuses a curve it cannot sign with (not P-256/384/521).
        catch (ArgumentException ex)
        {
            key.Dispose();
            throw new KeyLoadException("unsupported key (ECDSA keys must be on P-256, P-384 or P-521)", ex);
        }
    }
}
