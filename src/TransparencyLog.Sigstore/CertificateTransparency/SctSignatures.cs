using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.CertificateTransparency;

/// <summary>
/// Signing (the CT log's side) and verifying (the CA's and the client's side) of SCTs. ECDSA signatures are DER
/// <c>SEQUENCE{r,s}</c>, as RFC 6962 and every client require; the .NET default IEEE P1363 form is never used.
/// </summary>
public static class SctSignatures
{
    /// <summary>TLS HashAlgorithm sha256.</summary>
    public const byte Sha256 = 4;

    /// <summary>TLS SignatureAlgorithm ecdsa.</summary>
    public const byte Ecdsa = 3;

    /// <summary>TLS SignatureAlgorithm rsa (PKCS#1 v1.5).</summary>
    public const byte Rsa = 1;

    /// <summary>The RFC 6962 log ID: SHA-256 of the log's DER SubjectPublicKeyInfo.</summary>
    public static byte[] LogIdFromSpki(ReadOnlySpan<byte> logSpkiDer) => SHA256.HashData(logSpkiDer);

    /// <summary>Issues an SCT for a precertificate entry, signed ECDSA/SHA-256 by the log key.</summary>
    public static SignedCertificateTimestamp SignForPrecertificate(
        ECDsa logKey,
        ulong timestampMs,
        ReadOnlySpan<byte> issuerKeyHash,
        ReadOnlySpan<byte> tbsWithoutPoison,
        byte[] extensions)
    {
        ArgumentNullException.ThrowIfNull(logKey);
        var signedData = CtSignedData.ForPrecertificate(timestampMs, issuerKeyHash, tbsWithoutPoison, extensions);
        return Sign(logKey, timestampMs, extensions, signedData);
    }

    /// <summary>Issues an SCT for an X.509 certificate entry, signed ECDSA/SHA-256 by the log key.</summary>
    public static SignedCertificateTimestamp SignForCertificate(
        ECDsa logKey,
        ulong timestampMs,
        ReadOnlySpan<byte> certDer,
        byte[] extensions)
    {
        ArgumentNullException.ThrowIfNull(logKey);
        var signedData = CtSignedData.ForCertificate(timestampMs, certDer, extensions);
        return Sign(logKey, timestampMs, extensions, signedData);
    }

    /// <summary>
    /// Whether <paramref name="sct"/> is a v1 SCT from the log whose DER SubjectPublicKeyInfo is
    /// <paramref name="logSpkiDer"/> (log ID match) and its signature verifies over <paramref name="signedData"/>
    /// (built with <see cref="CtSignedData"/>). Supports ECDSA with SHA-256/384/512 and RSA PKCS#1 v1.5 SHA-256.
    /// </summary>
    public static bool Verify(SignedCertificateTimestamp sct, ReadOnlySpan<byte> signedData, ReadOnlySpan<byte> logSpkiDer)
    {
        ArgumentNullException.ThrowIfNull(sct);
        var logId = LogIdFromSpki(logSpkiDer);
        if (sct.Version != 0 || !CryptographicOperations.FixedTimeEquals(sct.LogId, logId))
        {
            return false;
        }

        using AsymmetricAlgorithm key = sct.SignatureAlgorithm == Rsa ? RSA.Create() : ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(logSpkiDer, out var read);
            if (read != logSpkiDer.Length)
            {
                return false;
            }
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            // A key of another type than the SCT claims, or on a curve the platform does not know: not a valid SCT.
            return false;
        }

        return Verify(sct, signedData, key, logId);
    }

    /// <summary>
    /// <see cref="Verify(SignedCertificateTimestamp, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> with the log key
    /// already imported (an <see cref="ECDsa"/> or <see cref="RSA"/>) and its log ID computed, for a verifier that
    /// checks many SCTs of one log. The key is only read; callers sharing it across threads serialize the calls.
    /// </summary>
    public static bool Verify(SignedCertificateTimestamp sct, ReadOnlySpan<byte> signedData, AsymmetricAlgorithm logKey, ReadOnlySpan<byte> logId)
    {
        ArgumentNullException.ThrowIfNull(sct);
        ArgumentNullException.ThrowIfNull(logKey);
        if (sct.Version != 0 || !CryptographicOperations.FixedTimeEquals(sct.LogId, logId))
        {
            return false;
        }

        HashAlgorithmName? hash = sct.HashAlgorithm switch
        {
            4 => HashAlgorithmName.SHA256,
            5 => HashAlgorithmName.SHA384,
            6 => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (hash is null)
        {
            return false;
        }

        try
        {
            return (sct.SignatureAlgorithm, logKey) switch
            {
                (Ecdsa, ECDsa key) => key.VerifyData(signedData, sct.Signature, hash.Value, DSASignatureFormat.Rfc3279DerSequence),
                (Rsa, RSA key) when hash == HashAlgorithmName.SHA256 => key.VerifyData(signedData, sct.Signature, hash.Value, RSASignaturePadding.Pkcs1),
                // A key of another type than the SCT claims.
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            // A malformed signature: not a valid SCT.
            return false;
        }
    }

    private static SignedCertificateTimestamp Sign(ECDsa logKey, ulong timestampMs, byte[] extensions, byte[] signedData)
    {
        var signature = logKey.SignData(signedData, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var logId = LogIdFromSpki(logKey.ExportSubjectPublicKeyInfo());
        return new SignedCertificateTimestamp(0, logId, timestampMs, extensions, Sha256, Ecdsa, signature);
    }
}
