using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// Verifies a JWS signature (RFC 7515 §5.2) with one of an issuer's keys under the algorithm the token's header names
/// (RFC 7518 §3: RS256/384/512 are RSASSA-PKCS1-v1_5, PS256/384/512 RSASSA-PSS with a salt as long as the hash,
/// ES256/384/512 ECDSA on P-256/P-384/P-521 with the signature as r‖s). A key of another family or curve than the
/// algorithm, an RSA key under 1,024 bits (Microsoft.IdentityModel's floor for verifying), or a JWK that names
/// another <c>alg</c> verifies nothing. Each key is imported once and kept beside the <see cref="SecurityKey"/> object
/// the key cache holds, so a token costs one verification and no key import.
/// </summary>
internal static class JwsSignature
{
    private const int MinimumRsaBits = 1024;

    private static readonly ConditionalWeakTable<SecurityKey, ImportedKey> Imported = [];

    public static bool Verify(SecurityKey key, string alg, byte[] signingInput, byte[] signature)
    {
        if (key is JsonWebKey { Alg: { Length: > 0 } keyAlg } && !string.Equals(keyAlg, alg, StringComparison.Ordinal))
        {
            return false;
        }

        var imported = Imported.GetValue(key, Import);
        if (imported.Key is null || alg.Length != 5)
        {
            return false;
        }

        var hash = alg[2..] switch
        {
            "256" => HashAlgorithmName.SHA256,
            "384" => HashAlgorithmName.SHA384,
            "512" => HashAlgorithmName.SHA512,
            _ => default,
        };
        if (hash == default)
        {
            return false;
        }

        // One verification at a time per key: .NET does not promise that one key object verifies on several threads
        // at once.
        lock (imported.Lock)
        {
            return (alg[..2], imported.Key) switch
            {
                ("RS", RSA rsa) when rsa.KeySize >= MinimumRsaBits => rsa.VerifyData(signingInput, signature, hash, RSASignaturePadding.Pkcs1),
                ("PS", RSA rsa) when rsa.KeySize >= MinimumRsaBits => rsa.VerifyData(signingInput, signature, hash, RSASignaturePadding.Pss),
                ("ES", ECDsa ecdsa) when imported.Curve == CurveOf(alg) && signature.Length == 2 * FieldBytes(imported.Curve) =>
                    ecdsa.VerifyData(signingInput, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                _ => false,
            };
        }
    }

    /// <summary>The named curve JWS binds to an ES algorithm (RFC 7518 §3.4).</summary>
    private static string? CurveOf(string alg) => alg switch
    {
        "ES256" => "P-256",
        "ES384" => "P-384",
        "ES512" => "P-521",
        _ => null,
    };

    private static int FieldBytes(string? curve) => curve switch
    {
        "P-256" => 32,
        "P-384" => 48,
        _ => 66,
    };

    /// <summary>The key as the BCL verifies with it; a key that does not import is kept as <c>null</c> (it verifies
    /// nothing, as with Microsoft.IdentityModel, and is not imported again for every token).</summary>
    private static ImportedKey Import(SecurityKey key)
    {
        try
        {
            return key switch
            {
                JsonWebKey jwk => FromJwk(jwk),
                RsaSecurityKey rsa => new ImportedKey(rsa.Rsa is { } existing ? existing : RSA.Create(rsa.Parameters), null),
                ECDsaSecurityKey ecdsa => FromEcdsa(ecdsa.ECDsa),
                X509SecurityKey x509 => FromCertificate(x509.Certificate),
                _ => ImportedKey.None,
            };
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return ImportedKey.None;
        }
    }

    private static ImportedKey FromJwk(JsonWebKey jwk)
    {
        if (jwk.Kty == "EC" && jwk.Crv is "P-256" or "P-384" or "P-521" && !string.IsNullOrEmpty(jwk.X) && !string.IsNullOrEmpty(jwk.Y))
        {
            var curve = jwk.Crv switch
            {
                "P-256" => ECCurve.NamedCurves.nistP256,
                "P-384" => ECCurve.NamedCurves.nistP384,
                _ => ECCurve.NamedCurves.nistP521,
            };
            // ECDsa.Create checks that the point is on the curve.
            var parameters = new ECParameters { Curve = curve, Q = new ECPoint { X = Base64Url.DecodeFromChars(jwk.X), Y = Base64Url.DecodeFromChars(jwk.Y) } };
            return new ImportedKey(ECDsa.Create(parameters), jwk.Crv);
        }

        if (jwk.Kty == "RSA" && !string.IsNullOrEmpty(jwk.N) && !string.IsNullOrEmpty(jwk.E))
        {
            return new ImportedKey(RSA.Create(new RSAParameters { Modulus = Base64Url.DecodeFromChars(jwk.N), Exponent = Base64Url.DecodeFromChars(jwk.E) }), null);
        }

        // A JWK that carries only its certificate (x5c): the key is the certificate's.
        if (jwk.Kty is "RSA" or "EC" && jwk.X5c.Count > 0)
        {
            using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(jwk.X5c[0]));
            var imported = FromCertificate(certificate);
            return imported.Key switch
            {
                RSA when jwk.Kty == "RSA" => imported,
                ECDsa when jwk.Kty == "EC" => imported,
                _ => ImportedKey.None,
            };
        }

        return ImportedKey.None;
    }

    private static ImportedKey FromCertificate(X509Certificate2 certificate) =>
        certificate.GetRSAPublicKey() is { } rsa ? new ImportedKey(rsa, null)
        : certificate.GetECDsaPublicKey() is { } ecdsa ? FromEcdsa(ecdsa)
        : ImportedKey.None;

    /// <summary>Only the three NIST curves JWS names: a 256-bit key on another curve (secp256k1, brainpool) is not
    /// ES256's.</summary>
    private static ImportedKey FromEcdsa(ECDsa ecdsa)
    {
        var curve = ecdsa.ExportParameters(false).Curve;
        // The platform names a curve by its OID, its friendly name, or both.
        var name = !curve.IsNamed ? null : (curve.Oid.Value, curve.Oid.FriendlyName) switch
        {
            ("1.2.840.10045.3.1.7", _) or (null, "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1") => "P-256",
            ("1.3.132.0.34", _) or (null, "nistP384" or "ECDSA_P384" or "secp384r1") => "P-384",
            ("1.3.132.0.35", _) or (null, "nistP521" or "ECDSA_P521" or "secp521r1") => "P-521",
            _ => null,
        };
        return name is null ? ImportedKey.None : new ImportedKey(ecdsa, name);
    }

    private sealed class ImportedKey(AsymmetricAlgorithm? key, string? curve)
    {
        public static readonly ImportedKey None = new(null, null);

        public AsymmetricAlgorithm? Key { get; } = key;

        /// <summary>P-256, P-384 or P-521 for an ECDSA key.</summary>
        public string? Curve { get; } = curve;

        public Lock Lock { get; } = new();
    }
}
