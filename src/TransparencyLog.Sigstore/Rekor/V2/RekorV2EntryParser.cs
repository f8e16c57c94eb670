using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Rekor.V2;

/// <summary>
/// Validates a Rekor v2 <c>CreateEntryRequest</c> (protobuf-JSON: <c>hashedRekordRequestV002</c> or
/// <c>dsseRequestV002</c>), verifies its signatures, and reduces it to the canonical body: the RFC 8785 form of the
/// v0.0.2 <c>Entry</c> message, which is what the log hashes and what sigstore verifiers parse back.
/// </summary>
public static class RekorV2EntryParser
{
    public const string ApiVersion = "0.0.2";
    public const string HashedRekordKind = "hashedrekord";
    public const string DsseKind = "dsse";

    /// <summary>rekor-tiles caps DSSE requests at 10 signatures and 10 verifiers.</summary>
    private const int MaxDsseItems = 10;

    private const int MaxSignatureBytes = 8 * 1024;

    /// <exception cref="EntryRejectedException">The request is malformed, unsupported, too large, or a signature does not verify.</exception>
    public static ProposedEntry Parse(ReadOnlySpan<byte> utf8Json, EntryLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);

        using var document = RekorJson.ParseRequest(utf8Json, limits);
        var root = document.RootElement;

