using System.Buffers.Binary;

namespace TransparencyLog.Sigstore.CertificateTransparency;

/// <summary>
/// The byte strings RFC 6962 signs and hashes: the §3.2 <c>digitally-signed</c> input of an SCT, the §3.4
/// <c>MerkleTreeLeaf</c> and the §3.5 tree head signature's input. The first two share one layout after their first two bytes (v1 and
/// <c>certificate_timestamp</c> / <c>timestamped_entry</c>, all zero), which is why an SCT commits to exactly the
/// entry the log hashes.
/// </summary>
public static class CtSignedData
{
    private const ushort X509Entry = 0;
    private const ushort PrecertEntry = 1;
    private const int MaxUint24 = 0xFFFFFF;

    /// <summary>The SCT signature input for a precertificate entry.</summary>
    /// <param name="timestampMs">The SCT timestamp.</param>
    /// <param name="issuerKeyHash">SHA-256 of the issuing CA's DER SubjectPublicKeyInfo.</param>
    /// <param name="tbsWithoutPoisonOrSct">The leaf TBSCertificate with neither the poison nor the SCT-list extension.</param>
    /// <param name="extensions">The SCT's CtExtensions.</param>
    public static byte[] ForPrecertificate(
        ulong timestampMs,
        ReadOnlySpan<byte> issuerKeyHash,
        ReadOnlySpan<byte> tbsWithoutPoisonOrSct,
        ReadOnlySpan<byte> extensions) =>
        Precert(signatureTypeOrLeafType: 0, timestampMs, issuerKeyHash, tbsWithoutPoisonOrSct, extensions);

    /// <summary>The SCT signature input for an X.509 certificate entry (the whole DER certificate).</summary>
    public static byte[] ForCertificate(ulong timestampMs, ReadOnlySpan<byte> certDer, ReadOnlySpan<byte> extensions) =>
        X509(signatureTypeOrLeafType: 0, timestampMs, certDer, extensions);

    /// <summary>The RFC 6962 §3.4 MerkleTreeLeaf (v1, timestamped_entry) of an x509_entry.</summary>
    public static byte[] MerkleTreeLeafForCertificate(
        ulong timestampMs,
        ReadOnlySpan<byte> certDer,
        ReadOnlySpan<byte> extensions) =>
        X509(signatureTypeOrLeafType: 0, timestampMs, certDer, extensions);

    /// <summary>The RFC 6962 §3.4 MerkleTreeLeaf (v1, timestamped_entry) of a precert_entry.</summary>
    public static byte[] MerkleTreeLeafForPrecertificate(
        ulong timestampMs,
        ReadOnlySpan<byte> issuerKeyHash,
        ReadOnlySpan<byte> tbsWithoutPoison,
        ReadOnlySpan<byte> extensions) =>
        Precert(signatureTypeOrLeafType: 0, timestampMs, issuerKeyHash, tbsWithoutPoison, extensions);

    private static byte[] X509(byte signatureTypeOrLeafType, ulong timestampMs, ReadOnlySpan<byte> certDer, ReadOnlySpan<byte> extensions)
    {
        CheckLength(certDer, 1, MaxUint24, nameof(certDer));
        CheckLength(extensions, 0, ushort.MaxValue, nameof(extensions));
        var result = new byte[12 + 3 + certDer.Length + 2 + extensions.Length];
        var span = WriteHeader(result, signatureTypeOrLeafType, timestampMs, X509Entry);
        WriteUInt24(span, certDer.Length);
        certDer.CopyTo(span[3..]);
        WriteExtensions(span[(3 + certDer.Length)..], extensions);
        return result;
    }

    private static byte[] Precert(
        byte signatureTypeOrLeafType,
        ulong timestampMs,
        ReadOnlySpan<byte> issuerKeyHash,
        ReadOnlySpan<byte> tbs,
        ReadOnlySpan<byte> extensions)
    {
        if (issuerKeyHash.Length != 32)
        {
            throw new ArgumentException("The issuer key hash is a 32-byte SHA-256 hash.", nameof(issuerKeyHash));
        }

        CheckLength(tbs, 1, MaxUint24, nameof(tbs));
        CheckLength(extensions, 0, ushort.MaxValue, nameof(extensions));
        var result = new byte[12 + 32 + 3 + tbs.Length + 2 + extensions.Length];
        var span = WriteHeader(result, signatureTypeOrLeafType, timestampMs, PrecertEntry);
        issuerKeyHash.CopyTo(span);
        WriteUInt24(span[32..], tbs.Length);
        tbs.CopyTo(span[35..]);
        WriteExtensions(span[(35 + tbs.Length)..], extensions);
        return result;
    }

    // version(1) | signature_type or leaf_type(1) | timestamp(8) | entry_type(2)
    private static Span<byte> WriteHeader(Span<byte> destination, byte secondByte, ulong timestampMs, ushort entryType)
    {
        destination[0] = 0;
        destination[1] = secondByte;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], timestampMs);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], entryType);
        return destination[12..];
    }

    private static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }

    private static void WriteExtensions(Span<byte> destination, ReadOnlySpan<byte> extensions)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)extensions.Length);
        extensions.CopyTo(destination[2..]);
    }

    private static void CheckLength(ReadOnlySpan<byte> value, int min, int max, string name)
    {
        if (value.Length < min || value.Length > max)
        {
            throw new ArgumentException($"{name} must hold {min} to {max} bytes.", name);
        }
    }

    /// <summary>
    /// RFC 6962 §3.5 <c>TreeHeadSignature</c>, what a signed tree head signs: v1, <c>tree_hash</c>, the timestamp in
    /// milliseconds, the tree size and the SHA-256 root.
    /// </summary>
    public static byte[] TreeHeadSignatureInput(ulong timestampMs, long treeSize, Merkle.Hash root)
    {
        var data = new byte[2 + 8 + 8 + Merkle.Hash.Size];
        data[1] = 1;
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(2), timestampMs);
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(10), (ulong)treeSize);
        root.CopyTo(data.AsSpan(18));
        return data;
    }
}
