using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Bundles;

/// <summary>
/// A Sigstore bundle (v0.1, v0.2 and v0.3 read; v0.3 written): verification material plus exactly one of a message
/// signature or a DSSE envelope.
/// </summary>
public sealed record Bundle(
    string MediaType,
    VerificationMaterial VerificationMaterial,
    MessageSignature? MessageSignature,
    DsseEnvelope? DsseEnvelope)
{
    public const string MediaTypeV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1";
    public const string MediaTypeV02 = "application/vnd.dev.sigstore.bundle+json;version=0.2";
    public const string MediaTypeV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

    /// <summary>The v0.3 type as some clients spell it (the protobuf-specs accepts both).</summary>
    public const string MediaTypeV03Legacy = "application/vnd.dev.sigstore.bundle+json;version=0.3";

    // Relaxed escaping: base64 '+' and the checkpoint's em dash are written as themselves, as other clients do.
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Upper bound on a bundle read from disk: large DSSE payloads fit, a runaway file does not.</summary>
    public const int MaxBundleBytes = 64 * 1024 * 1024;

    /// <summary>0.1, 0.2 or 0.3.</summary>
    public string Version => MediaType switch
    {
        MediaTypeV01 => "0.1",
        MediaTypeV02 => "0.2",
        _ => "0.3",
    };

    /// <summary>Parses and validates the structure the way @sigstore/bundle does (<c>B:validate.js</c>).</summary>
    /// <exception cref="BundleFormatException">Not a bundle, an unknown media type, or a required field is missing.</exception>
    public static Bundle Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (Encoding.UTF8.GetByteCount(json) > MaxBundleBytes)
        {
            throw new BundleFormatException($"the bundle exceeds {MaxBundleBytes} bytes");
        }

        JsonDocument document;
        try
        {
            document = JsonInput.Parse(json, ProtoJson.DocumentOptions);
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the bundle is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BundleFormatException("the bundle must be a JSON object");
            }

            return Parse(root);
        }
    }

    private static Bundle Parse(JsonElement root)
    {
        var mediaType = ProtoJson.String(root, "mediaType", "mediaType");
        if (mediaType is not (MediaTypeV01 or MediaTypeV02 or MediaTypeV03 or MediaTypeV03Legacy))
        {
            throw new BundleFormatException("unsupported bundle mediaType (expected a v0.1, v0.2 or v0.3 Sigstore bundle)");
        }

        var isV03 = mediaType is MediaTypeV03 or MediaTypeV03Legacy;
        var material = ProtoJson.Object(root, "verificationMaterial", "verificationMaterial");

        byte[]? certificate = null;
        List<byte[]>? chain = null;
        string? hint = null;
        if (ProtoJson.OptionalObject(material, "certificate", "verificationMaterial.certificate") is { } cert)
        {
            certificate = ProtoJson.Bytes(cert, "rawBytes", "verificationMaterial.certificate.rawBytes");
        }

        if (ProtoJson.OptionalObject(material, "x509CertificateChain", "verificationMaterial.x509CertificateChain") is { } chainElement)
        {
            chain = [.. ProtoJson.Array(chainElement, "certificates", "verificationMaterial.x509CertificateChain.certificates")
                .Select(static c => ProtoJson.Bytes(c, "rawBytes", "verificationMaterial.x509CertificateChain.certificates[].rawBytes"))];
            if (chain.Count == 0)
            {
                throw new BundleFormatException("verificationMaterial.x509CertificateChain.certificates must not be empty");
            }
        }

        if (ProtoJson.OptionalObject(material, "publicKey", "verificationMaterial.publicKey") is { } key)
        {
            hint = ProtoJson.OptionalString(key, "hint", "verificationMaterial.publicKey.hint") ?? string.Empty;
        }

        var contentCount = (certificate is null ? 0 : 1) + (chain is null ? 0 : 1) + (hint is null ? 0 : 1);
        if (contentCount != 1)
        {
            throw new BundleFormatException("verificationMaterial must hold exactly one of certificate, x509CertificateChain or publicKey");
        }

        if (isV03 && chain is not null)
        {
            throw new BundleFormatException("a v0.3 bundle carries verificationMaterial.certificate, not x509CertificateChain");
        }

        var entries = new List<TransparencyLogEntry>();
        foreach (var entry in ProtoJson.Array(material, "tlogEntries", "verificationMaterial.tlogEntries"))
        {
            var parsed = ParseTlogEntry(entry, "verificationMaterial.tlogEntries[]");

            // v0.2 and later promise a checkpoint with every inclusion proof (B:validate.js:174-189).
            if (mediaType != MediaTypeV01 && parsed.InclusionProof is null)
            {
                throw new BundleFormatException("verificationMaterial.tlogEntries[].inclusionProof is required in bundles from v0.2 on");
            }

            if (mediaType == MediaTypeV01 && parsed.InclusionPromise is null)
            {
                throw new BundleFormatException("verificationMaterial.tlogEntries[].inclusionPromise is required in v0.1 bundles");
            }

            entries.Add(parsed);
        }

        var timestamps = new List<byte[]>();
        if (ProtoJson.OptionalObject(material, "timestampVerificationData", "verificationMaterial.timestampVerificationData") is { } tvd)
        {
            foreach (var ts in ProtoJson.Array(tvd, "rfc3161Timestamps", "verificationMaterial.timestampVerificationData.rfc3161Timestamps"))
            {
                timestamps.Add(ProtoJson.Bytes(ts, "signedTimestamp", "verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp"));
            }
        }

        MessageSignature? messageSignature = null;
        if (ProtoJson.OptionalObject(root, "messageSignature", "messageSignature") is { } ms)
        {
            // @sigstore/bundle requires the digest: without it the logged hashedrekord digest is bound to nothing.
            var md = ProtoJson.OptionalObject(ms, "messageDigest", "messageSignature.messageDigest")
                ?? throw new BundleFormatException("messageSignature.messageDigest is required");
            var digest = new MessageDigest(
                ProtoJson.String(md, "algorithm", "messageSignature.messageDigest.algorithm"),
                ProtoJson.Bytes(md, "digest", "messageSignature.messageDigest.digest"));

            messageSignature = new MessageSignature(digest, ProtoJson.Bytes(ms, "signature", "messageSignature.signature"));
        }

        DsseEnvelope? envelope = null;
        if (ProtoJson.OptionalObject(root, "dsseEnvelope", "dsseEnvelope") is { } env)
        {
            envelope = ParseEnvelope(env, "dsseEnvelope");
        }

        if ((messageSignature is null) == (envelope is null))
        {
            throw new BundleFormatException("a bundle holds exactly one of messageSignature or dsseEnvelope");
        }

        return new Bundle(mediaType, new VerificationMaterial(certificate, chain, hint, entries, timestamps), messageSignature, envelope);
    }

    /// <summary>Parses a DSSE envelope object (<c>payload</c>, <c>payloadType</c>, <c>signatures[{sig, keyid}]</c>).</summary>
    public static DsseEnvelope ParseEnvelope(JsonElement env, string path)
    {
        var signatures = ProtoJson.Array(env, "signatures", $"{path}.signatures")
            .Select(s => new DsseSignature(
                ProtoJson.Bytes(s, "sig", $"{path}.signatures[].sig"),
                ProtoJson.OptionalString(s, "keyid", $"{path}.signatures[].keyid") ?? string.Empty))
            .ToList();
        if (signatures.Count == 0)
        {
            throw new BundleFormatException($"{path}.signatures must not be empty");
        }

        return new DsseEnvelope(
            ProtoJson.OptionalBytes(env, "payload", $"{path}.payload") ?? [],
            ProtoJson.String(env, "payloadType", $"{path}.payloadType"),
            signatures);
    }

    internal static TransparencyLogEntry ParseTlogEntry(JsonElement entry, string path)
    {
        var logId = ProtoJson.Object(entry, "logId", $"{path}.logId");
        var kindVersion = ProtoJson.Object(entry, "kindVersion", $"{path}.kindVersion");
        byte[]? promise = null;
        if (ProtoJson.OptionalObject(entry, "inclusionPromise", $"{path}.inclusionPromise") is { } ip)
        {
            promise = ProtoJson.Bytes(ip, "signedEntryTimestamp", $"{path}.inclusionPromise.signedEntryTimestamp");
        }

        InclusionProof? proof = null;
        if (ProtoJson.OptionalObject(entry, "inclusionProof", $"{path}.inclusionProof") is { } p)
        {
            var checkpoint = ProtoJson.OptionalObject(p, "checkpoint", $"{path}.inclusionProof.checkpoint");
            proof = new InclusionProof(
                ProtoJson.Int64(p, "logIndex", $"{path}.inclusionProof.logIndex"),
                ProtoJson.Bytes(p, "rootHash", $"{path}.inclusionProof.rootHash"),
                ProtoJson.Int64(p, "treeSize", $"{path}.inclusionProof.treeSize"),
                [.. ProtoJson.Array(p, "hashes", $"{path}.inclusionProof.hashes").Select(h =>
                    h.ValueKind == JsonValueKind.String
                        ? ProtoJson.Base64(h.GetString() ?? string.Empty, $"{path}.inclusionProof.hashes[]")
                        : throw new BundleFormatException($"{path}.inclusionProof.hashes[] must be strings"))],
                checkpoint is { } c
                    ? ProtoJson.String(c, "envelope", $"{path}.inclusionProof.checkpoint.envelope")
                    : throw new BundleFormatException($"missing {path}.inclusionProof.checkpoint"));
        }

        return new TransparencyLogEntry(
            ProtoJson.Int64(entry, "logIndex", $"{path}.logIndex"),
            ProtoJson.Bytes(logId, "keyId", $"{path}.logId.keyId"),
            new KindVersion(
                ProtoJson.String(kindVersion, "kind", $"{path}.kindVersion.kind"),
                ProtoJson.String(kindVersion, "version", $"{path}.kindVersion.version")),
            ProtoJson.Int64(entry, "integratedTime", $"{path}.integratedTime"),
            promise,
            proof,
            ProtoJson.Bytes(entry, "canonicalizedBody", $"{path}.canonicalizedBody"));
    }

    /// <summary>
    /// Protobuf-JSON with the bundle's own media type: camelCase, int64 as strings, bytes as base64, absent fields
    /// omitted (but <c>hashes</c> always present, since sigstore-js maps over it).
    /// </summary>
    public string ToJson(bool indented = true)
    {
        var material = new JsonObject();
        if (VerificationMaterial.Certificate is { } certificate)
        {
            material["certificate"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(certificate) };
        }
        else if (VerificationMaterial.X509CertificateChain is { } chain)
        {
            material["x509CertificateChain"] = new JsonObject
            {
                ["certificates"] = new JsonArray([.. chain.Select(static c => (JsonNode?)new JsonObject { ["rawBytes"] = Convert.ToBase64String(c) })]),
            };
        }
        else
        {
            material["publicKey"] = new JsonObject { ["hint"] = VerificationMaterial.PublicKeyHint ?? string.Empty };
        }

        material["tlogEntries"] = new JsonArray([.. VerificationMaterial.TlogEntries.Select(static e => (JsonNode?)TlogEntryJson(e))]);
        if (VerificationMaterial.Rfc3161Timestamps.Count > 0)
        {
            material["timestampVerificationData"] = new JsonObject
            {
                ["rfc3161Timestamps"] = new JsonArray([.. VerificationMaterial.Rfc3161Timestamps.Select(static t =>
                    (JsonNode?)new JsonObject { ["signedTimestamp"] = Convert.ToBase64String(t) })]),
            };
        }

        var root = new JsonObject
        {
            ["mediaType"] = MediaType,
            ["verificationMaterial"] = material,
        };
        if (MessageSignature is { } ms)
        {
            var node = new JsonObject();
            if (ms.MessageDigest is { } digest)
            {
                node["messageDigest"] = new JsonObject
                {
                    ["algorithm"] = digest.Algorithm,
                    ["digest"] = Convert.ToBase64String(digest.Digest),
                };
            }

            node["signature"] = Convert.ToBase64String(ms.Signature);
            root["messageSignature"] = node;
        }

        if (DsseEnvelope is { } envelope)
        {
            root["dsseEnvelope"] = new JsonObject
            {
                ["payload"] = Convert.ToBase64String(envelope.Payload),
                ["payloadType"] = envelope.PayloadType,
                // protobuf-JSON omits empty strings: keyid appears only when set.
                ["signatures"] = new JsonArray([.. envelope.Signatures.Select(static s =>
                {
                    var node = new JsonObject { ["sig"] = Convert.ToBase64String(s.Sig) };
                    if (s.KeyId.Length > 0)
                    {
                        node["keyid"] = s.KeyId;
                    }

                    return (JsonNode?)node;
                })]),
            };
        }

        return root.ToJsonString(indented ? s_indented : s_compact);
    }

    /// <summary>One tlog entry as protobuf-JSON, as it appears in <c>verificationMaterial.tlogEntries</c>.</summary>
    public static JsonObject TlogEntryJson(TransparencyLogEntry entry)
    {
        var node = new JsonObject
        {
            ["logIndex"] = ProtoJson.Int64String(entry.LogIndex),
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(entry.LogId) },
            ["kindVersion"] = new JsonObject { ["kind"] = entry.KindVersion.Kind, ["version"] = entry.KindVersion.Version },
            ["integratedTime"] = ProtoJson.Int64String(entry.IntegratedTime),
        };
        if (entry.InclusionPromise is { } set)
        {
            node["inclusionPromise"] = new JsonObject { ["signedEntryTimestamp"] = Convert.ToBase64String(set) };
        }

        if (entry.InclusionProof is { } proof)
        {
            node["inclusionProof"] = new JsonObject
            {
                ["logIndex"] = ProtoJson.Int64String(proof.LogIndex),
                ["rootHash"] = Convert.ToBase64String(proof.RootHash),
                ["treeSize"] = ProtoJson.Int64String(proof.TreeSize),
                ["hashes"] = new JsonArray([.. proof.Hashes.Select(static h => (JsonNode?)JsonValue.Create(Convert.ToBase64String(h)))]),
                ["checkpoint"] = new JsonObject { ["envelope"] = proof.Checkpoint },
            };
        }

        node["canonicalizedBody"] = Convert.ToBase64String(entry.CanonicalizedBody);
        return node;
    }
}
