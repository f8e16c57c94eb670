using System.Formats.Asn1;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>Object identifiers of RFC 3161, RFC 5652 (CMS) and RFC 5035 (ESS) used by the token encoder. Key and
/// signature-algorithm OIDs are not here: the signer's <c>SignatureAlgorithms</c> table in TransparencyLog.Sigstore
/// writes them.</summary>
internal static class Oids
{
    public const string SignedData = "1.2.840.113549.1.7.2";
    public const string TstInfo = "1.2.840.113549.1.9.16.1.4";
    public const string ContentType = "1.2.840.113549.1.9.3";
    public const string MessageDigest = "1.2.840.113549.1.9.4";
    public const string SigningTime = "1.2.840.113549.1.9.5";
    public const string SigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";
    public const string TimeStampingPurpose = Sigstore.Verification.CertificateChains.TimeStampingEku;

    /// <summary>Most arcs a policy OID may have (the limit of sigstore/timestamp-authority, GHSA-4qg8-fj49-pxjh).</summary>
    public const int MaxPolicyArcs = 128;

    /// <summary>
    /// Largest encoded OID content read from a request. Bounds the big-number work of decoding an arc; 128 arcs of
    /// up to 32 bits fit comfortably.
    /// </summary>
    public const int MaxEncodedOidBytes = 640;

    /// <summary>
    /// Checks a dotted-decimal OID from configuration or JSON: at most <see cref="MaxPolicyArcs"/> arcs, counted before
    /// anything splits the string, then the full syntax via the DER encoder.
    /// </summary>
    public static string? ValidatePolicy(string oid)
    {
        if (oid.Length == 0 || oid.Length > MaxEncodedOidBytes * 3)
        {
            return "policy OID is empty or too long";
        }

        if (oid.AsSpan().Count('.') + 1 > MaxPolicyArcs)
        {
            return $"object identifier has more than {MaxPolicyArcs} arcs";
        }

        foreach (var c in oid)
        {
            if (c is not ('.' or (>= '0' and <= '9')))
            {
                return "policy OID is not a dotted-decimal object identifier";
            }
        }

        try
        {
            new AsnWriter(AsnEncodingRules.DER).WriteObjectIdentifier(oid);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or AsnContentException or FormatException)
        {
            return "policy OID is not a dotted-decimal object identifier";
        }
    }

    /// <summary>Whether <see cref="AsnReader"/> can decode this (syntactically valid) OID back from DER.</summary>
    public static bool IsDecodable(string oid)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteObjectIdentifier(oid);
        try
        {
            return new AsnReader(writer.Encode(), AsnEncodingRules.DER).ReadObjectIdentifier() == oid;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
