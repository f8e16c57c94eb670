using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Rekor;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Rekor;

public sealed class DsseTests
{
    private const string PayloadType = "application/vnd.in-toto+json";
    private static readonly byte[] s_payload = Encoding.UTF8.GetBytes(
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"00\"}}]}");

    private static ProposedEntry Parse(JsonNode entry) => ProposedEntryParser.Parse(Utf8(entry), EntryLimits.Default);

    private static byte[] Sign(ECDsa key, byte[] payload) =>
        key.SignData(Pae(PayloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    [Fact]
    public void Parse_OneSignature_ProducesCanonicalBodyOfSection3()
    {
        var (key, pem) = EcdsaCertificate();
        using (key)
        {
            var signature = Sign(key, s_payload);
            var envelope = Envelope(s_payload, PayloadType, signature);

            var proposed = Parse(Dsse(envelope, pem));

            var envelopeHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(envelope)));
            var payloadHash = Convert.ToHexStringLower(SHA256.HashData(s_payload));
            var expected = "{\"apiVersion\":\"0.0.1\",\"kind\":\"dsse\",\"spec\":{"
                + "\"envelopeHash\":{\"algorithm\":\"sha256\",\"value\":\"" + envelopeHash + "\"},"
                + "\"payloadHash\":{\"algorithm\":\"sha256\",\"value\":\"" + payloadHash + "\"},"
                + "\"signatures\":[{\"signature\":\"" + B64(signature) + "\",\"verifier\":\"" + B64(pem) + "\"}]}}";
            Assert.Equal(expected, Encoding.UTF8.GetString(proposed.CanonicalBody));
            Assert.Equal([$"sha256:{payloadHash}", $"sha256:{envelopeHash}"], proposed.IndexKeys.Hashes);
            Assert.Contains("alice@example.com", proposed.IndexKeys.Identities);
        }
    }

    [Fact]
    public void Parse_TwoSignaturesTwoVerifiers_SortsSignaturesAndPairsVerifiers()
    {
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var sig1 = Sign(first, s_payload);
        var sig2 = Sign(second, s_payload);
        var pem1 = PublicKeyPem(first);
        var pem2 = PublicKeyPem(second);

        var body = JsonNode.Parse(Parse(Dsse(Envelope(s_payload, PayloadType, sig1, sig2), pem2, pem1)).CanonicalBody)!;
        var swapped = Parse(Dsse(Envelope(s_payload, PayloadType, sig2, sig1), pem1, pem2));

        var signatures = body["spec"]!["signatures"]!.AsArray();
        Assert.Equal(2, signatures.Count);
        var ordered = new[] { (B64(sig1), B64(pem1)), (B64(sig2), B64(pem2)) }.OrderBy(p => p.Item1, StringComparer.Ordinal).ToArray();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(ordered[i].Item1, signatures[i]!["signature"]!.GetValue<string>());
            Assert.Equal(ordered[i].Item2, signatures[i]!["verifier"]!.GetValue<string>());
        }

        // Same signatures, different order: only the envelope hash differs.
        var swappedBody = JsonNode.Parse(swapped.CanonicalBody)!;
        Assert.Equal(signatures.ToJsonString(), swappedBody["spec"]!["signatures"]!.ToJsonString());
    }

    [Fact]
    public void Parse_Ed25519Verifier_UsesPureEd25519OverPae()
    {
        var (seed, pem) = Ed25519Key();
        var signature = Ed25519Sign(seed, Pae(PayloadType, s_payload));

        Parse(Dsse(Envelope(s_payload, PayloadType, signature), pem));
    }

    [Fact]
    public void Parse_TamperedPayload_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = Sign(key, s_payload);
        var tampered = s_payload.ToArray();
        tampered[^3] ^= 1;

        var ex = Assert.Throws<EntryRejectedException>(() => Parse(Dsse(Envelope(tampered, PayloadType, signature), PublicKeyPem(key))));
        Assert.Equal("a DSSE signature does not verify with any of the supplied verifiers", ex.Message);
    }

    [Fact]
    public void Parse_OneOfTwoSignaturesUnverifiable_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var envelope = Envelope(s_payload, PayloadType, Sign(key, s_payload), Sign(other, s_payload));

        Assert.Throws<EntryRejectedException>(() => Parse(Dsse(envelope, PublicKeyPem(key))));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"payload\":\"e30=\",\"payloadType\":\"x\",\"signatures\":[]}")]
    [InlineData("{\"payload\":\"!!\",\"payloadType\":\"x\",\"signatures\":[{\"sig\":\"AA==\"}]}")]
    [InlineData("{\"payloadType\":\"x\",\"signatures\":[{\"sig\":\"AA==\"}]}")]
    public void Parse_MalformedEnvelope_IsRejected(string envelope)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ex = Assert.Throws<EntryRejectedException>(() => Parse(Dsse(envelope, PublicKeyPem(key))));
        Assert.Contains("spec.proposedContent.envelope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooManySignatures_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signatures = Enumerable.Range(0, 17).Select(_ => Sign(key, s_payload)).ToArray();

        var ex = Assert.Throws<EntryRejectedException>(() => Parse(Dsse(Envelope(s_payload, PayloadType, signatures), PublicKeyPem(key))));
        Assert.Equal("spec.proposedContent.envelope.signatures has more than 16 entries", ex.Message);
    }

    [Fact]
    public void Parse_NoVerifiers_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ex = Assert.Throws<EntryRejectedException>(() => Parse(Dsse(Envelope(s_payload, PayloadType, Sign(key, s_payload)))));
        Assert.Equal("spec.proposedContent.verifiers must not be empty", ex.Message);
    }

    [Fact]
    public void Parse_IntotoV002_IsAcceptedWithServerComputedPayloadHash()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signature = Sign(key, s_payload);
        var pem = PublicKeyPem(key);
        var envelopeHash = Convert.ToHexStringLower(SHA256.HashData("envelope"u8));
        var entry = new JsonObject
        {
            ["apiVersion"] = "0.0.2",
            ["kind"] = "intoto",
            ["spec"] = new JsonObject
            {
                ["content"] = new JsonObject
                {
                    ["envelope"] = new JsonObject
                    {
                        ["payload"] = B64(B64(s_payload)),
                        ["payloadType"] = PayloadType,
                        ["signatures"] = new JsonArray(new JsonObject { ["sig"] = B64(B64(signature)), ["publicKey"] = B64(pem) }),
                    },
                    ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = envelopeHash },
                },
            },
        };

        var proposed = Parse(entry);

        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(s_payload));
        var expected = "{\"apiVersion\":\"0.0.2\",\"kind\":\"intoto\",\"spec\":{\"content\":{\"envelope\":{\"payloadType\":\"" + PayloadType
            + "\",\"signatures\":[{\"publicKey\":\"" + B64(pem) + "\",\"sig\":\"" + B64(B64(signature)) + "\"}]},"
            + "\"hash\":{\"algorithm\":\"sha256\",\"value\":\"" + envelopeHash + "\"},"
            + "\"payloadHash\":{\"algorithm\":\"sha256\",\"value\":\"" + payloadHash + "\"}}}}";
        Assert.Equal(expected, Encoding.UTF8.GetString(proposed.CanonicalBody));

        entry["spec"]!["content"]!["envelope"]!["payload"] = B64(B64(Encoding.UTF8.GetBytes("tampered")));
        Assert.Throws<EntryRejectedException>(() => Parse(entry));
    }
}
