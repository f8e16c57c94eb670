using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// <c>intoto</c> 0.0.2 (sigstore-js with <c>legacyCompatibility</c>). The envelope's payload and signatures are
/// base64 of the DSSE base64 strings ("double-encoded"). As in Rekor, the body keeps the payload type, the
/// signatures with their keys (as proposed), the client's envelope hash (format-checked only) and a server-computed
/// payload hash; the payload itself is dropped.
/// </summary>
internal static class IntotoV002
{
    public const string Kind = "intoto";
    public const string ApiVersion = "0.0.2";

    public static ProposedEntry Parse(JsonElement spec, EntryLimits limits)
    {
        var content = RekorJson.Object(spec, "content", "spec.content");
        var envelope = RekorJson.Object(content, "envelope", "spec.content.envelope");

        var payloadOuter = RekorJson.String(envelope, "payload", "spec.content.envelope.payload");
        if (payloadOuter.Length / 4 * 3 > (limits.MaxDssePayloadBytes / 3 * 4) + 8)
        {
            throw new EntryRejectedException($"DSSE payload exceeds the {limits.MaxDssePayloadBytes}-byte limit");
        }

        var payloadInner = Encoding.ASCII.GetString(RekorJson.DecodeBase64(payloadOuter, "spec.content.envelope.payload"));
        var payload = RekorJson.DecodeBase64(payloadInner, "spec.content.envelope.payload (inner)");
        if (payload.Length > limits.MaxDssePayloadBytes)
        {
            throw new EntryRejectedException($"DSSE payload exceeds the {limits.MaxDssePayloadBytes}-byte limit");
        }

        var payloadType = RekorJson.String(envelope, "payloadType", "spec.content.envelope.payloadType");
        var pae = new DsseEnvelope(payloadType, payload, []).Pae();

        var signaturesElement = RekorJson.Array(envelope, "signatures", "spec.content.envelope.signatures");
        var count = signaturesElement.GetArrayLength();
        if (count == 0)
        {
            throw new EntryRejectedException("spec.content.envelope.signatures must not be empty");
        }

        if (count > Math.Min(limits.MaxSignatures, limits.MaxVerifiers))
        {
            throw new EntryRejectedException($"spec.content.envelope.signatures has more than {Math.Min(limits.MaxSignatures, limits.MaxVerifiers)} entries");
        }

        var signatures = new List<(string? KeyId, string Sig, byte[] SigBytes, string PublicKey, ArtifactKey Key)>(count);
        foreach (var element in signaturesElement.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new EntryRejectedException("spec.content.envelope.signatures entries must be objects");
            }

            var keyId = RekorJson.OptionalString(element, "keyid", "spec.content.envelope.signatures[].keyid");
            var sig = RekorJson.String(element, "sig", "spec.content.envelope.signatures[].sig");
            var sigInner = Encoding.ASCII.GetString(RekorJson.DecodeBase64(sig, "spec.content.envelope.signatures[].sig"));
            var sigBytes = RekorJson.DecodeBase64(sigInner, "spec.content.envelope.signatures[].sig (inner)");
            var publicKey = RekorJson.String(element, "publicKey", "spec.content.envelope.signatures[].publicKey");
            var key = ArtifactKey.Parse(publicKey, "spec.content.envelope.signatures[].publicKey");
            signatures.Add((string.IsNullOrEmpty(keyId) ? null : keyId, sig, sigBytes, publicKey, key));
        }

        // Rekor checks each signature against every supplied key; all signatures must be covered.
        foreach (var signature in signatures)
        {
            if (!signatures.Any(s => s.Key.VerifyMessage(pae, signature.SigBytes)))
            {
                throw new EntryRejectedException("a DSSE signature does not verify with any of the supplied public keys");
            }
        }

        var hashObject = RekorJson.Object(content, "hash", "spec.content.hash");
        if (RekorJson.String(hashObject, "algorithm", "spec.content.hash.algorithm") != "sha256")
        {
            throw new EntryRejectedException("unsupported hash algorithm in spec.content.hash.algorithm (expected sha256)");
        }

        var envelopeHash = RekorJson.String(hashObject, "value", "spec.content.hash.value");
        if (envelopeHash.Length != 64 || !envelopeHash.All(static c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new EntryRejectedException("spec.content.hash.value must be 64 lowercase hex characters");
        }

        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(payload));
        var signatureArray = new JsonArray();
        foreach (var signature in signatures)
        {
            var item = new JsonObject { ["sig"] = signature.Sig, ["publicKey"] = signature.PublicKey };
            if (signature.KeyId is not null)
            {
                item["keyid"] = signature.KeyId;
            }

            signatureArray.Add((JsonNode)item);
        }

        var body = new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = Kind,
            ["spec"] = new JsonObject
            {
                ["content"] = new JsonObject
                {
                    ["envelope"] = new JsonObject { ["payloadType"] = payloadType, ["signatures"] = signatureArray },
                    ["hash"] = RekorJson.HashObject("sha256", envelopeHash),
                    ["payloadHash"] = RekorJson.HashObject("sha256", payloadHash),
                },
            },
        };

        var signers = signatures.Select(static s => s.Key).ToList();
        var indexKeys = new EntryIndexKeys(
            [$"sha256:{payloadHash}", $"sha256:{envelopeHash}"],
            [.. signers.Select(static k => k.Fingerprint).Distinct(StringComparer.Ordinal)],
            [.. signers.SelectMany(static k => k.Identities).Distinct(StringComparer.Ordinal)]);
        return new ProposedEntry(Kind, ApiVersion, RekorJson.Canonicalize(body, limits), indexKeys);
    }
}
