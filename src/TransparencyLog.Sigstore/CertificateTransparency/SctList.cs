using System.Buffers.Binary;
using System.Formats.Asn1;

namespace TransparencyLog.Sigstore.CertificateTransparency;

/// <summary>
/// The embedded-SCT certificate extension 1.3.6.1.4.1.11129.2.4.2 (RFC 6962 §3.3). Its extnValue OCTET STRING
/// holds a DER OCTET STRING whose content is the TLS <c>SignedCertificateTimestampList</c>
/// (<c>u16 listLength || (u16 sctLength || SCT)*</c>), so the certificate carries two nested OCTET STRINGs.
/// </summary>
public static class SctList
{
    /// <summary>The extension OID.</summary>
    public const string Oid = "1.3.6.1.4.1.11129.2.4.2";

    /// <summary>
    /// The bytes that go inside the extension's extnValue OCTET STRING: DER <c>OCTET STRING(TLS list)</c>.
    /// </summary>
    public static byte[] EncodeExtensionValue(IReadOnlyList<SignedCertificateTimestamp> scts)
    {
        ArgumentNullException.ThrowIfNull(scts);
        if (scts.Count == 0)
        {
            throw new ArgumentException("An SCT list holds at least one SCT.", nameof(scts));
        }

        var serialized = scts.Select(s => s.Serialize()).ToList();
        var listLength = serialized.Sum(s => 2 + s.Length);
        if (serialized.Any(s => s.Length > ushort.MaxValue) || listLength > ushort.MaxValue)
        {
            throw new ArgumentException("The SCT list exceeds 65535 bytes.", nameof(scts));
        }

        var list = new byte[2 + listLength];
        BinaryPrimitives.WriteUInt16BigEndian(list, (ushort)listLength);
        var offset = 2;
        foreach (var sct in serialized)
        {
            BinaryPrimitives.WriteUInt16BigEndian(list.AsSpan(offset), (ushort)sct.Length);
            sct.CopyTo(list, offset + 2);
            offset += 2 + sct.Length;
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString(list);
        return writer.Encode();
    }

    /// <summary>Decodes the bytes inside the extnValue OCTET STRING (the inverse of <see cref="EncodeExtensionValue"/>).</summary>
    /// <exception cref="FormatException">The value is not a well-formed, non-empty SCT list.</exception>
    public static IReadOnlyList<SignedCertificateTimestamp> DecodeExtensionValue(ReadOnlySpan<byte> extensionValue)
    {
        byte[] list;
        try
        {
            list = AsnDecoder.ReadOctetString(extensionValue, AsnEncodingRules.DER, out var consumed);
            if (consumed != extensionValue.Length)
            {
                throw new FormatException("Trailing data after the SCT list.");
            }
        }
        catch (AsnContentException e)
        {
            throw new FormatException("The SCT list extension is not a DER OCTET STRING.", e);
        }

        if (list.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(list) != list.Length - 2)
        {
            throw new FormatException("The SCT list length does not match its content.");
        }

        var result = new List<SignedCertificateTimestamp>();
        ReadOnlySpan<byte> rest = list.AsSpan(2);
        while (!rest.IsEmpty)
        {
            if (rest.Length < 2)
            {
                throw new FormatException("The SCT list is truncated.");
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(rest);
            if (length == 0 || rest.Length < 2 + length)
            {
                throw new FormatException("An SCT in the list is truncated.");
            }

            result.Add(SignedCertificateTimestamp.Parse(rest.Slice(2, length)));
            rest = rest[(2 + length)..];
        }

        return result.Count > 0 ? result : throw new FormatException("The SCT list is empty.");
    }
}
