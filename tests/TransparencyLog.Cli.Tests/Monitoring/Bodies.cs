using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>Canonical Rekor v1 hashedrekord bodies: signed by a bare key, or by a Fulcio-like certificate.</summary>
internal static class Bodies
{
    private static readonly ECDsa s_key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static string KeyPem => s_key.ExportSubjectPublicKeyInfoPem();

    /// <summary>SHA-256 of the shared key's SubjectPublicKeyInfo, as rekor-monitor's fingerprints list it.</summary>
    public static string KeyFingerprint => Convert.ToHexStringLower(SHA256.HashData(s_key.ExportSubjectPublicKeyInfo()));

    public static byte[] Plain(int n) => HashedRekord(n, KeyPem);

    /// <summary>An entry whose certificate names <paramref name="email"/>, issued for <paramref name="issuer"/>.</summary>
    public static byte[] Keyless(int n, string email, string issuer, string? buildSignerUri = null)
    {
        var request = new CertificateRequest("CN=sigstore", s_key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(email);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", Utf8(issuer), false));
        if (buildSignerUri is not null)
        {
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.9", Utf8(buildSignerUri), false));
        }

        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-1), now.AddMinutes(10));
        return HashedRekord(n, certificate.ExportCertificatePem());
    }

    private static byte[] Utf8(string value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
        return writer.Encode();
    }

    private static byte[] HashedRekord(int n, string pem) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"artifact {n}"))) } },
            ["signature"] = new JsonObject
            {
                ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"sig {n}")),
                ["publicKey"] = new JsonObject { ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(pem)) },
            },
        },
    }.ToJsonString());
}
