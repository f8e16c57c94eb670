using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A submitted ECDSA key decoded once, for the Rekor v1 and v2 entry parsers: after
/// <see cref="Asn1Keys.ReadUncompressedNistCurveOid"/> accepted its SPKI, a bare key is imported and a certificate's is
/// taken as OpenSSL decoded it with the certificate; and the facts a refusal's wording needs for the keys that check
/// refused.
/// </summary>
internal static class EcPublicKeys
{
    /// <summary>
    /// The key of <paramref name="spki"/> (in Go's x509's one form, checked by the caller), from
    /// <paramref name="certificate"/> when it came from one. OpenSSL decoded a certificate's key when it parsed the
    /// certificate, refusing a point off the curve or a coordinate at or above the field's prime; an import would decode
    /// it again and run OpenSSL 3's full public-key check (~100 µs), whose one further test, n·Q = O, cannot fail on
    /// these curves (cofactor 1).
    /// </summary>
    /// <exception cref="CryptographicException">The point is not a key of its curve.</exception>
    public static ECDsa Decode(byte[] spki, X509Certificate2? certificate)
    {
        if (certificate is not null)
        {
            return certificate.GetECDsaPublicKey() ?? throw new CryptographicException("the certificate's key is not an EC key");
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
            return ecdsa;
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    /// <summary>
    /// For a key <see cref="Asn1Keys.ReadUncompressedNistCurveOid"/> refused, so that refusals keep the wording they had
    /// before that form was required: whether the BCL's import takes the SPKI, and the named curve it names (null for
    /// explicit parameters). The import also took two forms Go refuses (coordinates padded beyond the curve's length,
    /// bytes after the SPKI). Runs only for keys refused anyway.
    /// </summary>
    public static bool Imports(byte[] spki, out string? namedCurve)
    {
        namedCurve = null;
        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
            namedCurve = Asn1Keys.ReadNamedCurveOid(spki);
            return true;
        }
        // An unknown named curve throws PlatformNotSupportedException from the import (found by fuzzing).
        catch (Exception e) when (e is AsnContentException or CryptographicException or PlatformNotSupportedException)
        {
            return false;
        }
    }
}