        var hasHashedRekord = ProtoJson.TryGet(root, "hashedRekordRequestV002", "hashed_rekord_request_v002", "hashedRekordRequestV002", out var hashedRekord);
        var hasDsse = ProtoJson.TryGet(root, "dsseRequestV002", "dsse_request_v002", "dsseRequestV002", out var dsse);
        return (hasHashedRekord, hasDsse) switch
        {
            (true, false) => ParseHashedRekord(RequireObject(hashedRekord, "hashedRekordRequestV002"), limits),
            (false, true) => ParseDsse(RequireObject(dsse, "dsseRequestV002"), limits),
            (true, true) => throw new EntryRejectedException("give only one of hashedRekordRequestV002 or dsseRequestV002"),
            _ => throw new EntryRejectedException("the request must hold hashedRekordRequestV002 or dsseRequestV002"),
        };
    }

    private static ProposedEntry ParseHashedRekord(JsonElement request, EntryLimits limits)
    {
        const string path = "hashedRekordRequestV002";
        var signatureObject = ProtoJson.Object(request, "signature", "signature", $"{path}.signature");
        using var verifier = EntryVerifier.Parse(
            ProtoJson.Object(signatureObject, "verifier", "verifier", $"{path}.signature.verifier"), $"{path}.signature.verifier");
        var signature = ProtoJson.Bytes(signatureObject, "content", "content", $"{path}.signature.content", MaxSignatureBytes);
        var digest = ProtoJson.Bytes(request, "digest", "digest", $"{path}.digest", 64);
        if (digest.Length != verifier.Details.DigestSize)
        {
            throw new EntryRejectedException(
                $"{path}.digest is {digest.Length} bytes; {verifier.Details.Name} signs a {verifier.Details.DigestSize}-byte {verifier.Details.HashName} digest");
        }

        if (!verifier.VerifyDigest(digest, signature))
        {
            throw new EntryRejectedException("the signature does not verify over the digest with the supplied verifier");
        }

        var body = Entry(HashedRekordKind, "hashedRekordV002", new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["algorithm"] = verifier.Details.HashName,
                ["digest"] = Convert.ToBase64String(digest),
            },
            ["signature"] = new JsonObject
            {
                ["content"] = Convert.ToBase64String(signature),
                ["verifier"] = verifier.ToJson(),
            },
        });
        var hashKey = $"{verifier.Details.HashName.Replace("SHA2_", "sha", StringComparison.Ordinal)}:{Convert.ToHexStringLower(digest)}";
        return new ProposedEntry(HashedRekordKind, ApiVersion, RekorJson.Canonicalize(body, limits), new EntryIndexKeys([hashKey], [verifier.Fingerprint], verifier.Identities));
    }

    private static ProposedEntry ParseDsse(JsonElement request, EntryLimits limits)
    {
        const string path = "dsseRequestV002";
        var maxItems = Math.Min(MaxDsseItems, Math.Min(limits.MaxSignatures, limits.MaxVerifiers));
        var envelope = ProtoJson.Object(request, "envelope", "envelope", $"{path}.envelope");
        var payload = ProtoJson.Bytes(envelope, "payload", "payload", $"{path}.envelope.payload", limits.MaxDssePayloadBytes);
        var payloadType = ProtoJson.String(envelope, "payloadType", "payload_type", $"{path}.envelope.payloadType");
        var signatureElements = ProtoJson.Array(envelope, "signatures", "signatures", $"{path}.envelope.signatures");
        var verifierElements = ProtoJson.Array(request, "verifiers", "verifiers", $"{path}.verifiers");
        if (signatureElements.GetArrayLength() == 0)
        {
            throw new EntryRejectedException($"{path}.envelope.signatures must not be empty");
        }

        if (verifierElements.GetArrayLength() == 0)
        {
            throw new EntryRejectedException($"{path}.verifiers must not be empty");
        }

        if (signatureElements.GetArrayLength() > maxItems || verifierElements.GetArrayLength() > maxItems)
        {
            throw new EntryRejectedException($"at most {maxItems} signatures and {maxItems} verifiers per DSSE request");
        }

        var verifiers = ReadVerifiers(verifierElements, path);
        try
        {
            return DsseEntry(payload, payloadType, ReadSignatures(signatureElements, path), verifiers, limits);
        }
        finally
        {
            DisposeAll(verifiers);
        }
    }

    /// <summary>The verifiers, each holding the key it decoded; the caller disposes them.</summary>
    private static List<EntryVerifier> ReadVerifiers(JsonElement verifierElements, string path)
    {
        var verifiers = new List<EntryVerifier>();
        try
        {
            foreach (var element in verifierElements.EnumerateArray())
            {
                var verifier = EntryVerifier.Parse(element, $"{path}.verifiers[]");
                verifiers.Add(verifier);
                if (verifiers.SkipLast(1).Any(v => v.RawBytes.AsSpan().SequenceEqual(verifier.RawBytes)))
                {
                    throw new EntryRejectedException($"{path}.verifiers holds the same key twice");
                }
            }

            return verifiers;
        }
        catch
        {
            DisposeAll(verifiers);
            throw;
        }
    }

    private static void DisposeAll(List<EntryVerifier> verifiers)
    {
        foreach (var verifier in verifiers)
        {
            verifier.Dispose();
        }
    }

    private static List<byte[]> ReadSignatures(JsonElement signatureElements, string path)
    {
        var signatures = new List<byte[]>();
        foreach (var element in signatureElements.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new EntryRejectedException($"{path}.envelope.signatures entries must be objects");
            }

            var signature = ProtoJson.Bytes(element, "sig", "sig", $"{path}.envelope.signatures[].sig", MaxSignatureBytes);
            if (signatures.Any(s => s.AsSpan().SequenceEqual(signature)))
            {
                throw new EntryRejectedException($"{path}.envelope.signatures holds the same signature twice");
            }

            signatures.Add(signature);
        }

        return signatures;
    }

    private static ProposedEntry DsseEntry(byte[] payload, string payloadType, List<byte[]> signatures, List<EntryVerifier> verifiers, EntryLimits limits)
    {
        // Every signature must verify with some verifier; the pair is what the log records.
        var pae = new DsseEnvelope(payloadType, payload, []).Pae();
        var pairs = new List<(byte[] Signature, EntryVerifier Verifier)>();
        foreach (var signature in signatures)
        {
            var verifier = verifiers.FirstOrDefault(v => v.VerifyMessage(pae, signature))
                ?? throw new EntryRejectedException("a DSSE signature does not verify with any of the supplied verifiers");
            pairs.Add((signature, verifier));
        }

        // rekor-tiles orders the pairs by the raw signature bytes, so the same envelope always yields the same body.
        pairs.Sort(static (a, b) => a.Signature.AsSpan().SequenceCompareTo(b.Signature));
        var payloadHash = SHA256.HashData(payload);
        var signaturesJson = new JsonArray();
        foreach (var (signature, verifier) in pairs)
        {
            signaturesJson.Add((JsonNode)new JsonObject
            {
                ["content"] = Convert.ToBase64String(signature),
                ["verifier"] = verifier.ToJson(),
            });
        }

        var body = Entry(DsseKind, "dsseV002", new JsonObject
        {
            ["payloadHash"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = Convert.ToBase64String(payloadHash) },
            ["signatures"] = signaturesJson,
        });
        var fingerprints = pairs.Select(static p => p.Verifier.Fingerprint).Distinct(StringComparer.Ordinal).ToList();
        var identities = pairs.SelectMany(static p => p.Verifier.Identities).Distinct(StringComparer.Ordinal).ToList();
        var indexKeys = new EntryIndexKeys([$"sha256:{Convert.ToHexStringLower(payloadHash)}"], fingerprints, identities);
        return new ProposedEntry(DsseKind, ApiVersion, RekorJson.Canonicalize(body, limits), indexKeys);
    }

    private static JsonObject Entry(string kind, string specField, JsonObject spec) => new()
    {
        ["apiVersion"] = ApiVersion,
        ["kind"] = kind,
        ["spec"] = new JsonObject { [specField] = spec },
    };

    private static JsonElement RequireObject(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Object ? value : throw new EntryRejectedException($"{path} must be an object");
}
