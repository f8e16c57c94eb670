using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>Hand-made tokens for the attacks a JWT library would refuse to produce.</summary>
public static class Jws
{
    public static string Encode(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));

    public static string EncodeRaw(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    /// <summary>Header and payload of <paramref name="token"/> with a different header.</summary>
    public static string WithHeader(string token, object header, string signature = "")
    {
        var parts = token.Split('.');
        return Encode(header) + "." + parts[1] + "." + signature;
    }

    public static string SignHs256(object header, string payloadPart, byte[] secret)
    {
        var input = Encode(header) + "." + payloadPart;
        return input + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    public static string SignEs256(ECDsa key, object header, object payload)
    {
        var input = Encode(header) + "." + Encode(payload);
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + Base64Url.EncodeToString(signature);
    }

    public static JsonElement Payload(string token) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[1])).RootElement.Clone();
}
