using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.CaService.Issuance;

/// <summary>
/// Start-up checks of a CA chain and key (Fulcio's <c>VerifyCertChain</c>): a CA that passes them issues leaves
/// every sigstore verifier accepts; one that fails must stop the service with a clear message, never issue.
/// </summary>
internal static class CaChainValidator
{
    /// <exception cref="InvalidOperationException">The chain or key is unusable; the message says why.</exception>
    public static void Validate(IReadOnlyList<X509Certificate2> chain, ISigner signer, DateTimeOffset now)
    {
        // The same checks on the signer's public key (a PKCS#11 key never shows its private half).
        using AsymmetricAlgorithm? publicKey = signer.Algorithm switch
        {
            SignatureAlgorithm.RsaPkcs1Sha256 => RSA.Create(),
            SignatureAlgorithm.Ed25519 => null,
            _ => ECDsa.Create(),
        };
        if (publicKey is null)
        {
            throw Fail("the CA key must be ECDSA P-256/384/521 or RSA ≥ 2048 (Ed25519 is not used for certificates).");
        }

        publicKey.ImportSubjectPublicKeyInfo(signer.PublicKeySpki.Span, out _);
        Validate(chain, publicKey, now);
    }

    /// <inheritdoc cref="Validate(IReadOnlyList{X509Certificate2}, ISigner, DateTimeOffset)"/>
    public static void Validate(IReadOnlyList<X509Certificate2> chain, AsymmetricAlgorithm key, DateTimeOffset now)
    {
        if (chain.Count == 0)
        {
            throw Fail("the chain file holds no certificate.");
        }

        for (var i = 0; i < chain.Count; i++)
        {
            var certificate = chain[i];
            var constraints = certificate.Extensions.OfType<X509BasicConstraintsExtension>().SingleOrDefault();
            if (constraints is not { CertificateAuthority: true })
            {
                throw Fail(i == 0
                    ? "the first certificate of the chain (the issuing CA) is not a CA (BasicConstraints CA:TRUE)."
                    : $"chain certificate {i} ({certificate.Subject}) is not a CA.");
            }

            var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().SingleOrDefault();
            if (usage is not null && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
            {
                throw Fail($"chain certificate {i} ({certificate.Subject}) lacks keyCertSign.");
            }

            if (i < chain.Count - 1)
            {
                var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
                if (eku is null || !eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == CertificateChains.CodeSigningEku))
                {
                    throw Fail($"intermediate {i} ({certificate.Subject}) does not carry the codeSigning extended key usage.");
                }
            }

            if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
            {
                throw Fail($"chain certificate {i} ({certificate.Subject}) is not valid now.");
            }

            using var publicKey = (AsymmetricAlgorithm?)certificate.GetECDsaPublicKey() ?? certificate.GetRSAPublicKey();
            CheckKeyStrength(publicKey, $"chain certificate {i}");
        }

        if (chain[0].Extensions.OfType<X509SubjectKeyIdentifierExtension>().SingleOrDefault() is null)
        {
            throw Fail("the issuing CA certificate has no SubjectKeyIdentifier (leaves name it in their AuthorityKeyIdentifier).");
        }

        var root = chain[^1];
        if (!root.SubjectName.RawData.AsSpan().SequenceEqual(root.IssuerName.RawData))
        {
            throw Fail("the last certificate of the chain is not a self-signed root.");
        }

        VerifyPath(chain, now);
        CheckKeyStrength(key, "the CA private key");

        var keySpki = key switch
        {
            ECDsa ecdsa => ecdsa.ExportSubjectPublicKeyInfo(),
            RSA rsa => rsa.ExportSubjectPublicKeyInfo(),
            _ => [],
        };
        if (!keySpki.AsSpan().SequenceEqual(chain[0].PublicKey.ExportSubjectPublicKeyInfo()))
        {
            throw Fail("the private key does not match the first certificate of the chain.");
        }
    }

    private static void VerifyPath(IReadOnlyList<X509Certificate2> chain, DateTimeOffset now)
    {
        if (CertificateChains.VerifyInOrder(chain, now, CertificateChains.CodeSigningEku) is { } problem)
        {
            throw Fail($"the chain does not verify, in file order, to its root ({problem}).");
        }
    }

    private static void CheckKeyStrength(AsymmetricAlgorithm? key, string what)
    {
        var strong = key switch
        {
            ECDsa ecdsa => ecdsa.KeySize is 256 or 384 or 521 && IsNistCurve(ecdsa),
            RSA rsa => rsa.KeySize >= 2048,
            _ => false,
        };
        if (!strong)
        {
            throw Fail($"{what} is too weak or of an unsupported type (ECDSA P-256/384/521 or RSA ≥ 2048 required).");
        }
    }

    private static bool IsNistCurve(ECDsa key)
    {
        // Platforms name curves by OID or by friendly name only; accept either spelling of the three NIST curves.
        var oid = key.ExportParameters(false).Curve.Oid;
        return oid?.Value is "1.2.840.10045.3.1.7" or "1.3.132.0.34" or "1.3.132.0.35"
               || oid?.FriendlyName is "nistP256" or "nistP384" or "nistP521" or "ECDSA_P256" or "ECDSA_P384"
                   or "ECDSA_P521" or "prime256v1" or "secp384r1" or "secp521r1";
    }

    private static InvalidOperationException Fail(string reason) => new($"Issuance CA configuration: {reason}");
}
