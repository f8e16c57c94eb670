using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.LogService.Tests.RekorV2;

/// <summary>Builds Rekor v2 requests the way @sigstore/sign 4.x does (protobuf-JSON, DER verifiers).</summary>
internal static class V2Requests
{
    public static byte[] NewArtifact() => RandomNumberGenerator.GetBytes(48);

    /// <summary>A self-signed leaf standing in for a Fulcio certificate: the log checks the signature, not the chain.</summary>
    public static byte[] Certificate(ECDsa key)
    {
        var request = new CertificateRequest("CN=signer", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-1), now.AddMinutes(10));
        return certificate.RawData;
    }

    public static JsonObject PublicKeyVerifier(byte[] spki, string keyDetails) => new()
    {
        ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(spki) },
        ["keyDetails"] = keyDetails,
    };

    public static JsonObject CertificateVerifier(byte[] der, string keyDetails) => new()
    {
        ["x509Certificate"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(der) },
        ["keyDetails"] = keyDetails,
    };

    public static string HashedRekord(byte[] digest, byte[] signature, JsonObject verifier) => HashedRekord(
        Convert.ToBase64String(digest), Convert.ToBase64String(signature), verifier);

    public static string HashedRekord(string digest, string signature, JsonObject verifier) => new JsonObject
    {
        ["hashedRekordRequestV002"] = new JsonObject
        {
            ["digest"] = digest,
            ["signature"] = new JsonObject { ["content"] = signature, ["verifier"] = verifier.DeepClone() },
        },
    }.ToJsonString();

    /// <summary>An ECDSA P-256 hashedrekord over a fresh artifact, verified by the bare public key.</summary>
    public static (string Json, byte[] Digest, byte[] Signature) EcdsaHashedRekord(ECDsa key)
    {
        var digest = SHA256.HashData(NewArtifact());
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var json = HashedRekord(digest, signature, PublicKeyVerifier(key.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P256_SHA_256"));
        return (json, digest, signature);
    }

    public static byte[] Pae(string payloadType, byte[] payload) =>
        [.. Encoding.UTF8.GetBytes($"DSSEv1 {Encoding.UTF8.GetByteCount(payloadType)} {payloadType} {payload.Length} "), .. payload];

    public static string Dsse(byte[] payload, string payloadType, IEnumerable<byte[]> signatures, params JsonObject[] verifiers) => new JsonObject
    {
        ["dsseRequestV002"] = new JsonObject
        {
            ["envelope"] = new JsonObject
            {
                ["payload"] = Convert.ToBase64String(payload),
                ["payloadType"] = payloadType,
                ["signatures"] = new JsonArray([.. signatures.Select(s => (JsonNode)new JsonObject { ["sig"] = Convert.ToBase64String(s), ["keyid"] = "" })]),
            },
            ["verifiers"] = new JsonArray([.. verifiers.Select(v => v.DeepClone())]),
        },
    }.ToJsonString();
}
