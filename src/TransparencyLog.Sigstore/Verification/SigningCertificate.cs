using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>The Fulcio identity fields of a signing certificate, read the way @sigstore/verify reads them.</summary>
public static class SigningCertificate
{
    public const string IssuerV2Oid = "1.3.6.1.4.1.57264.1.8";
    public const string IssuerV1Oid = "1.3.6.1.4.1.57264.1.1";

    /// <summary>The URI SAN if present, else the first email SAN (<c>C:x509/cert.js:112-115</c>); otherName is never read.</summary>
    public static string? Subject(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Extensions[Keys.Oids.SubjectAltName] is not { } extension)
        {
            return null;
        }

        string? uri = null;
        string? email = null;
        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            var rfc822 = new Asn1Tag(TagClass.ContextSpecific, 1);
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.HasSameClassAndValue(uriTag))
                {
                    uri ??= names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag);
                }
                else if (tag.HasSameClassAndValue(rfc822))
                {
                    email ??= names.ReadCharacterString(UniversalTagNumber.IA5String, rfc822);
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            return null;
        }

        return uri ?? email;
    }

    /// <summary>The OIDC issuer: <c>.1.8</c> as a DER UTF8String, else <c>.1.1</c> as raw bytes (<c>V:key/index.js:49-58</c>).</summary>
    public static string? Issuer(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Extensions[IssuerV2Oid] is { } v2)
        {
            try
            {
                var reader = new AsnReader(v2.RawData, AsnEncodingRules.DER);
                var value = reader.ReadCharacterString(UniversalTagNumber.UTF8String);
                reader.ThrowIfNotEmpty();
                return value;
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        if (certificate.Extensions[IssuerV1Oid] is { } v1)
        {
            try
            {
                return new UTF8Encoding(false, true).GetString(v1.RawData);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }

        return null;
    }
}
