using System.Formats.Asn1;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.LogService.Explorer;

/// <summary>A signing certificate as people read it: who, vouched for by which issuer, from which build, valid when.</summary>
internal sealed record CertificateDescription(
    string Subject,
    string Issuer,
    string SerialNumber,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    IReadOnlyList<(string Type, string Value)> SubjectAlternativeNames,
    string? OidcIssuer,
    IReadOnlyList<(string Name, string Oid, string Value)> FulcioExtensions,
    string KeyAlgorithm,
    string Sha256Fingerprint)
{
    private const string FulcioArc = "1.3.6.1.4.1.57264.1.";

    /// <summary>Fulcio's extensions by name (1.3.6.1.4.1.57264.1.x, certificate-authority.md §2.2).</summary>
    private static readonly Dictionary<int, string> FulcioNames = new()
    {
        [1] = "Issuer (v1, deprecated)",
        [2] = "GitHub workflow trigger (deprecated)",
        [3] = "GitHub workflow SHA (deprecated)",
        [4] = "GitHub workflow name (deprecated)",
        [5] = "GitHub workflow repository (deprecated)",
        [6] = "GitHub workflow ref (deprecated)",
        [7] = "OtherName SAN",
        [8] = "Issuer",
        [9] = "Build signer URI",
        [10] = "Build signer digest",
        [11] = "Runner environment",
        [12] = "Source repository URI",
        [13] = "Source repository digest (commit)",
        [14] = "Source repository ref",
        [15] = "Source repository identifier",
        [16] = "Source repository owner URI",
        [17] = "Source repository owner identifier",
        [18] = "Build config URI",
        [19] = "Build config digest",
        [20] = "Build trigger",
        [21] = "Run invocation URI",
        [22] = "Source repository visibility at signing",
        [23] = "Deployment environment",
        [24] = "Token subject",
    };

    /// <summary>The first SAN people identify the signer by: a URI, else an email (as sigstore verifiers match).</summary>
    public string? Identity => SigningIdentity();

    public static CertificateDescription Describe(X509Certificate2 certificate)
    {
        var extensions = new List<(string, string, string)>();
        foreach (var extension in certificate.Extensions)
        {
            var oid = extension.Oid?.Value;
            if (oid is null || !oid.StartsWith(FulcioArc, StringComparison.Ordinal)
                || !int.TryParse(oid.AsSpan(FulcioArc.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var arc))
            {
                continue;
            }

            var name = FulcioNames.TryGetValue(arc, out var known) ? known : "Fulcio extension";
            extensions.Add((name, oid, FulcioValue(arc, extension.RawData)));
        }

        return new CertificateDescription(
            certificate.Subject,
            certificate.Issuer,
            certificate.SerialNumber.ToLowerInvariant(),
            certificate.NotBefore.ToUniversalTime(),
            certificate.NotAfter.ToUniversalTime(),
            SubjectAltNames(certificate),
            SigningCertificate.Issuer(certificate),
            extensions,
            KeyAlgorithmOf(certificate),
            Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)));
    }

    private string? SigningIdentity()
    {
        foreach (var (type, value) in SubjectAlternativeNames)
        {
            if (type == "URI")
            {
                return value;
            }
        }

        foreach (var (type, value) in SubjectAlternativeNames)
        {
            if (type is "Email" or "Other name")
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>Extensions 1.1–1.6 hold raw UTF-8 bytes (Fulcio's first format); 1.8 onwards a DER UTF8String.</summary>
    private static string FulcioValue(int arc, byte[] raw)
    {
        try
        {
            if (arc is >= 1 and <= 6)
            {
                return new UTF8Encoding(false, true).GetString(raw);
            }

            var reader = new AsnReader(raw, AsnEncodingRules.DER);
            var value = reader.ReadCharacterString(UniversalTagNumber.UTF8String);
            reader.ThrowIfNotEmpty();
            return value;
        }
        catch (Exception e) when (e is AsnContentException or DecoderFallbackException)
        {
            return "(undecodable: " + Convert.ToHexStringLower(raw.AsSpan(0, Math.Min(raw.Length, 64))) + ")";
        }
    }

    private static List<(string Type, string Value)> SubjectAltNames(X509Certificate2 certificate)
    {
        var names = new List<(string, string)>();
        if (certificate.Extensions[Sigstore.Keys.Oids.SubjectAltName] is not { } extension)
        {
            return names;
        }

        try
        {
            var sequence = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (sequence.HasData)
            {
                var tag = sequence.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    sequence.ReadEncodedValue();
                    continue;
                }

                switch (tag.TagValue)
                {
                    case 1:
                        names.Add(("Email", sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag)));
                        break;
                    case 2:
                        names.Add(("DNS", sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag)));
                        break;
                    case 6:
                        names.Add(("URI", sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag)));
                        break;
                    case 7:
                        names.Add(("IP", new IPAddress(sequence.ReadOctetString(tag)).ToString()));
                        break;
                    case 0:
                        names.Add(("Other name", OtherName(sequence.ReadSequence(tag))));
                        break;
                    default:
                        sequence.ReadEncodedValue();
                        break;
                }
            }
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException)
        {
            names.Add(("(malformed)", "the subject alternative name extension could not be read"));
        }

        return names;
    }

    /// <summary>otherName: type-id OID, then [0] EXPLICIT value; Fulcio's 1.7 holds a UTF8String <c>user!domain</c>.</summary>
    private static string OtherName(AsnReader other)
    {
        var typeId = other.ReadObjectIdentifier();
        var value = other.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0));
        return value.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UTF8String))
            ? value.ReadCharacterString(UniversalTagNumber.UTF8String)
            : typeId;
    }

    private static string KeyAlgorithmOf(X509Certificate2 certificate)
    {
        using var ecdsa = certificate.GetECDsaPublicKey();
        if (ecdsa is not null)
        {
            return $"ECDSA P-{ecdsa.KeySize}";
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            return $"RSA {rsa.KeySize}";
        }

        return certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value ?? "unknown";
    }
}
