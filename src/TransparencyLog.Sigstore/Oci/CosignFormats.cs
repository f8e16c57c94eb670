using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>The byte formats cosign and containers/image read (oci-signing §2, §3): simple signing, annotations, statements.</summary>
public static class CosignFormats
{
    public const string SimpleSigningType = "cosign container image signature";
    public const string SignPredicateType = "https://sigstore.dev/cosign/sign/v1";
    public const string InTotoPayloadType = "application/vnd.in-toto+json";
    public const string StatementType = "https://in-toto.io/Statement/v1";

    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string CertificateAnnotation = "dev.sigstore.cosign/certificate";
    public const string ChainAnnotation = "dev.sigstore.cosign/chain";
    public const string BundleAnnotation = "dev.sigstore.cosign/bundle";
    public const string TimestampAnnotation = "dev.sigstore.cosign/rfc3161timestamp";
    public const string PredicateTypeAnnotation = "predicateType";

    /// <summary>
    /// The simple-signing payload in cosign's exact byte order and without whitespace:
    /// <c>{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":O}</c>.
    /// </summary>
    public static byte[] SimpleSigningPayload(string dockerReference, string digest, IReadOnlyDictionary<string, string> annotations)
    {
        JsonNode? optional = null;
        if (annotations.Count > 0)
        {
            var o = new JsonObject();
            foreach (var (key, value) in annotations.OrderBy(static a => a.Key, StringComparer.Ordinal))
            {
                o[key] = value;
            }

            optional = o;
        }

        var payload = new JsonObject
        {
            ["critical"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["docker-reference"] = dockerReference },
                ["image"] = new JsonObject { ["docker-manifest-digest"] = digest },
                ["type"] = SimpleSigningType,
            },
            ["optional"] = optional,
        };
        return Encoding.UTF8.GetBytes(payload.ToJsonString());
    }

    /// <summary>The in-toto statement cosign v3 signs for an image, or attests with a predicate: one subject, digest only.</summary>
    public static byte[] Statement(string digest, string predicateType, JsonNode predicate, IReadOnlyDictionary<string, string> annotations)
    {
        var subject = new JsonObject { ["digest"] = new JsonObject { ["sha256"] = OciDigest.Hex(digest) } };
        if (annotations.Count > 0)
        {
            var a = new JsonObject();
            foreach (var (key, value) in annotations)
            {
                a[key] = value;
            }

            subject["annotations"] = a;
        }

        var statement = new JsonObject
        {
            ["_type"] = StatementType,
            ["subject"] = new JsonArray(subject),
            ["predicateType"] = predicateType,
            ["predicate"] = predicate.DeepClone(),
        };
        return Encoding.UTF8.GetBytes(statement.ToJsonString());
    }

    /// <summary><c>dev.sigstore.cosign/bundle</c>: the SET and the logged entry, as cosign writes it.</summary>
    public static string RekorBundleAnnotation(TransparencyLogEntry entry) => new JsonObject
    {
        ["SignedEntryTimestamp"] = Convert.ToBase64String(entry.InclusionPromise ?? []),
        ["Payload"] = new JsonObject
        {
            ["body"] = Convert.ToBase64String(entry.CanonicalizedBody),
            ["integratedTime"] = entry.IntegratedTime,
            ["logIndex"] = entry.LogIndex,
            ["logID"] = Convert.ToHexStringLower(entry.LogId),
        },
    }.ToJsonString();

    /// <summary>Reads <c>dev.sigstore.cosign/bundle</c> back into a tlog entry (no inclusion proof: the SET is the evidence).</summary>
    public static TransparencyLogEntry ParseRekorBundleAnnotation(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var payload = document.RootElement.GetProperty("Payload");
            var body = Convert.FromBase64String(payload.GetProperty("body").GetString() ?? string.Empty);
            using var bodyDocument = JsonDocument.Parse(body);
            var kind = bodyDocument.RootElement.GetProperty("kind").GetString() ?? string.Empty;
            var version = bodyDocument.RootElement.GetProperty("apiVersion").GetString() ?? string.Empty;
            return new TransparencyLogEntry(
                payload.GetProperty("logIndex").GetInt64(),
                Convert.FromHexString(payload.GetProperty("logID").GetString() ?? string.Empty),
                new KindVersion(kind, version),
                payload.GetProperty("integratedTime").GetInt64(),
                Convert.FromBase64String(document.RootElement.GetProperty("SignedEntryTimestamp").GetString() ?? string.Empty),
                null,
                body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OciException(OciFailure.Error, "the dev.sigstore.cosign/bundle annotation is not a {SignedEntryTimestamp, Payload{body, integratedTime, logIndex, logID}} object", "SIGNATURE_FORMAT");
        }
    }

    public static string TimestampAnnotationValue(byte[] token) =>
        new JsonObject { ["SignedRFC3161Timestamp"] = Convert.ToBase64String(token) }.ToJsonString();

    public static byte[] ParseTimestampAnnotation(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Convert.FromBase64String(document.RootElement.GetProperty("SignedRFC3161Timestamp").GetString() ?? string.Empty);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OciException(OciFailure.Error, "the dev.sigstore.cosign/rfc3161timestamp annotation is not {SignedRFC3161Timestamp}", "SIGNATURE_FORMAT");
        }
    }

    /// <summary>The <c>--type</c> aliases of cosign attest (options/predicate.go); anything else must be a URI.</summary>
    public static string PredicateType(string type) => type switch
    {
        "slsaprovenance" or "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "spdx" => "https://spdx.dev/Document",
        "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        _ when Uri.TryCreate(type, UriKind.Absolute, out _) => type,
        _ => throw new OciException(
            OciFailure.Usage,
            $"--type '{type}' is neither a known alias (slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom) nor a URI"),
    };
}
