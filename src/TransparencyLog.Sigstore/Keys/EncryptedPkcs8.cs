using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// PKCS#8 EncryptedPrivateKeyInfo (RFC 5958) through the BCL's <see cref="Pkcs8PrivateKeyInfo"/>: any scheme the
/// BCL reads (PBES2 with PBKDF2 and AES-CBC, as OpenSSL 3 writes by default; PKCS#12 PBE), for every key type,
/// Ed25519 included (the algorithm-specific <c>ImportEncryptedPkcs8PrivateKey</c> imports cannot hold one).
/// </summary>
internal static class EncryptedPkcs8
{
    // An operator's file, but still bounded: start-up must not spend minutes on a huge PBKDF2 count.
    private const int MaxIterations = 10_000_000;
    private const int ExportIterations = 600_000;

    /// <summary>Writes PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, which OpenSSL and the BCL read.</summary>
    public static byte[] Encrypt(ReadOnlyMemory<byte> privateKeyInfo, ReadOnlySpan<char> password)
    {
        var info = Pkcs8PrivateKeyInfo.Decode(privateKeyInfo, out _, skipCopy: true);
        return info.Encrypt(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, ExportIterations));
    }

    /// <summary>The decrypted PrivateKeyInfo (DER). The caller zeroes it.</summary>
    /// <exception cref="KeyLoadException">Not an EncryptedPrivateKeyInfo, too many iterations, or a wrong password.</exception>
    public static byte[] Decrypt(ReadOnlyMemory<byte> encryptedPrivateKeyInfo, ReadOnlySpan<char> password)
    {
        CheckIterationCount(encryptedPrivateKeyInfo);
        try
        {
            return Pkcs8PrivateKeyInfo.DecryptAndDecode(password, encryptedPrivateKeyInfo, out _).Encode();
        }
        catch (CryptographicException ex)
        {
            throw new KeyLoadException("could not decrypt the private key: wrong password, unsupported encryption or corrupted key file", ex);
        }
    }

    /// <summary>Refuses a PBES2/PBKDF2 iteration count above <see cref="MaxIterations"/> before any key derivation.</summary>
    private static void CheckIterationCount(ReadOnlyMemory<byte> encryptedPrivateKeyInfo)
    {
        try
        {
            var info = new AsnReader(encryptedPrivateKeyInfo, AsnEncodingRules.BER).ReadSequence();
            var algorithm = info.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Oids.Pbes2)
            {
                return;
            }

            var kdf = algorithm.ReadSequence().ReadSequence();
            if (kdf.ReadObjectIdentifier() != Oids.Pbkdf2)
            {
                return;
            }

            var parameters = kdf.ReadSequence();
            parameters.ReadOctetString();
            if (!parameters.TryReadInt32(out var iterations) || iterations is < 1 or > MaxIterations)
            {
                throw new KeyLoadException($"the encrypted private key's PBKDF2 iteration count is outside 1..{MaxIterations}");
            }
        }
        catch (AsnContentException ex)
        {
            throw new KeyLoadException("the encrypted private key is not a valid PKCS#8 EncryptedPrivateKeyInfo", ex);
        }
    }
}
