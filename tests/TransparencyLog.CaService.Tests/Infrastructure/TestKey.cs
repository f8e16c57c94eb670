using System.Security.Cryptography;
using System.Text;

namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>An ephemeral P-256 key like the one sigstore-js generates, with its proof of possession.</summary>
public sealed class TestKey : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem() + "\n";

    /// <summary>base64(DER ECDSA-SHA256 signature over the UTF-8 bytes of <paramref name="challenge"/>).</summary>
    public string Prove(string challenge) => Convert.ToBase64String(
        _key.SignData(Encoding.UTF8.GetBytes(challenge), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

    /// <summary>The body sigstore-js sends.</summary>
    public string RequestJson(string? token, string challenge) => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["credentials"] = token is null ? null : new { oidcIdentityToken = token },
        ["publicKeyRequest"] = new
        {
            publicKey = new { algorithm = "ECDSA", content = PublicKeyPem },
            proofOfPossession = Prove(challenge),
        },
    });

    public void Dispose() => _key.Dispose();
}
