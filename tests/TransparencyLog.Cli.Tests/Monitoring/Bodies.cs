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
        using var certificate = Certificate(email, issuer, buildSignerUri);
        return HashedRekord(n, certificate.ExportCertificatePem());
    }

    /// <summary>
    /// An RFC 6962 MerkleTreeLeaf (a CT log's leaf): v1, timestamped_entry, timestamp <paramref name="n"/>, an x509 entry
    /// holding a certificate for <paramref name="email"/> (or, without one, a certificate naming nobody), no extensions.
    /// </summary>
    public static byte[] CtLeaf(int n, string? email = null, string issuer = "https://issuer.example")
    {
        using var certificate = Certificate(email ?? $"nobody-{n}@example.org", issuer, null);
        var der = certificate.RawData;
        var leaf = new byte[2 + 8 + 2 + 3 + der.Length + 2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(leaf.AsSpan(2), (ulong)n);
        leaf[12] = (byte)(der.Length >> 16);
        leaf[13] = (byte)(der.Length >> 8);
        leaf[14] = (byte)der.Length;
        der.CopyTo(leaf, 15);
        return leaf;
    }

    private static X509Certificate2 Certificate(string email, string issuer, string? buildSignerUri)
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
        return request.CreateSelfSigned(now.AddMinutes(-1), now.AddMinutes(10));
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
