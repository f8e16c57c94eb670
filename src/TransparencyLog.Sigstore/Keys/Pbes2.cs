using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// PKCS#8 EncryptedPrivateKeyInfo with PBES2/PBKDF2/AES-CBC (RFC 8018), the scheme OpenSSL 3 writes by default.
/// The BCL only decrypts PKCS#8 inside ECDsa/RSA imports; Ed25519 keys need the scheme on their own.
/// </summary>
internal static class Pbes2
{
    // Bounds an attacker-supplied (or mistyped) key file cannot exceed: startup must not hang on a huge count.
    private const int MaxIterations = 10_000_000;
    private const int ExportIterations = 600_000;

    public static byte[] Decrypt(ReadOnlySpan<byte> encryptedPrivateKeyInfo, string password)
    {
        string kdfPrf;
        byte[] salt;
        int iterations;
        string cipher;
        byte[] iv;
        byte[] cipherText;
        try
        {
            var reader = new AsnReader(encryptedPrivateKeyInfo.ToArray(), AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();

            var algorithm = info.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Oids.Pbes2)
            {
                throw new KeyLoadException("encrypted private key uses an unsupported scheme (only PBES2 is supported)");
            }

            var pbes2 = algorithm.ReadSequence();
            var kdf = pbes2.ReadSequence();
            if (kdf.ReadObjectIdentifier() != Oids.Pbkdf2)
            {
                throw new KeyLoadException("encrypted private key uses an unsupported key derivation (only PBKDF2 is supported)");
            }

            var kdfParams = kdf.ReadSequence();
            salt = kdfParams.ReadOctetString();
            if (!kdfParams.TryReadInt32(out iterations) || iterations < 1 || iterations > MaxIterations)
            {
                throw new KeyLoadException("encrypted private key has an out-of-range PBKDF2 iteration count");
            }

            if (kdfParams.HasData && kdfParams.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                // keyLength is implied by the cipher; an explicit one is checked below.
                kdfParams.ReadInteger();
            }

            kdfPrf = Oids.HmacWithSha1;
            if (kdfParams.HasData)
            {
                var prf = kdfParams.ReadSequence();
                kdfPrf = prf.ReadObjectIdentifier();
            }

            var scheme = pbes2.ReadSequence();
            cipher = scheme.ReadObjectIdentifier();
            iv = scheme.ReadOctetString();
            cipherText = info.ReadOctetString();
        }
        catch (AsnContentException ex)
        {
            throw new KeyLoadException("encrypted private key is not a valid PKCS#8 EncryptedPrivateKeyInfo", ex);
        }

        var hash = PrfHash(kdfPrf);
        var keySize = cipher switch
        {
            Oids.Aes128Cbc => 16,
            Oids.Aes192Cbc => 24,
            Oids.Aes256Cbc => 32,
            _ => throw new KeyLoadException("encrypted private key uses an unsupported cipher (only AES-CBC is supported)"),
        };
        if (iv.Length != 16)
        {
            throw new KeyLoadException("encrypted private key has an invalid AES IV");
        }

        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, hash, keySize);
        try
        {
            using var aes = Aes.Create();
            aes.Key = key;
            return aes.DecryptCbc(cipherText, iv, PaddingMode.PKCS7);
        }
        catch (CryptographicException ex)
        {
            throw new KeyLoadException("could not decrypt the private key: wrong password or corrupted key file", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static byte[] Encrypt(ReadOnlySpan<byte> privateKeyInfo, string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        var key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, ExportIterations, HashAlgorithmName.SHA256, 32);
        byte[] cipherText;
        try
        {
            using var aes = Aes.Create();
            aes.Key = key;
            cipherText = aes.EncryptCbc(privateKeyInfo, iv, PaddingMode.PKCS7);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.Pbes2);
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Oids.Pbkdf2);
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(salt);
                            writer.WriteInteger(ExportIterations);
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier(Oids.HmacWithSha256);
                                writer.WriteNull();
                            }
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Oids.Aes256Cbc);
                        writer.WriteOctetString(iv);
                    }
                }
            }

            writer.WriteOctetString(cipherText);
        }

        return writer.Encode();
    }

    private static HashAlgorithmName PrfHash(string oid) => oid switch
    {
        Oids.HmacWithSha1 => HashAlgorithmName.SHA1,
        Oids.HmacWithSha256 => HashAlgorithmName.SHA256,
        Oids.HmacWithSha384 => HashAlgorithmName.SHA384,
        Oids.HmacWithSha512 => HashAlgorithmName.SHA512,
        _ => throw new KeyLoadException("encrypted private key uses an unsupported PBKDF2 PRF"),
    };
}
