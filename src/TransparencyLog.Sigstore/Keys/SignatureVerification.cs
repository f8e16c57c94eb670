using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// Verifies a signature with a SubjectPublicKeyInfo whose algorithm OID the caller has read: ECDSA (DER signature),
/// RSA PKCS#1 v1.5 (and PSS where the caller's policy accepts it) and Ed25519. An unknown algorithm verifies
/// nothing. A key the caller has not validated may throw <see cref="CryptographicException"/> or
/// <see cref="System.Formats.Asn1.AsnContentException"/>: whether that is a rejection or a <c>false</c> is the
/// caller's policy.
/// </summary>
internal static class SignatureVerification
{
    /// <summary>
    /// A signature over a precomputed digest. ECDSA and RSA sign the digest (RSA names <paramref name="hash"/> in
    /// its DigestInfo); Ed25519 is Ed25519ph, which is defined only over a SHA-512 digest.
    /// </summary>
    public static bool VerifyDigest(
        string algorithmOid,
        byte[] spki,
        HashAlgorithmName hash,
        ReadOnlySpan<byte> digest,
        ReadOnlySpan<byte> signature,
        bool acceptRsaPss)
    {
        switch (algorithmOid)
        {
            case Oids.EcPublicKey:
                using (var ecdsa = ECDsa.Create())
                {
                    ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                    return VerifyDigest(ecdsa, hash, digest, signature, acceptRsaPss);
                }

            case Oids.Rsa:
                using (var rsa = RSA.Create())
                {
                    rsa.ImportSubjectPublicKeyInfo(spki, out _);
                    return VerifyDigest(rsa, hash, digest, signature, acceptRsaPss);
                }

            case Oids.Ed25519:
                return hash == HashAlgorithmName.SHA512
                    && Ed25519Verification.VerifyPrehash(Asn1Keys.ReadEd25519PublicKey(spki), digest, signature);
            default:
                return false;
        }
    }

    /// <summary>
    /// <see cref="VerifyDigest(string, byte[], HashAlgorithmName, ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool)"/>
    /// with an ECDSA or RSA key the caller has already imported (and validated), so it is not imported twice.
    /// </summary>
    public static bool VerifyDigest(
        AsymmetricAlgorithm key,
        HashAlgorithmName hash,
        ReadOnlySpan<byte> digest,
        ReadOnlySpan<byte> signature,
        bool acceptRsaPss) => key switch
        {
            ECDsa ecdsa => ecdsa.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence),
            RSA rsa => rsa.VerifyHash(digest, signature, hash, RSASignaturePadding.Pkcs1)
                || (acceptRsaPss && rsa.VerifyHash(digest, signature, hash, RSASignaturePadding.Pss)),
            _ => false,
        };

    /// <summary>
    /// <see cref="VerifyData(string, byte[], HashAlgorithmName?, ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool)"/>
    /// with an ECDSA or RSA key the caller has already imported (and validated).
    /// </summary>
    public static bool VerifyData(
        AsymmetricAlgorithm key,
        HashAlgorithmName? hash,
        ReadOnlySpan<byte> data,
        ReadOnlySpan<byte> signature,
        bool acceptRsaPss)
    {
        switch (key)
        {
            case ECDsa ecdsa:
                var ecdsaHash = hash ?? ecdsa.KeySize switch
                {
                    384 => HashAlgorithmName.SHA384,
                    521 => HashAlgorithmName.SHA512,
                    _ => HashAlgorithmName.SHA256,
                };
                return ecdsa.VerifyData(data, signature, ecdsaHash, DSASignatureFormat.Rfc3279DerSequence);
            case RSA rsa:
                var rsaHash = hash ?? HashAlgorithmName.SHA256;
                return rsa.VerifyData(data, signature, rsaHash, RSASignaturePadding.Pkcs1)
                    || (acceptRsaPss && rsa.VerifyData(data, signature, rsaHash, RSASignaturePadding.Pss));
            default:
                return false;
        }
    }

    /// <summary>
    /// A signature over the data itself. ECDSA hashes it with <paramref name="hash"/>, or without one with the
    /// curve's matching hash (sigstore's default verifier); RSA with <paramref name="hash"/> or SHA-256; Ed25519 is
    /// pure Ed25519 and ignores <paramref name="hash"/>.
    /// </summary>
    public static bool VerifyData(
        string algorithmOid,
        byte[] spki,
        HashAlgorithmName? hash,
        ReadOnlySpan<byte> data,
        ReadOnlySpan<byte> signature,
        bool acceptRsaPss)
    {
        switch (algorithmOid)
        {
            case Oids.EcPublicKey:
                using (var ecdsa = ECDsa.Create())
                {
                    ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                    return VerifyData(ecdsa, hash, data, signature, acceptRsaPss);
                }

            case Oids.Rsa:
                using (var rsa = RSA.Create())
                {
                    rsa.ImportSubjectPublicKeyInfo(spki, out _);
                    return VerifyData(rsa, hash, data, signature, acceptRsaPss);
                }

            case Oids.Ed25519:
                return Ed25519Verification.VerifyPure(Asn1Keys.ReadEd25519PublicKey(spki), data, signature);
            default:
                return false;
        }
    }
}
