using System.Buffers.Binary;
using System.Security.Cryptography;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>
/// How a validated chain becomes a log entry: the RFC 6962 §3.4 MerkleTreeLeaf is the entry body (the leaf input),
/// the §4.6 chain encoding is its extra_data, and the SCT signature is made here, before sequencing. The SCT's
/// signed data and the MerkleTreeLeaf are byte-identical (both start with two zero bytes), so the log signs exactly
/// the leaf it will hash.
/// </summary>
internal static class CtEntries
{
    public const string ApiVersion = "rfc6962";

    /// <summary>The search key that finds an earlier entry of the same submitted (pre)certificate.</summary>
    public static string DuplicateKey(byte[] certificateDer) => "ct:" + Convert.ToHexStringLower(SHA256.HashData(certificateDer));

    /// <summary>The entry to append and the SCT the client gets once it is durable.</summary>
    /// <exception cref="FormatException">The submitted certificate is not DER X.509.</exception>
    public static async ValueTask<(EntryToAppend Entry, SignedCertificateTimestamp Sct)> CreateAsync(
        ValidatedChain chain, ulong timestampMs, LogSigner signer, CancellationToken cancellationToken)
    {
        var leaf = chain.Type == CtEntryType.Precertificate
            ? CtSignedData.MerkleTreeLeafForPrecertificate(timestampMs, chain.IssuerKeyHash, Precertificate.TbsWithoutPoison(chain.Certificate), [])
            : CtSignedData.MerkleTreeLeafForCertificate(timestampMs, chain.Certificate, []);
        var signature = await signer.SignAsync(leaf, cancellationToken);
        var sct = Sct(signer.LogId, timestampMs, signature);
        var entry = new EntryToAppend(leaf, KindName(chain.Type), ApiVersion, [])
        {
            ExtraData = ExtraData(chain),
            Signature = signature,
            // RFC 6962 logs give a resubmitted (pre)certificate its first SCT: the sequencer looks the key up under the
            // head lock and answers a resubmission AlreadyPresent with the first entry's index.
            UniqueKey = DuplicateKey(chain.Certificate),
            // The SCT is the answer; a proof built after the commit would be thrown away.
            NeedsInclusionProof = false,
        };
        return (entry, sct);
    }

    /// <summary>The SCT of a stored entry: its timestamp is in the leaf, its signature in the entry's signature.</summary>
    public static SignedCertificateTimestamp StoredSct(byte[] logId, byte[] leaf, byte[] signature) =>
        Sct(logId, TimestampOf(leaf), signature);

    /// <summary>The MerkleTreeLeaf's timestamp: after version (1 byte) and leaf_type (1 byte).</summary>
    public static ulong TimestampOf(byte[] leaf) => BinaryPrimitives.ReadUInt64BigEndian(leaf.AsSpan(2, 8));

    public static string KindName(CtEntryType type) => type == CtEntryType.Precertificate ? "precert_entry" : "x509_entry";

    /// <summary>
    /// RFC 6962 §4.6: an x509 entry's extra_data is <c>certificate_chain</c> (the issuers, root last); a precert entry's
    /// is the whole <c>PrecertChainEntry</c> (the precertificate, then the same chain). Certificates are
    /// <c>opaque ASN.1Cert&lt;1..2^24-1&gt;</c> and the chain a <c>&lt;0..2^24-1&gt;</c> vector of them.
    /// </summary>
    public static byte[] ExtraData(ValidatedChain chain)
    {
        var chainLength = chain.Issuers.Sum(c => 3 + c.Length);
        var prefix = chain.Type == CtEntryType.Precertificate ? 3 + chain.Certificate.Length : 0;
        var result = new byte[prefix + 3 + chainLength];
        var offset = 0;
        if (chain.Type == CtEntryType.Precertificate)
        {
            offset = WriteOpaque24(result, offset, chain.Certificate);
        }

        WriteUInt24(result.AsSpan(offset), chainLength);
        offset += 3;
        foreach (var certificate in chain.Issuers)
        {
            offset = WriteOpaque24(result, offset, certificate);
        }

        return result;
    }

    private static SignedCertificateTimestamp Sct(byte[] logId, ulong timestampMs, byte[] signature) =>
        new(0, logId, timestampMs, [], SctSignatures.Sha256, SctSignatures.Ecdsa, signature);

    private static int WriteOpaque24(byte[] destination, int offset, byte[] value)
    {
        WriteUInt24(destination.AsSpan(offset), value.Length);
        value.CopyTo(destination, offset + 3);
        return offset + 3 + value.Length;
    }

    private static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }
}
