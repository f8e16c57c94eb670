using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace TransparencyLog.Sigstore.Tests.Rekor;

/// <summary>Builds proposed entries the way sigstore-js does, with keys made in the test.</summary>
internal static class EntryFixtures
{
    // JSON.stringify leaves '+' and '/' alone; the default .NET encoder would escape '+'.
    private static readonly JsonSerializerOptions s_jsOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly byte[] Artifact = Encoding.UTF8.GetBytes("hello, transparency\n");

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes);

    public static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static string PublicKeyPem(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ecdsa => PemEncoding.WriteString("PUBLIC KEY", ecdsa.ExportSubjectPublicKeyInfo()) + "\n",
        RSA rsa => PemEncoding.WriteString("PUBLIC KEY", rsa.ExportSubjectPublicKeyInfo()) + "\n",
        _ => throw new ArgumentException("unsupported key", nameof(key)),
    };

    /// <summary>A self-signed Fulcio-like leaf with an email and a URI SAN.</summary>
    public static (ECDsa Key, string Pem) EcdsaCertificate()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sigstore", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress("Alice@Example.com");
        san.AddUri(new Uri("https://github.com/Org/Repo/.github/workflows/release.yml@refs/heads/main"));
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(10));
        return (key, PemEncoding.WriteString("CERTIFICATE", certificate.RawData) + "\n");
    }

    public static (byte[] Seed, string Pem) Ed25519Key()
    {
        var seed = RandomNumberGenerator.GetBytes(32);
        var publicKey = new byte[32];
        Ed25519.GeneratePublicKey(seed, 0, publicKey, 0);
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. publicKey];
        return (seed, PemEncoding.WriteString("PUBLIC KEY", spki) + "\n");
    }

    public static byte[] Ed25519phSign(byte[] seed, byte[] sha512Digest)
    {
        var signature = new byte[64];
        Ed25519.SignPrehash(seed, 0, [], sha512Digest, 0, signature, 0);
        return signature;
    }

    public static byte[] Ed25519Sign(byte[] seed, byte[] message)
    {
        var signature = new byte[64];
        Ed25519.Sign(seed, 0, message, 0, message.Length, signature, 0);
        return signature;
    }

    public static JsonObject HashedRekord(string algorithm, string hashHex, string signatureB64, string publicKeyB64) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = algorithm, ["value"] = hashHex } },
            ["signature"] = new JsonObject
            {
                ["content"] = signatureB64,
                ["publicKey"] = new JsonObject { ["content"] = publicKeyB64 },
            },
        },
    };

    public static JsonObject EcdsaHashedRekord(ECDsa key, string pem)
    {
        var digest = SHA256.HashData(Artifact);
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        return HashedRekord("sha256", Convert.ToHexStringLower(digest), B64(signature), B64(pem));
    }

    public static byte[] Pae(string payloadType, byte[] payload) =>
        [.. Encoding.UTF8.GetBytes($"DSSEv1 {Encoding.UTF8.GetByteCount(payloadType)} {payloadType} {payload.Length} "), .. payload];

    /// <summary>The envelope string exactly as sigstore-js serializes it: payload, payloadType, signatures.</summary>
    public static string Envelope(byte[] payload, string payloadType, params byte[][] signatures)
    {
        var sigs = new JsonArray();
        foreach (var signature in signatures)
        {
            sigs.Add(new JsonObject { ["sig"] = B64(signature) });
        }

        return new JsonObject { ["payload"] = B64(payload), ["payloadType"] = payloadType, ["signatures"] = sigs }.ToJsonString(s_jsOptions);
    }

    public static JsonObject Dsse(string envelope, params string[] verifierPems)
    {
        var verifiers = new JsonArray();
        foreach (var pem in verifierPems)
        {
            verifiers.Add(B64(pem));
        }

        return new JsonObject
        {
            ["apiVersion"] = "0.0.1",
            ["kind"] = "dsse",
            ["spec"] = new JsonObject
            {
                ["proposedContent"] = new JsonObject { ["envelope"] = envelope, ["verifiers"] = verifiers },
            },
        };
    }

    public static byte[] Utf8(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString(s_jsOptions));
}
