using System.Formats.Asn1;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>A decoded private key: an ECDSA or RSA key object, or an Ed25519 seed. The receiver owns it.</summary>
internal readonly record struct DecodedPrivateKey(AsymmetricAlgorithm? Key, byte[]? Ed25519Seed);

/// <summary>
/// The DER decoding that both private-key readers share (<see cref="PrivateKeyPem"/> for services' keys,
/// <see cref="ArtifactSigningKey"/> for users' keys): SEC1, PKCS#1 and PKCS#8 holding ECDSA, RSA or Ed25519.
/// Decryption, and the check of which keys a caller accepts, stay with the callers.
/// </summary>
internal static class PrivateKeyDer
{
    /// <summary>Decodes an unencrypted block by its PEM label.</summary>
    /// <exception cref="KeyLoadException">The block is not a valid key of its type.</exception>
    public static DecodedPrivateKey Decode(string label, byte[] der) => label switch
    {
        "EC PRIVATE KEY" => Import(ECDsa.Create(), static (k, d) => k.ImportECPrivateKey(d, out _), der, "the EC PRIVATE KEY block is not a valid SEC1 key"),
        "RSA PRIVATE KEY" => Import(RSA.Create(), static (k, d) => k.ImportRSAPrivateKey(d, out _), der, "the RSA PRIVATE KEY block is not a valid PKCS#1 key"),
        "PRIVATE KEY" => FromPkcs8(der, afterDecryption: false),
        _ => throw new KeyLoadException($"unsupported private key PEM type '{label}'"),
    };

    /// <summary>Decodes the PKCS#8 that a decryption produced, and zeroes it.</summary>
    /// <exception cref="KeyLoadException">Not a key: most often a wrong password whose padding happened to check out.</exception>
    public static DecodedPrivateKey FromDecryptedPkcs8(byte[] pkcs8)
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

    private static DecodedPrivateKey FromPkcs8(byte[] pkcs8, bool afterDecryption)
    {
        string oid;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(pkcs8, privateKeyInfo: true);
        }
        catch (AsnContentException ex)
        {
            throw new KeyLoadException(
                afterDecryption
                    ? "could not decrypt the private key: wrong password or corrupted key file"
                    : "the key file is truncated or corrupted (not valid PKCS#8)",
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
                    return new DecodedPrivateKey(null, Asn1Keys.ReadEd25519Seed(pkcs8));
                }
                catch (AsnContentException ex)
                {
                    throw new KeyLoadException("the Ed25519 private key is not valid RFC 8410 PKCS#8", ex);
                }

            default:
                throw new KeyLoadException($"unsupported private key algorithm {oid} (expected ECDSA P-256/P-384/P-521, RSA or Ed25519)");
        }
    }

    private static DecodedPrivateKey Import<TKey>(TKey key, Action<TKey, byte[]> import, byte[] der, string invalid)
        where TKey : AsymmetricAlgorithm
    {
        try
        {
            import(key, der);
            return new DecodedPrivateKey(key, null);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new KeyLoadException(invalid, ex);
        }
    }
}
