using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// Rekor v1 SET: the log's signature over the JCS bytes of <c>{"body","integratedTime","logID","logIndex"}</c>,
/// which sigstore-js rebuilds from the bundle and verifies with SHA-256.
/// </summary>
public static class SignedEntryTimestamp
{
    public static byte[] Payload(string bodyBase64, long integratedTime, string logIdHex, long logIndex)
    {
        ArgumentNullException.ThrowIfNull(bodyBase64);
        ArgumentNullException.ThrowIfNull(logIdHex);
        var payload = new JsonObject
        {
            ["body"] = bodyBase64,
            ["integratedTime"] = integratedTime,
            ["logID"] = logIdHex,
            ["logIndex"] = logIndex,
        };
        return CanonicalJson.Canonicalize(payload);
    }

    public static ValueTask<byte[]> SignAsync(LogSigner signer, string bodyBase64, long integratedTime, long logIndex, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return signer.SignAsync(Payload(bodyBase64, integratedTime, signer.LogIdHex, logIndex), cancellationToken);
    }

    public static bool Verify(LogPublicKey key, ReadOnlySpan<byte> signature, string bodyBase64, long integratedTime, long logIndex)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Verify(Payload(bodyBase64, integratedTime, key.LogIdHex, logIndex), signature);
    }
}
