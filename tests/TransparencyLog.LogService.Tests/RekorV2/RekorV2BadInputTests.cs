using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.RekorV2;

public sealed class RekorV2BadInputTests(RekorV2Fixture log) : IClassFixture<RekorV2Fixture>
{
    public static TheoryData<string, string, string> BadRequests()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var digest = SHA256.HashData("artifact"u8);
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var spki = key.ExportSubjectPublicKeyInfo();
        var verifier = V2Requests.PublicKeyVerifier(spki, "PKIX_ECDSA_P256_SHA_256");
        var certificate = V2Requests.Certificate(key);
        var ed25519Spki = Convert.FromHexString("302a300506032b6570032100" + new string('1', 64));
        var payload = "{}"u8.ToArray();
        var pae = V2Requests.Pae("application/vnd.in-toto+json", payload);
        var dsseSignature = key.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var otherSignature = other.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        return new TheoryData<string, string, string>
        {
            { "malformed JSON", "{\"hashedRekordRequestV002\":", "JSON" },
            { "not an object", "[1]", "object" },
            { "no request", "{}", "hashedRekordRequestV002 or dsseRequestV002" },
            { "v1 body", """{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}""", "hashedRekordRequestV002 or dsseRequestV002" },
            { "both kinds", """{"hashedRekordRequestV002":{},"dsseRequestV002":{}}""", "only one" },
            { "field spelled twice", """{"hashedRekordRequestV002":{},"hashed_rekord_request_v002":{}}""", "twice" },
            { "bad base64 digest", V2Requests.HashedRekord("!!!!", Convert.ToBase64String(signature), verifier), "base64" },
            { "bad base64 signature", V2Requests.HashedRekord(Convert.ToBase64String(digest), "a b=", verifier), "base64" },
            { "bad base64 key", V2Requests.HashedRekord(Convert.ToBase64String(digest), Convert.ToBase64String(signature), new JsonObject { ["publicKey"] = new JsonObject { ["rawBytes"] = "%%%" }, ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256" }), "base64" },
            { "wrong signature", V2Requests.HashedRekord(SHA256.HashData("other"u8), signature, verifier), "does not verify" },
            { "other key", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(other.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P256_SHA_256")), "does not verify" },
            { "unknown keyDetails", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(spki, "PKIX_MADE_UP")), "unsupported" },
            { "missing keyDetails", V2Requests.HashedRekord(digest, signature, new JsonObject { ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(spki) } }), "keyDetails" },
            { "keyDetails for another curve", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(p384.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P256_SHA_256")), "does not match" },
            { "keyDetails for another algorithm", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(spki, "PKIX_RSA_PKCS1V15_2048_SHA256")), "does not match" },
            { "digest too short", V2Requests.HashedRekord(digest[..31], signature, verifier), "32-byte" },
            { "digest of another algorithm", V2Requests.HashedRekord(SHA512.HashData("artifact"u8), signature, verifier), "32-byte" },
            { "pure Ed25519 hashedrekord", V2Requests.HashedRekord(SHA512.HashData("artifact"u8), new byte[64], V2Requests.PublicKeyVerifier(ed25519Spki, "PKIX_ED25519")), "PKIX_ED25519_PH" },
            { "both key and certificate", V2Requests.HashedRekord(digest, signature, new JsonObject { ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(spki) }, ["x509Certificate"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(certificate) }, ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256" }), "exactly one" },
            { "certificate that is not one", V2Requests.HashedRekord(digest, signature, V2Requests.CertificateVerifier(spki, "PKIX_ECDSA_P256_SHA_256")), "certificate" },
            { "key with padded coordinates", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(PaddedCoordinatesSpki(key), "PKIX_ECDSA_P256_SHA_256")), "invalid public key" },
            { "key on an explicit curve", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(ExplicitCurveSpki(key), "PKIX_ECDSA_P256_SHA_256")), "invalid public key" },
            { "certificate with an explicit-curve key", V2Requests.HashedRekord(digest, signature, V2Requests.CertificateVerifier(CertificateWithKey(certificate, ExplicitCurveSpki(key)), "PKIX_ECDSA_P256_SHA_256")), "invalid public key" },
            { "trailing bytes after the key", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier([.. spki, 0], "PKIX_ECDSA_P256_SHA_256")), "trailing" },
            { "PEM instead of DER", V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem()), "PKIX_ECDSA_P256_SHA_256")), "DER" },
            { "missing signature", """{"hashedRekordRequestV002":{"digest":"AAAA"}}""", "signature" },
            { "dsse signature by a key not given", V2Requests.Dsse(payload, "application/vnd.in-toto+json", [dsseSignature, otherSignature], verifier), "does not verify" },
            { "dsse without verifiers", V2Requests.Dsse(payload, "application/vnd.in-toto+json", [dsseSignature]), "verifiers" },
            { "dsse without signatures", V2Requests.Dsse(payload, "application/vnd.in-toto+json", [], verifier), "signatures" },
            { "dsse same verifier twice", V2Requests.Dsse(payload, "application/vnd.in-toto+json", [dsseSignature], verifier, verifier.DeepClone().AsObject()), "twice" },
            { "dsse too many signatures", V2Requests.Dsse(payload, "application/vnd.in-toto+json", Enumerable.Range(0, 11).Select(i => new byte[] { (byte)i }), verifier), "at most 10" },
        };
    }

    /// <summary>The key's own point with each coordinate one zero byte longer than P-256's (Go's x509 refuses it).</summary>
    private static byte[] PaddedCoordinatesSpki(ECDsa key)
    {
        var q = key.ExportParameters(false).Q;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.2.1");
                writer.WriteObjectIdentifier("1.2.840.10045.3.1.7");
            }

            writer.WriteBitString([0x04, 0x00, .. q.X!, 0x00, .. q.Y!]);
        }

        return writer.Encode();
    }

    /// <summary>The key with P-256's parameters spelled out instead of named: before the key's form was checked, a 500.</summary>
    private static byte[] ExplicitCurveSpki(ECDsa key)
    {
        using var explicitKey = ECDsa.Create(key.ExportExplicitParameters(false));
        return explicitKey.ExportSubjectPublicKeyInfo();
    }

    /// <summary><paramref name="certificate"/> with its SubjectPublicKeyInfo replaced (its signature no longer verifies: the log does not check it).</summary>
    private static byte[] CertificateWithKey(byte[] certificate, byte[] spki)
    {
        var outer = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        var tbs = outer.ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                // version, serialNumber, signature, issuer, validity, subject; then the key; then the rest.
                for (var i = 0; i < 6; i++)
                {
                    writer.WriteEncodedValue(tbs.ReadEncodedValue().Span);
                }

                tbs.ReadEncodedValue();
                writer.WriteEncodedValue(spki);
                while (tbs.HasData)
                {
                    writer.WriteEncodedValue(tbs.ReadEncodedValue().Span);
                }
            }

            while (outer.HasData)
            {
                writer.WriteEncodedValue(outer.ReadEncodedValue().Span);
            }
        }

        return writer.Encode();
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task PostEntry_BadRequest_Returns400AndAppendsNothing(string what, string request, string messagePart)
    {
        var before = await log.CheckpointAsync();

        using var response = await log.PostAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: expected 400, got {(int)response.StatusCode}: {text}");
        using var error = JsonDocument.Parse(text);
        Assert.Equal(3, error.RootElement.GetProperty("code").GetInt32());
        Assert.Contains(messagePart, error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before.Size, (await log.CheckpointAsync()).Size);
    }

    [Theory]
    [InlineData("""{"hashedRekordRequestV002":{"digest":"#","signature":{"content":"AAAA","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}""")]
    [InlineData("""{"dsseRequestV002":{"envelope":{"payload":"AAAA","payloadType":"#","signatures":[{"sig":"AAAA","keyid":"#"}]},"verifiers":[]}}""")]
    [InlineData("""{"#":{}}""")]
    public async Task PostEntry_InvalidUtf8InJsonString_Returns400AndAppendsNothing(string template)
    {
        var before = await log.CheckpointAsync();

        using var response = await Http.InvalidUtf8Tests.PostRawAsync(log.Client, "/api/v2/log/entries", Http.InvalidUtf8Tests.WithInvalidUtf8(template));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {text}");
        using var error = JsonDocument.Parse(text);
        Assert.Equal(3, error.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("UTF-8", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before.Size, (await log.CheckpointAsync()).Size);
    }

    [Fact]
    public async Task PostEntry_OversizedBody_Returns413AndAppendsNothing()
    {
        var before = await log.CheckpointAsync();
        var request = V2Requests.Dsse(RandomNumberGenerator.GetBytes(300 * 1024), "application/octet-stream", [new byte[64]], V2Requests.PublicKeyVerifier(new byte[91], "PKIX_ECDSA_P256_SHA_256"));

        using var response = await log.PostAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("limit", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before.Size, (await log.CheckpointAsync()).Size);
    }

    [Fact]
    public async Task PostEntry_CanonicalBodyOverTheEntryLimit_Returns400AndAppendsNothing()
    {
        // A small request whose stored form is not: ten signatures by one key, each stored with a copy of its large
        // certificate, exceed what a tlog-tiles entry bundle can hold (65,535 bytes).
        var before = await log.CheckpointAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var payload = "{}"u8.ToArray();
        var pae = V2Requests.Pae("application/vnd.in-toto+json", payload);
        var signatures = Enumerable.Range(0, 10).Select(_ => key.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)).ToList();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=" + new string('x', 7000), key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(10));

        using var response = await log.PostAsync(V2Requests.Dsse(payload, "application/vnd.in-toto+json", signatures, V2Requests.CertificateVerifier(certificate.RawData, "PKIX_ECDSA_P256_SHA_256")));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains("65535-byte limit", text, StringComparison.Ordinal);
        Assert.Equal(before.Size, (await log.CheckpointAsync()).Size);
    }
}

/// <summary>Without <c>Logs:RekorV2:Enabled</c> the v2 endpoints do not exist.</summary>
public sealed class RekorV2DisabledTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Theory]
    [InlineData("/api/v2/log/publicKey")]
    [InlineData("/api/v2/checkpoint")]
    public async Task Get_WhenRekorV2Disabled_Returns404(string path)
    {
        using var response = await log.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task PostEntry_WhenRekorV2Disabled_Returns404()
    {
        using var response = await log.PostAsync("/api/v2/log/entries", "{}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
