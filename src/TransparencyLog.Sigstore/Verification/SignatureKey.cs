using System.Formats.Asn1;
using System.Security.Cryptography;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Verifies artifact, DSSE and SCT signatures with a SubjectPublicKeyInfo: ECDSA (DER, hash by curve unless given),
/// RSA PKCS#1 v1.5 (or PSS) and pure Ed25519. The offline verifier's policy: a malformed key verifies nothing.
/// </summary>
internal static class SignatureKey
{
    public static bool Verify(byte[] spki, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName? hash = null)
    {
        string oid;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
        }
        catch (AsnContentException)
        {
            return false;
        }

        try
        {
            return SignatureVerification.VerifyData(oid, spki, hash, data, signature, acceptRsaPss: true);
        }
        // PlatformNotSupportedException: an EC key on a named curve the platform does not know (found by fuzzing
        // bundle-verify: a leaf certificate's key on curve 0.37.9032.10045.3.1.7).
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>
    /// An Ed25519 key's signature over an artifact as cosign and hashedrekord make it: Ed25519ph over SHA-512 of
    /// the data (the digest is computed here, never taken from the bundle). False for every other key type.
    /// </summary>
    public static bool VerifyEd25519Prehash(byte[] spki, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            return Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false) == Oids.Ed25519
                && Ed25519Verification.VerifyPrehash(Asn1Keys.ReadEd25519PublicKey(spki), SHA512.HashData(data), signature);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
