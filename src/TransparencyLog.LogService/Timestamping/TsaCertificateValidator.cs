using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// Start-up rules for a TSA chain and key, those of sigstore/timestamp-authority <c>pkg/x509</c> plus key strength:
/// verifiers (openssl, sigstore-go) reject tokens from a certificate that breaks them, so we refuse to start instead.
/// </summary>
internal static class TsaCertificateValidator
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first rule the chain or key breaks.</summary>
    public static void Validate(IReadOnlyList<X509Certificate2> chain, ISigner key, DateTimeOffset now)
    {
        if (chain.Count < 2)
        {
            throw Fail("the certificate chain must hold the TSA certificate followed by its issuers up to the root (at least 2 certificates)");
        }

        var leaf = chain[0];
        if (leaf.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
        {
            throw Fail($"the TSA certificate '{leaf.Subject}' is a CA certificate; it must not be");
        }

        var eku = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
        if (eku is null)
        {
            throw Fail("the TSA certificate has no extended key usage; it must have exactly one, timeStamping (1.3.6.1.5.5.7.3.8), marked critical");
        }

        if (!eku.Critical)
        {
            throw Fail("the TSA certificate's extended key usage extension is not marked critical");
        }

        if (eku.EnhancedKeyUsages.Count != 1 || eku.EnhancedKeyUsages[0].Value != Oids.TimeStampingPurpose)
        {
            throw Fail("the TSA certificate's extended key usage must contain only timeStamping (1.3.6.1.5.5.7.3.8)");
        }

        var keyUsage = leaf.Extensions.OfType<X509KeyUsageExtension>().SingleOrDefault();
        if (keyUsage is null || !keyUsage.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
        {
            throw Fail("the TSA certificate's key usage must include digitalSignature");
        }

        for (var i = 1; i < chain.Count; i++)
        {
            var issuer = chain[i];
            if (!issuer.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
            {
                throw Fail($"chain certificate #{i} '{issuer.Subject}' is not a CA certificate");
            }

            var issuerEku = issuer.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
            if (issuerEku is not null && !issuerEku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == Oids.TimeStampingPurpose))
            {
                throw Fail($"chain certificate #{i} '{issuer.Subject}' restricts extended key usage without timeStamping");
            }
        }

        VerifyChain(chain, now);
        VerifyKey(leaf, key);
        CheckSerialNumber(leaf);
    }

    private static void VerifyChain(IReadOnlyList<X509Certificate2> chain, DateTimeOffset now)
    {
        if (CertificateChains.VerifyInOrder(chain, now, CertificateChains.TimeStampingEku) is { } problem)
        {
            throw Fail($"the certificate chain does not verify as a TSA chain: {problem}");
        }
    }

    private static void VerifyKey(X509Certificate2 leaf, ISigner key)
    {
        // The match first: a key of another algorithm than the certificate's is simply not its key.
        if (!key.PublicKeySpki.Span.SequenceEqual(leaf.PublicKey.ExportSubjectPublicKeyInfo()))
        {
            throw Fail("the private key does not match the TSA certificate's public key");
        }

        switch (key.Algorithm)
        {
            case SignatureAlgorithm.EcdsaP256Sha256 or SignatureAlgorithm.EcdsaP384Sha384 or SignatureAlgorithm.EcdsaP521Sha512:
                break;
            case SignatureAlgorithm.RsaPkcs1Sha256:
                using (var rsa = leaf.GetRSAPublicKey())
                {
                    if (rsa is null || rsa.KeySize < 2048)
                    {
                        throw Fail($"the TSA RSA key has {rsa?.KeySize ?? 0} bits; at least 2048 are required");
                    }
                }

                break;
            default:
                throw Fail("the TSA key must be ECDSA (P-256, P-384 or P-521) or RSA");
        }
    }

    private static void CheckSerialNumber(X509Certificate2 leaf)
    {
        // SignerInfo.sid and ESSCertIDv2 repeat the serial as a DER INTEGER; a non-minimal serial cannot be repeated
        // byte-for-byte, so verifiers would not match it to the certificate.
        try
        {
            new AsnWriter(AsnEncodingRules.DER).WriteInteger(leaf.SerialNumberBytes.Span);
        }
        catch (ArgumentException)
        {
            throw Fail("the TSA certificate's serial number is not a minimal DER INTEGER");
        }
    }

    private static InvalidOperationException Fail(string message) => new($"Timestamping: {message}.");
}
