using System.Buffers;
using System.Buffers.Text;
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

    /// <summary>
    /// The same bytes as <see cref="Payload(string, long, string, long)"/> for the canonical body itself, written
    /// directly: the log signs one per entry, so the body's base64 goes straight into the payload, without the
    /// string, the node tree and the re-parse of the general canonicalisation.
    /// </summary>
    public static byte[] Payload(ReadOnlySpan<byte> body, long integratedTime, string logIdHex, long logIndex)
    {
        ArgumentNullException.ThrowIfNull(logIdHex);

        // The members in JCS order (body < integratedTime < logID < logIndex, by UTF-16 code units); base64 needs no
        // escape, and numbers are written as JavaScript prints the double they are, as the general path does.
        var output = new ArrayBufferWriter<byte>(Base64.GetMaxEncodedToUtf8Length(body.Length) + logIdHex.Length + 96);
        output.Write("{\"body\":\""u8);
        var destination = output.GetSpan(Base64.GetMaxEncodedToUtf8Length(body.Length));
        Base64.EncodeToUtf8(body, destination, out _, out var written);
        output.Advance(written);
        output.Write("\",\"integratedTime\":"u8);
        CanonicalJson.WriteNumber(integratedTime, output);
        output.Write(",\"logID\":"u8);
        CanonicalJson.WriteString(logIdHex, output);
        output.Write(",\"logIndex\":"u8);
        CanonicalJson.WriteNumber(logIndex, output);
        output.Write("}"u8);
        return output.WrittenSpan.ToArray();
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
