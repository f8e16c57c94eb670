using System.Formats.Asn1;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>The signature algorithms our keys sign with (X.509, CMS, notes, SETs, SCTs).</summary>
public enum SignatureAlgorithm
{
    /// <summary>ecdsa-with-SHA256 on P-256; signatures are DER <c>SEQUENCE{r, s}</c>.</summary>
    EcdsaP256Sha256,

    /// <summary>ecdsa-with-SHA384 on P-384.</summary>
    EcdsaP384Sha384,

    /// <summary>ecdsa-with-SHA512 on P-521.</summary>
    EcdsaP521Sha512,

    /// <summary>sha256WithRSAEncryption (PKCS#1 v1.5).</summary>
    RsaPkcs1Sha256,

    /// <summary>Pure Ed25519 (RFC 8032), 64-byte signatures.</summary>
    Ed25519,
}

/// <summary>
/// The one table of signature-algorithm OIDs: what a signer writes into an AlgorithmIdentifier, and which hash a
/// verifier uses for an algorithm OID it reads (certificates, CMS SignerInfos, CT chains, CSRs).
/// </summary>
public static class SignatureAlgorithms
{
    public const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    public const string EcdsaWithSha384 = "1.2.840.10045.4.3.3";
    public const string EcdsaWithSha512 = "1.2.840.10045.4.3.4";
    public const string Sha256WithRsa = "1.2.840.113549.1.1.11";
    public const string Sha384WithRsa = "1.2.840.113549.1.1.12";
    public const string Sha512WithRsa = "1.2.840.113549.1.1.13";
    public const string Ed25519 = "1.3.101.112";

    /// <summary>The algorithm OID.</summary>
    public static string Oid(this SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.EcdsaP256Sha256 => EcdsaWithSha256,
        SignatureAlgorithm.EcdsaP384Sha384 => EcdsaWithSha384,
        SignatureAlgorithm.EcdsaP521Sha512 => EcdsaWithSha512,
        SignatureAlgorithm.RsaPkcs1Sha256 => Sha256WithRsa,
        SignatureAlgorithm.Ed25519 => Ed25519,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>The digest signed over; none for Ed25519, which signs the message itself.</summary>
    public static HashAlgorithmName? Hash(this SignatureAlgorithm algorithm) => algorithm switch
    {
        SignatureAlgorithm.EcdsaP256Sha256 or SignatureAlgorithm.RsaPkcs1Sha256 => HashAlgorithmName.SHA256,
        SignatureAlgorithm.EcdsaP384Sha384 => HashAlgorithmName.SHA384,
        SignatureAlgorithm.EcdsaP521Sha512 => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>The DER AlgorithmIdentifier: absent parameters for ECDSA and Ed25519 (RFC 5758, RFC 8410), NULL for
    /// RSA (RFC 4055).</summary>
    public static byte[] AlgorithmIdentifier(this SignatureAlgorithm algorithm)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(algorithm.Oid());
            if (algorithm == SignatureAlgorithm.RsaPkcs1Sha256)
            {
                writer.WriteNull();
            }
        }

        return writer.Encode();
    }

    /// <summary>The hash of a signature algorithm OID read from a certificate or CMS structure, and whether it is
    /// ECDSA; false for an algorithm we do not verify. Ed25519 has no separate hash (<c>Hash</c> null).</summary>
    public static bool TryDescribe(string oid, out HashAlgorithmName? hash, out bool isEcdsa)
    {
        isEcdsa = oid is EcdsaWithSha256 or EcdsaWithSha384 or EcdsaWithSha512;
        hash = oid switch
        {
            EcdsaWithSha256 or Sha256WithRsa => HashAlgorithmName.SHA256,
            EcdsaWithSha384 or Sha384WithRsa => HashAlgorithmName.SHA384,
            EcdsaWithSha512 or Sha512WithRsa => HashAlgorithmName.SHA512,
            _ => null,
        };
        return hash is not null || oid == Ed25519;
    }

    /// <summary>The algorithm an in-process key signs with: ECDSA with the hash matching the curve, or RSA SHA-256.</summary>
    public static SignatureAlgorithm For(AsymmetricAlgorithm key) => key switch
    {
        ECDsa { KeySize: 256 } => SignatureAlgorithm.EcdsaP256Sha256,
        ECDsa { KeySize: 384 } => SignatureAlgorithm.EcdsaP384Sha384,
        ECDsa { KeySize: 521 } => SignatureAlgorithm.EcdsaP521Sha512,
        RSA => SignatureAlgorithm.RsaPkcs1Sha256,
        _ => throw new ArgumentException("the key must be ECDSA P-256/384/521 or RSA", nameof(key)),
    };
}
