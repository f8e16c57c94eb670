using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// <c>hashedrekord</c> 0.0.1: a signature over an artifact digest. The body keeps the digest, the signature and
/// the key; unknown fields (including <c>data.content</c> and key URLs) are dropped, as Rekor does.
/// </summary>
internal static class HashedRekordV001
{
    public const string Kind = "hashedrekord";
    public const string ApiVersion = "0.0.1";

    public static ProposedEntry Parse(JsonElement spec, EntryLimits limits)
    {
        var data = RekorJson.Object(spec, "data", "spec.data");
        var hashObject = RekorJson.Object(data, "hash", "spec.data.hash");
        var algorithm = RekorJson.String(hashObject, "algorithm", "spec.data.hash.algorithm");
        var (hashName, digestSize) = algorithm switch
        {
            "sha256" => (HashAlgorithmName.SHA256, 32),
            "sha384" => (HashAlgorithmName.SHA384, 48),
            "sha512" => (HashAlgorithmName.SHA512, 64),
            _ => throw new EntryRejectedException("unsupported hash algorithm in spec.data.hash.algorithm (expected sha256, sha384 or sha512)"),
        };
        var hex = RekorJson.String(hashObject, "value", "spec.data.hash.value");
        if (!hex.All(static c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new EntryRejectedException("invalid hex in spec.data.hash.value (expected lowercase hex)");
        }

        if (hex.Length != digestSize * 2)
        {
            throw new EntryRejectedException($"spec.data.hash.value has the wrong length for {algorithm} (expected {digestSize * 2} hex characters)");
        }

        var digest = Convert.FromHexString(hex);

        var signatureObject = RekorJson.Object(spec, "signature", "spec.signature");
        var signature = RekorJson.DecodeBase64(RekorJson.String(signatureObject, "content", "spec.signature.content"), "spec.signature.content");
        var publicKeyObject = RekorJson.Object(signatureObject, "publicKey", "spec.signature.publicKey");
        var key = ArtifactKey.Parse(
            RekorJson.String(publicKeyObject, "content", "spec.signature.publicKey.content"),
            "spec.signature.publicKey.content");

        if (key.IsEd25519 && hashName != HashAlgorithmName.SHA512)
        {
            throw new EntryRejectedException("ed25519 keys require a sha512 digest in hashedrekord (Ed25519ph)");
        }

        if (!key.VerifyDigest(hashName, digest, signature))
        {
            throw new EntryRejectedException("signature does not verify with the supplied public key");
        }

        var indexKeys = new EntryIndexKeys([$"{algorithm}:{hex}"], [key.Fingerprint], key.Identities);
        return new ProposedEntry(Kind, ApiVersion, RekorJson.CheckCanonicalSize(CanonicalBody(algorithm, hex, Convert.ToBase64String(signature), key.CanonicalBase64), limits), indexKeys);
    }

    /// <summary>
    /// The stored body, <c>{"apiVersion","kind","spec":{"data":{"hash":{"algorithm","value"}},"signature":{"content",
    /// "publicKey":{"content"}}}}</c>, written in JCS form directly (members in code-unit order, strings escaped as
    /// <see cref="CanonicalJson"/> does): every append makes one, and the node tree and re-parse of the general
    /// canonicalisation cost more than the rest of the parsing. The tests hold it equal to the general form.
    /// </summary>
    internal static byte[] CanonicalBody(string algorithm, string hex, string signatureBase64, string publicKeyBase64)
    {
        var output = new ArrayBufferWriter<byte>(160 + algorithm.Length + hex.Length + signatureBase64.Length + publicKeyBase64.Length);
        output.Write("{\"apiVersion\":"u8);
        CanonicalJson.WriteString(ApiVersion, output);
        output.Write(",\"kind\":"u8);
        CanonicalJson.WriteString(Kind, output);
        output.Write(",\"spec\":{\"data\":{\"hash\":{\"algorithm\":"u8);
        CanonicalJson.WriteString(algorithm, output);
        output.Write(",\"value\":"u8);
        CanonicalJson.WriteString(hex, output);
        output.Write("}},\"signature\":{\"content\":"u8);
        CanonicalJson.WriteString(signatureBase64, output);
        output.Write(",\"publicKey\":{\"content\":"u8);
        CanonicalJson.WriteString(publicKeyBase64, output);
        output.Write("}}}}"u8);
        return output.WrittenSpan.ToArray();
    }
}
