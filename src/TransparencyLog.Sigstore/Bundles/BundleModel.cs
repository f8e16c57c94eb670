namespace TransparencyLog.Sigstore.Bundles;

/// <summary>The Rekor entry kind and version a tlog entry's body claims, e.g. <c>hashedrekord</c> <c>0.0.1</c>.</summary>
public sealed record KindVersion(string Kind, string Version);

/// <summary>
/// A Merkle inclusion proof with the signed checkpoint it was made against. <see cref="Hashes"/> run from the leaf
/// level upward (RFC 6962 PATH order).
/// </summary>
public sealed record InclusionProof(long LogIndex, byte[] RootHash, long TreeSize, IReadOnlyList<byte[]> Hashes, string Checkpoint);

/// <summary>
/// One transparency log entry in a bundle (protobuf <c>TransparencyLogEntry</c>). <see cref="InclusionPromise"/> is the
/// Rekor v1 SET; <see cref="IntegratedTime"/> is Unix seconds (0 when the log gives none, as Rekor v2 does).
/// </summary>
public sealed record TransparencyLogEntry(
    long LogIndex,
    byte[] LogId,
    KindVersion KindVersion,
    long IntegratedTime,
    byte[]? InclusionPromise,
    InclusionProof? InclusionProof,
    byte[] CanonicalizedBody);

/// <summary>Where the verification key comes from: exactly one of a leaf certificate, a chain (v0.1/0.2) or a key hint.</summary>
public sealed record VerificationMaterial(
    byte[]? Certificate,
    IReadOnlyList<byte[]>? X509CertificateChain,
    string? PublicKeyHint,
    IReadOnlyList<TransparencyLogEntry> TlogEntries,
    IReadOnlyList<byte[]> Rfc3161Timestamps)
{
    /// <summary>The signing certificate (DER) whatever the bundle version: <c>certificate</c> or the first chain element.</summary>
    public byte[]? LeafCertificate => Certificate ?? (X509CertificateChain is { Count: > 0 } chain ? chain[0] : null);
}

/// <summary>A digest algorithm by its protobuf enum name (<c>SHA2_256</c>) and the digest bytes.</summary>
public sealed record MessageDigest(string Algorithm, byte[] Digest);

/// <summary>A signature over an artifact (hashedrekord).</summary>
public sealed record MessageSignature(MessageDigest? MessageDigest, byte[] Signature);

/// <summary>One DSSE signature; <see cref="KeyId"/> is usually empty.</summary>
public sealed record DsseSignature(byte[] Sig, string KeyId);

/// <summary>A DSSE envelope as bundles carry it (payload decoded).</summary>
public sealed record DsseEnvelope(byte[] Payload, string PayloadType, IReadOnlyList<DsseSignature> Signatures)
{
    /// <summary>PAE = "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in decimal bytes.</summary>
    public byte[] Pae()
    {
        var type = System.Text.Encoding.UTF8.GetBytes(PayloadType);
        var header = System.Text.Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = System.Text.Encoding.ASCII.GetBytes($" {Payload.Length} ");
        return [.. header, .. type, .. middle, .. Payload];
    }

    /// <summary>The envelope JSON exactly as sigstore-js sends it to Rekor: payload, payloadType, signatures; empty keyid omitted.</summary>
    public string ToRekorJson()
    {
        var signatures = new System.Text.Json.Nodes.JsonArray();
        foreach (var signature in Signatures)
        {
            System.Text.Json.Nodes.JsonNode node = new System.Text.Json.Nodes.JsonObject { ["sig"] = Convert.ToBase64String(signature.Sig) };
            if (signature.KeyId.Length > 0)
            {
                node["keyid"] = signature.KeyId;
            }

            signatures.Add(node);
        }

        var envelope = new System.Text.Json.Nodes.JsonObject
        {
            ["payload"] = Convert.ToBase64String(Payload),
            ["payloadType"] = PayloadType,
            ["signatures"] = signatures,
        };
        return envelope.ToJsonString();
    }
}
