using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// <c>dsse</c> 0.0.1. Clients propose the whole envelope; the log stores only hashes and signature/verifier pairs,
/// because sigstore-js reads <c>spec.signatures[0].signature</c> and <c>spec.payloadHash</c> from the stored body.
/// </summary>
internal static class DsseV001
{
    public const string Kind = "dsse";
    public const string ApiVersion = "0.0.1";

    public static ProposedEntry Parse(JsonElement spec, EntryLimits limits)
    {
        var proposed = RekorJson.Object(spec, "proposedContent", "spec.proposedContent");
        var envelopeText = RekorJson.String(proposed, "envelope", "spec.proposedContent.envelope");
        var envelopeBytes = Encoding.UTF8.GetBytes(envelopeText);

        DsseEnvelope envelope;
        using (var document = RekorJson.Parse(envelopeBytes, "spec.proposedContent.envelope"))
        {
            envelope = DsseEnvelope.Parse(document.RootElement, "spec.proposedContent.envelope", limits);

            // The JsonElements inside the envelope die with the document; only the decoded parts are used below.
        }

        var verifierElements = RekorJson.Array(proposed, "verifiers", "spec.proposedContent.verifiers");
        var verifierCount = verifierElements.GetArrayLength();
        if (verifierCount == 0)
        {
            throw new EntryRejectedException("spec.proposedContent.verifiers must not be empty");
        }

        if (verifierCount > limits.MaxVerifiers)
        {
            throw new EntryRejectedException($"spec.proposedContent.verifiers has more than {limits.MaxVerifiers} entries");
        }

        var verifiers = new List<ArtifactKey>(verifierCount);
        foreach (var element in verifierElements.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.String)
            {
                throw new EntryRejectedException("spec.proposedContent.verifiers entries must be strings");
            }

            var verifier = ArtifactKey.Parse(element.GetString() ?? string.Empty, "spec.proposedContent.verifiers[]");
            verifiers.Add(verifier);
        }

        // Every signature must verify with some verifier; the pair is what the log records.
        var pae = envelope.Pae();
        var pairs = new List<(string Signature, ArtifactKey Verifier)>();
        foreach (var signature in envelope.Signatures)
        {
            var verifier = verifiers.FirstOrDefault(v => v.VerifyMessage(pae, signature.Bytes))
                ?? throw new EntryRejectedException("a DSSE signature does not verify with any of the supplied verifiers");
            pairs.Add((signature.Base64, verifier));
        }

        // Rekor sorts by signature so that the same envelope yields the same body whatever the signature order.
        pairs.Sort(static (a, b) => string.CompareOrdinal(a.Signature, b.Signature));

        var envelopeHash = Convert.ToHexStringLower(SHA256.HashData(envelopeBytes));
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(envelope.Payload));
        var signatures = new JsonArray();
        foreach (var (signature, verifier) in pairs)
        {
            signatures.Add((JsonNode)new JsonObject
            {
                ["signature"] = signature,
                ["verifier"] = verifier.CanonicalBase64,
            });
        }

        var body = new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = Kind,
            ["spec"] = new JsonObject
            {
                ["envelopeHash"] = RekorJson.HashObject("sha256", envelopeHash),
                ["payloadHash"] = RekorJson.HashObject("sha256", payloadHash),
                ["signatures"] = signatures,
            },
        };

        var used = pairs.Select(static p => p.Verifier).Distinct().ToList();
        var indexKeys = new EntryIndexKeys(
            [$"sha256:{payloadHash}", $"sha256:{envelopeHash}"],
            [.. used.Select(static v => v.Fingerprint).Distinct(StringComparer.Ordinal)],
            [.. used.SelectMany(static v => v.Identities).Distinct(StringComparer.Ordinal)]);
        return new ProposedEntry(Kind, ApiVersion, RekorJson.Canonicalize(body, limits), indexKeys);
    }
}
