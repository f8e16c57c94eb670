using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>One embedded RFC 6962 SCT (v1) as parsed from a certificate's SCT-list extension.</summary>
internal sealed record EmbeddedSct(byte[] LogId, DateTimeOffset Timestamp, byte[] Extensions, byte HashAlgorithm, byte SignatureAlgorithm, byte[] Signature);

/// <summary>
/// Embedded SCTs: parsing the list (<c>1.3.6.1.4.1.11129.2.4.2</c>) and rebuilding the precertificate signed data
/// (interop §2.2). Kept here because TransparencyLog.Sigstore.CertificateTransparency is not on this branch yet; it
/// should fold into that namespace once it lands.
/// </summary>
internal static class EmbeddedScts
{
    public const string SctListOid = "1.3.6.1.4.1.11129.2.4.2";
    private const int LogIdSize = 32;

    public static IReadOnlyList<EmbeddedSct> Read(X509Certificate2 certificate)
    {
        if (certificate.Extensions[SctListOid] is not { } extension)
        {
            return [];
        }

        byte[] list;
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            list = reader.ReadOctetString();
            reader.ThrowIfNotEmpty();
        }
        catch (AsnContentException ex)
        {
            throw new VerificationException(VerificationErrorCode.Sct, "the SCT list extension is not an OCTET STRING", ex);
        }

        var span = list.AsSpan();
        if (span.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(span) != span.Length - 2)
        {
            throw new VerificationException(VerificationErrorCode.Sct, "the SCT list length does not match its contents");
        }

        span = span[2..];
        var scts = new List<EmbeddedSct>();
        while (!span.IsEmpty)
        {
            if (span.Length < 2)
            {
                throw new VerificationException(VerificationErrorCode.Sct, "truncated SCT list");
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(span);
            if (span.Length < 2 + length)
            {
                throw new VerificationException(VerificationErrorCode.Sct, "truncated SCT in the SCT list");
            }

            scts.Add(ParseSct(span.Slice(2, length)));
            span = span[(2 + length)..];
        }

        return scts;
    }

    private static EmbeddedSct ParseSct(ReadOnlySpan<byte> sct)
    {
        // version(1) logID(32) timestamp(8) extensions(2+n) hash(1) sig(1) sigLen(2) sig
        const int FixedHeader = 1 + LogIdSize + 8 + 2;
        if (sct.Length < FixedHeader + 4 || sct[0] != 0)
        {
            throw new VerificationException(VerificationErrorCode.Sct, "an embedded SCT is not a v1 SCT");
        }

        var logId = sct.Slice(1, LogIdSize).ToArray();
        var millis = BinaryPrimitives.ReadUInt64BigEndian(sct[(1 + LogIdSize)..]);
        int extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(sct[(1 + LogIdSize + 8)..]);
        var rest = sct[FixedHeader..];
        if (rest.Length < extensionsLength + 4)
        {
            throw new VerificationException(VerificationErrorCode.Sct, "truncated SCT extensions");
        }

        var extensions = rest[..extensionsLength].ToArray();
        rest = rest[extensionsLength..];
        var hash = rest[0];
        var signatureAlgorithm = rest[1];
        int signatureLength = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
        if (rest.Length != 4 + signatureLength || millis > (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new VerificationException(VerificationErrorCode.Sct, "malformed SCT signature");
        }

        return new EmbeddedSct(logId, DateTimeOffset.FromUnixTimeMilliseconds((long)millis), extensions, hash, signatureAlgorithm, rest[4..].ToArray());
    }

    public static HashAlgorithmName? HashName(byte hash) => hash switch
    {
        4 => HashAlgorithmName.SHA256,
        5 => HashAlgorithmName.SHA384,
        6 => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>
    /// The bytes a precert SCT signs: v1, certificate_timestamp, time, precert_entry, SHA-256(issuer SPKI),
    /// uint24-length TBS (leaf TBS without the SCT list), extensions.
    /// </summary>
    public static byte[] SignedData(EmbeddedSct sct, X509Certificate2 leaf, X509Certificate2 issuer)
    {
        var tbs = PrecertificateTbs(leaf.RawData);
        var issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        var data = new byte[1 + 1 + 8 + 2 + 32 + 3 + tbs.Length + 2 + sct.Extensions.Length];
        var span = data.AsSpan();
        span[0] = 0; // v1
        span[1] = 0; // certificate_timestamp
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], (ulong)sct.Timestamp.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], 1); // precert_entry
        issuerKeyHash.CopyTo(span[12..]);
        span[44] = (byte)(tbs.Length >> 16);
        span[45] = (byte)(tbs.Length >> 8);
        span[46] = (byte)tbs.Length;
        tbs.CopyTo(span[47..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[(47 + tbs.Length)..], (ushort)sct.Extensions.Length);
        sct.Extensions.CopyTo(span[(49 + tbs.Length)..]);
        return data;
    }

    /// <summary>The leaf's TBSCertificate re-encoded without the SCT-list extension, other fields untouched.</summary>
    public static byte[] PrecertificateTbs(byte[] certificateDer)
    {
        var certificate = new AsnReader(certificateDer, AsnEncodingRules.DER).ReadSequence();
        var tbs = certificate.ReadSequence();
        var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            while (tbs.HasData)
            {
                if (!tbs.PeekTag().HasSameClassAndValue(extensionsTag))
                {
                    writer.WriteEncodedValue(tbs.ReadEncodedValue().Span);
                    continue;
                }

                var explicitExtensions = tbs.ReadSequence(extensionsTag);
                var extensions = explicitExtensions.ReadSequence();
                var kept = new List<ReadOnlyMemory<byte>>();
                while (extensions.HasData)
                {
                    var encoded = extensions.ReadEncodedValue();
                    var oid = new AsnReader(encoded, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
                    if (oid != SctListOid)
                    {
                        kept.Add(encoded);
                    }
                }

                if (kept.Count > 0)
                {
                    using (writer.PushSequence(extensionsTag))
                    using (writer.PushSequence())
                    {
                        foreach (var extension in kept)
                        {
                            writer.WriteEncodedValue(extension.Span);
                        }
                    }
                }
            }
        }

        return writer.Encode();
    }
}
