using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Monitoring;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>
/// The matcher reads certificates from their DER, not through the platform parser: these pin what that read must
/// agree on (SANs, the issuer extension, both fingerprints) for Rekor v1 PEM bodies and Rekor v2 DER bodies, and what
/// its cheap pre-checks must not let through or drop.
/// </summary>
public sealed class IdentityMatcherTests
{
    private const string Issuer = "https://issuer.example";

    [Fact]
    public void Match_RekorV2BodyWithDerCertificate_MatchesSanIssuerAndBothFingerprints()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Certificate(key, "dev@example.com", Issuer);
        var matcher = Matcher($$"""
            monitoredValues:
              certIdentities:
                - certSubject: ^dev@example\.com$
                  issuers: [^https://issuer\.example$]
              fingerprints:
                - {{Convert.ToHexStringLower(SHA256.HashData(certificate.RawData))}}
                - {{Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))}}
            """);

        var matches = matcher.Match(V2Body(Convert.ToBase64String(certificate.RawData), Convert.ToBase64String(key.SignData("x"u8, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))));

        Assert.Equal(["fingerprint", "fingerprint", "certIdentity:^dev@example\\.com$"], matches.Select(static m => m.Rule));
        Assert.Equal(Issuer, matches[2].Issuer);
        Assert.Equal("dev@example.com", matches[2].Value);
    }

    [Fact]
    public void Match_SameCertificateInManyEntries_MatchesEveryTime()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Certificate(key, "dev@example.com", Issuer);
        var matcher = Matcher("monitoredValues:\n  subjects: [example\\.com]\n");
        var pem = Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate.ExportCertificatePem()));

        var counts = Enumerable.Range(0, 3).Select(_ => matcher.Match(V1Body(pem)).Count).ToList();

        Assert.Equal([1, 1, 1], counts);
    }

    [Fact]
    public void Match_DerSignatureUnderContentWithKeyFingerprintWatched_NotTakenForAKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = key.SignData("x"u8, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var matcher = Matcher($"monitoredValues:\n  fingerprints:\n    - {Convert.ToHexStringLower(SHA256.HashData(signature))}\n");

        Assert.Empty(matcher.Match(V2Body(Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()), Convert.ToBase64String(signature))));
    }

    [Fact]
    public void Match_BareKeyWithOnlyCertificateRules_NoMatchAndWithFingerprintRule_Matches()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = V1Body(Convert.ToBase64String(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem())));

        Assert.Empty(Matcher("monitoredValues:\n  subjects: ['.*']\n").Match(body));
        Assert.Single(Matcher($"monitoredValues:\n  fingerprints: [{Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))}]\n").Match(body));
    }

    [Fact]
    public void Match_CtX509AndPrecertLeaves_MatchSanAndIssuerPrecertWithoutCertificateFingerprint()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Certificate(key, "ct@example.com", Issuer);
        var tbs = new AsnReader(certificate.RawData, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();
        var matcher = Matcher($$"""
            monitoredValues:
              certIdentities:
                - certSubject: ^ct@example\.com$
                  issuers: [^https://issuer\.example$]
              fingerprints:
                - {{Convert.ToHexStringLower(SHA256.HashData(certificate.RawData))}}
            """);

        var x509 = matcher.Match(CtLeaf(0, [], certificate.RawData));
        var precert = matcher.Match(CtLeaf(1, new byte[32], tbs));

        Assert.Equal(["fingerprint", "certIdentity:^ct@example\\.com$"], x509.Select(static m => m.Rule));
        Assert.Equal(["certIdentity:^ct@example\\.com$"], precert.Select(static m => m.Rule));
        Assert.Equal(Issuer, precert[0].Issuer);
        Assert.Empty(matcher.Match(CtLeaf(1, new byte[32], tbs)[..^10]));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"spec\":{\"content\":\"%%%\"}}")]
    [InlineData("{\"spec\":{\"content\":\"MAA=\"}}")]
    [InlineData("{\"spec\":{\"content\":[\"MIIB\"")]
    public void Match_MalformedBodyOrValue_NoMatchNoThrow(string body)
    {
        var matcher = Matcher("monitoredValues:\n  subjects: ['.*']\n  fingerprints: [abcdef]\n");

        Assert.Empty(matcher.Match(Encoding.UTF8.GetBytes(body)));
    }

    private static IdentityMatcher Matcher(string yaml) => new(MonitorConfig.Parse(yaml, "test").MonitoredValues);

    private static X509Certificate2 Certificate(ECDsa key, string email, string issuer)
    {
        var request = new CertificateRequest("CN=sigstore", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(email);
        request.CertificateExtensions.Add(san.Build());
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.UTF8String, issuer);
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", writer.Encode(), false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-1), now.AddMinutes(10));
    }

    /// <summary>An RFC 6962 MerkleTreeLeaf: v1, timestamped_entry, a timestamp, the entry type and its certificate.</summary>
    private static byte[] CtLeaf(byte entryType, byte[] issuerKeyHash, byte[] der)
    {
        var leaf = new List<byte> { 0, 0 };
        leaf.AddRange(BitConverter.GetBytes(1_700_000_000_000UL).Reverse());
        leaf.AddRange([0, entryType]);
        leaf.AddRange(issuerKeyHash);
        leaf.AddRange([(byte)(der.Length >> 16), (byte)(der.Length >> 8), (byte)der.Length]);
        leaf.AddRange(der);
        leaf.AddRange([0, 0]);
        return [.. leaf];
    }

    /// <summary>A Rekor v2 hashedrekord body: verifier material as base64 DER under <c>rawBytes</c>.</summary>
    private static byte[] V2Body(string verifierDer, string signature) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["apiVersion"] = "0.0.2",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["hashedRekordV002"] = new JsonObject
            {
                ["data"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = "AAAA" },
                ["signature"] = new JsonObject
                {
                    ["content"] = signature,
                    ["verifier"] = new JsonObject { ["x509Certificate"] = new JsonObject { ["rawBytes"] = verifierDer }, ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256" },
                },
            },
        },
    }.ToJsonString());

    private static byte[] V1Body(string publicKeyContent) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["signature"] = new JsonObject
            {
                ["content"] = "c2ln",
                ["publicKey"] = new JsonObject { ["content"] = publicKeyContent },
            },
        },
    }.ToJsonString());
}
