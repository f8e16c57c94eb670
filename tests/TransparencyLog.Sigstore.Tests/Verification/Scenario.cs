using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Sigstore.Tests.Verification;

/// <summary>
/// One keyless signing, end to end in memory: Fulcio-like leaf, hashedrekord (or dsse) entry in a real tree, SET,
/// checkpoint, v0.3 bundle and the trusted root that should accept it.
/// </summary>
internal sealed class Scenario : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private Scenario(TestPki pki, TestLog log, ECDsa key, X509Certificate2 leaf)
    {
        Pki = pki;
        Log = log;
        Key = key;
        Leaf = leaf;
    }

    public TestPki Pki { get; }

    public TestLog Log { get; }

    public ECDsa Key { get; }

    public X509Certificate2 Leaf { get; }

    public byte[] Artifact { get; } = Encoding.UTF8.GetBytes("the artifact, version 1\n");

    // Every factory sets the bundle before returning the scenario.
    public Bundle Bundle { get; private set; } = null!;

    public TrustedRoot TrustedRoot { get; private set; } = TrustedRoot.Empty;

    public long IntegratedTime => Now.ToUnixTimeSeconds();

    public string LeafPem => PemEncoding.WriteString("CERTIFICATE", Leaf.RawData) + "\n";

    /// <summary>A hashedrekord message-signature bundle. <paramref name="issueLeaf"/> may swap the certificate.</summary>
    public static Scenario MessageSignature(Func<TestPki, ECDsa, X509Certificate2>? issueLeaf = null)
    {
        var (pki, log, key, leaf) = Setup(issueLeaf);
        var scenario = new Scenario(pki, log, key, leaf);
        var signature = key.SignData(scenario.Artifact, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var digest = SHA256.HashData(scenario.Artifact);
        var index = log.Append(HashedRekord(digest, signature, scenario.LeafPem));
        log.AppendFiller(2);
        var entry = log.Entry(index, scenario.IntegratedTime, "hashedrekord", "0.0.1");
        scenario.Bundle = new Bundle(
            Bundle.MediaTypeV03,
            new VerificationMaterial(leaf.RawData, null, null, [entry], []),
            new MessageSignature(new MessageDigest("SHA2_256", digest), signature),
            null);
        scenario.TrustedRoot = scenario.Root();
        return scenario;
    }

    /// <summary>A dsse bundle over an in-toto statement naming the artifact.</summary>
    /// <summary>A DSSE bundle over an in-toto statement about <see cref="Artifact"/>, or over <paramref name="payload"/> as given.</summary>
    public static Scenario Attestation(byte[]? payload = null)
    {
        var (pki, log, key, leaf) = Setup(null);
        var scenario = new Scenario(pki, log, key, leaf);
        var statement = new JsonObject
        {
            ["_type"] = "https://in-toto.io/Statement/v1",
            ["subject"] = new JsonArray(new JsonObject
            {
                ["name"] = "artifact.txt",
                ["digest"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(scenario.Artifact)) },
            }),
            ["predicateType"] = "https://example.test/predicate/v1",
            ["predicate"] = new JsonObject { ["ok"] = true },
        };
        var unsigned = new DsseEnvelope(payload ?? Encoding.UTF8.GetBytes(statement.ToJsonString()), "application/vnd.in-toto+json", []);
        var sig = key.SignData(unsigned.Pae(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var envelope = unsigned with { Signatures = [new DsseSignature(sig, string.Empty)] };
        var index = log.Append(new JsonObject
        {
            ["apiVersion"] = "0.0.1",
            ["kind"] = "dsse",
            ["spec"] = new JsonObject
            {
                ["proposedContent"] = new JsonObject
                {
                    ["envelope"] = envelope.ToRekorJson(),
                    ["verifiers"] = new JsonArray(Convert.ToBase64String(Encoding.UTF8.GetBytes(scenario.LeafPem))),
                },
            },
        });
        var entry = log.Entry(index, scenario.IntegratedTime, "dsse", "0.0.1");
        scenario.Bundle = new Bundle(Bundle.MediaTypeV03, new VerificationMaterial(leaf.RawData, null, null, [entry], []), null, envelope);
        scenario.TrustedRoot = scenario.Root();
        return scenario;
    }

    /// <summary>A key-based hashedrekord bundle (publicKey hint, no certificate).</summary>
    public static Scenario KeyBased()
    {
        var (pki, log, key, leaf) = Setup(null);
        var scenario = new Scenario(pki, log, key, leaf);
        var signature = key.SignData(scenario.Artifact, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var digest = SHA256.HashData(scenario.Artifact);
        var keyPem = PemEncoding.WriteString("PUBLIC KEY", key.ExportSubjectPublicKeyInfo()) + "\n";
        var index = log.Append(HashedRekord(digest, signature, keyPem));
        var entry = log.Entry(index, scenario.IntegratedTime, "hashedrekord", "0.0.1");
        scenario.Bundle = new Bundle(
            Bundle.MediaTypeV03,
            new VerificationMaterial(null, null, "key", [entry], []),
            new MessageSignature(new MessageDigest("SHA2_256", digest), signature),
            null);
        scenario.TrustedRoot = scenario.Root();
        return scenario;
    }

    public static JsonObject HashedRekord(byte[] digest, byte[] signature, string pem) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = Convert.ToHexStringLower(digest) } },
            ["signature"] = new JsonObject
            {
                ["content"] = Convert.ToBase64String(signature),
                ["publicKey"] = new JsonObject { ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(pem)) },
            },
        },
    };

    private static (TestPki, TestLog, ECDsa, X509Certificate2) Setup(Func<TestPki, ECDsa, X509Certificate2>? issueLeaf)
    {
        var pki = new TestPki(Now);
        var log = new TestLog();
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leaf = issueLeaf?.Invoke(pki, key) ?? pki.IssueLeaf(key, Now.AddMinutes(-1), Now.AddMinutes(9));
        return (pki, log, key, leaf);
    }

    private TrustedRoot Root()
    {
        var validFor = new ValidityPeriod(Now.AddDays(-30), null);
        return new TrustedRoot(
            TrustedRoot.MediaTypeV01,
            [TrustedRoot.LogFromKey(Log.Signer.PublicKey, TestLog.BaseUrl, validFor)],
            [new CertificateAuthority(new DistinguishedName("tlog", "test"), "https://fulcio.test", Pki.Chain, validFor)],
            [TrustedRoot.CtLogFromSpki(Pki.CtLogSpki, "https://ct.test", validFor)],
            []);
    }

    public void Dispose()
    {
        Leaf.Dispose();
        Key.Dispose();
        Log.Dispose();
        Pki.Dispose();
    }
}
