using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>Makes real, correctly signed hashedrekord proposals, as a client (cosign, sigstore-js) would.</summary>
internal sealed class Entries : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _publicKeyPemBase64;

    public Entries()
    {
        _publicKeyPemBase64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(_key.ExportSubjectPublicKeyInfoPem() + "\n"));
    }

    public string PublicKeyPemBase64 => _publicKeyPemBase64;

    /// <summary>A proposal for a fresh random artifact, with the artifact's SHA-256 hex.</summary>
    public (string Json, string ArtifactSha256) NewHashedRekord()
    {
        var artifact = RandomNumberGenerator.GetBytes(64);
        return (HashedRekord(artifact), Convert.ToHexStringLower(SHA256.HashData(artifact)));
    }

    public string HashedRekord(byte[] artifact)
    {
        var digest = SHA256.HashData(artifact);
        var signature = _key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        return HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), _publicKeyPemBase64);
    }

    public static string HashedRekord(string digestHex, string signatureBase64, string publicKeyBase64) => new JsonObject
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = digestHex } },
            ["signature"] = new JsonObject
            {
                ["content"] = signatureBase64,
                ["publicKey"] = new JsonObject { ["content"] = publicKeyBase64 },
            },
        },
    }.ToJsonString();

    public void Dispose() => _key.Dispose();
}
