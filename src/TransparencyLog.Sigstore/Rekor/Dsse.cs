using System.Text;
using System.Text.Json;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>A parsed DSSE envelope (payload decoded) and its pre-authentication encoding.</summary>
internal sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<DsseSignature> Signatures)
{
    /// <summary>PAE = "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in decimal bytes.</summary>
    public byte[] Pae()
    {
        var type = Encoding.UTF8.GetBytes(PayloadType);
        var header = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {Payload.Length} ");
        return [.. header, .. type, .. middle, .. Payload];
    }

    /// <summary>Parses <c>{payload, payloadType, signatures:[{sig, keyid?}]}</c>; <paramref name="path"/> prefixes error messages.</summary>
    public static DsseEnvelope Parse(JsonElement envelope, string path, EntryLimits limits, bool requireSignatures = true)
    {
        if (envelope.ValueKind != JsonValueKind.Object)
        {
            throw new EntryRejectedException($"{path} must be a JSON object");
        }

        var payloadBase64 = RekorJson.String(envelope, "payload", $"{path}.payload");
        if (payloadBase64.Length / 4 * 3 > limits.MaxDssePayloadBytes + 3)
        {
            throw new EntryRejectedException($"DSSE payload exceeds the {limits.MaxDssePayloadBytes}-byte limit");
        }

        var payload = RekorJson.DecodeBase64(payloadBase64, $"{path}.payload");
        if (payload.Length > limits.MaxDssePayloadBytes)
        {
            throw new EntryRejectedException($"DSSE payload exceeds the {limits.MaxDssePayloadBytes}-byte limit");
        }

        var payloadType = RekorJson.String(envelope, "payloadType", $"{path}.payloadType");
        var signaturesElement = RekorJson.Array(envelope, "signatures", $"{path}.signatures");
        var count = signaturesElement.GetArrayLength();
        if (count == 0 && requireSignatures)
        {
            throw new EntryRejectedException($"{path}.signatures must not be empty");
        }

        if (count > limits.MaxSignatures)
        {
            throw new EntryRejectedException($"{path}.signatures has more than {limits.MaxSignatures} entries");
        }

        var signatures = new List<DsseSignature>(count);
        foreach (var element in signaturesElement.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new EntryRejectedException($"{path}.signatures entries must be objects");
            }

            var sigBase64 = RekorJson.String(element, "sig", $"{path}.signatures[].sig");
            var sig = RekorJson.DecodeBase64(sigBase64, $"{path}.signatures[].sig");
            signatures.Add(new DsseSignature(sigBase64, sig, element));
        }

        return new DsseEnvelope(payloadType, payload, signatures);
    }
}

/// <summary>One envelope signature: its base64 text as sent, the decoded bytes, and the raw JSON (for extra fields).</summary>
internal sealed record DsseSignature(string Base64, byte[] Bytes, JsonElement Element);
