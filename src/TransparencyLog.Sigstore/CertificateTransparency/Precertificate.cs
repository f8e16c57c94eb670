using System.Formats.Asn1;

namespace TransparencyLog.Sigstore.CertificateTransparency;

/// <summary>
/// RFC 6962 §3.1 precertificates, and the TBSCertificate both an SCT and its verifier derive from a certificate.
/// A precertificate and its final certificate must differ only by the poison extension and the SCT-list extension,
/// so removing either one from the DER and re-encoding must give byte-identical TBS structures.
/// </summary>
public static class Precertificate
{
    /// <summary>The critical poison extension OID; its value is DER NULL.</summary>
    public const string PoisonOid = "1.3.6.1.4.1.11129.2.4.3";

    /// <summary>
    /// Given a precertificate DER (with poison), returns the TBS with the poison extension removed, DER re-encoded
    /// (what an SCT signs).
    /// </summary>
    /// <exception cref="FormatException">The input is not a DER certificate or carries no poison extension.</exception>
    public static byte[] TbsWithoutPoison(ReadOnlySpan<byte> precertDer) =>
        TbsWithout(precertDer, PoisonOid);

    /// <summary>
    /// Given a final certificate DER, returns the TBS with the SCT-list extension removed (what a verifier
    /// re-derives).
    /// </summary>
    /// <exception cref="FormatException">The input is not a DER certificate or carries no SCT list.</exception>
    public static byte[] TbsWithoutSctList(ReadOnlySpan<byte> certDer) =>
        TbsWithout(certDer, SctList.Oid);

    /// <summary>Whether the DER certificate carries the poison extension.</summary>
    /// <exception cref="FormatException">The input is not a DER certificate.</exception>
    public static bool IsPrecertificate(ReadOnlySpan<byte> certDer) =>
        TbsCertificateParts.Parse(certDer).Extensions.Any(e => e.Oid == PoisonOid);

    private static byte[] TbsWithout(ReadOnlySpan<byte> certDer, string oid)
    {
        var parts = TbsCertificateParts.Parse(certDer);
        var matching = parts.Extensions.Count(e => e.Oid == oid);
        if (matching > 1 || matching == 0)
        {
            throw new FormatException($"The certificate must carry exactly one {oid} extension.");
        }

        return parts.Encode(parts.Extensions.Where(e => e.Oid != oid));
    }
}

/// <summary>A TBSCertificate split into its raw DER fields and its raw DER extensions.</summary>
internal sealed class TbsCertificateParts
{
    private static readonly Asn1Tag ExtensionsTag = new(TagClass.ContextSpecific, 3);

    private TbsCertificateParts(IReadOnlyList<byte[]> fieldsBeforeExtensions, IReadOnlyList<RawExtension> extensions)
    {
        FieldsBeforeExtensions = fieldsBeforeExtensions;
        Extensions = extensions;
    }

    /// <summary>Every TBS element before <c>[3] extensions</c>, each as its complete DER TLV.</summary>
    public IReadOnlyList<byte[]> FieldsBeforeExtensions { get; }

    public IReadOnlyList<RawExtension> Extensions { get; }

    public static TbsCertificateParts Parse(ReadOnlySpan<byte> certDer)
    {
        try
        {
            var certificate = new AsnReader(certDer.ToArray(), AsnEncodingRules.DER);
            var certSequence = certificate.ReadSequence();
            certificate.ThrowIfNotEmpty();
            var tbs = certSequence.ReadSequence();
            var fields = new List<byte[]>();
            var extensions = new List<RawExtension>();
            while (tbs.HasData)
            {
                var tag = tbs.PeekTag();
                if (tag.HasSameClassAndValue(ExtensionsTag))
                {
                    var wrapper = tbs.ReadSequence(ExtensionsTag);
                    var sequence = wrapper.ReadSequence();
                    wrapper.ThrowIfNotEmpty();
                    while (sequence.HasData)
                    {
                        var raw = sequence.ReadEncodedValue().ToArray();
                        var extension = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence();
                        extensions.Add(new RawExtension(extension.ReadObjectIdentifier(), raw));
                    }

                    tbs.ThrowIfNotEmpty();
                    break;
                }

                fields.Add(tbs.ReadEncodedValue().ToArray());
            }

            return new TbsCertificateParts(fields, extensions);
        }
        catch (AsnContentException e)
        {
            throw new FormatException("The certificate is not DER.", e);
        }
    }

    /// <summary>Re-encodes the TBS with the given extensions (the <c>[3]</c> field is omitted when none remain).</summary>
    public byte[] Encode(IEnumerable<RawExtension> extensions)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var field in FieldsBeforeExtensions)
            {
                writer.WriteEncodedValue(field);
            }

            var list = extensions.ToList();
            if (list.Count > 0)
            {
                using (writer.PushSequence(ExtensionsTag))
                using (writer.PushSequence())
                {
                    foreach (var extension in list)
                    {
                        writer.WriteEncodedValue(extension.Der);
                    }
                }
            }
        }

        return writer.Encode();
    }
}

/// <summary>One Extension of a TBSCertificate: its OID and its complete DER TLV.</summary>
internal sealed record RawExtension(string Oid, byte[] Der);
