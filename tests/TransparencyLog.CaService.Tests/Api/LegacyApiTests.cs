using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>
/// Fulcio's v1 API over real HTTP, with the requests skopeo 1.13.3 sends (containers/image
/// signature/sigstore/fulcio with sigstore/fulcio pkg/api client.go): a DER key, base64 by Go's encoding/json, the
/// proof over SHA-256 of the token's email, a null CSR, the token only as a Bearer header, and a 201 expected.
/// </summary>
[Collection(CaFixture.Collection)]
public sealed class LegacyApiTests(CaFixture fixture)
{
    private const int InvalidArgument = 3;

    [Fact]
    public async Task SigningCertV1_ExactSkopeoRequest_Returns201PemChainAndSctHeader()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = SkopeoBody(key, key.ExportSubjectPublicKeyInfo(), "alice@example.com");

        using var response = await PostV1Async(body, token);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.Equal("application/pem-certificate-chain", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.TryGetValues("SCT", out var sct), "the SCT header is always sent, as Fulcio does");
        Convert.FromBase64String(sct.Single());

        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(text);
        Assert.True(chain.Count >= 2, "leaf and at least its issuer");
        using var leaf = chain[0];
        Assert.Equal((1, "alice@example.com"), CaResponses.San(leaf));
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Contains(leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>(), static o => o.Value == "1.3.6.1.5.5.7.3.3");

        // What skopeo keeps: the first PEM block as the certificate, the rest as the chain, which the trust bundle is.
        var rootCert = await fixture.Ca.Rest.GetStringAsync("/api/v1/rootCert");
        Assert.Equal(rootCert, text[text.IndexOf("-----BEGIN CERTIFICATE-----", 20, StringComparison.Ordinal)..]);
    }

    [Fact]
    public async Task SigningCertV1_PemKeyContent_Returns201()
    {
        // cosign 1.x sent the key as PEM bytes; Fulcio reads PEM before DER.
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = SkopeoBody(key, Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem()), "alice@example.com");

        using var response = await PostV1Async(body, token);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCertV1_CertificateSigningRequest_Returns201ForTheCsrKey()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=ignored", key, HashAlgorithmName.SHA256);
        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["publicKey"] = new Dictionary<string, object?> { ["content"] = null },
            ["signedEmailAddress"] = null,
            ["certificateSigningRequest"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(csr.CreateSigningRequestPem())),
        });

        using var response = await PostV1Async(body, token);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var leaf = X509Certificate2.CreateFromPem(text);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task SigningCertV1_ProofByAnotherKey_Returns400WithTheV2Error()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = SkopeoBody(other, key.ExportSubjectPublicKeyInfo(), "alice@example.com");
        using var v2Key = new TestKey();
        using var v2Response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, v2Key.RequestJson(token, "someone-else"));

        using var response = await PostV1Async(body, token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (code, message) = CaResponses.Error(await response.Content.ReadAsStringAsync());
        Assert.Equal(InvalidArgument, code);
        Assert.Equal(CaResponses.Error(await v2Response.Content.ReadAsStringAsync()).Message, message);
        Assert.Contains("proof of possession", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no token", "no identity token")]
    [InlineData("not json", "not a valid Fulcio v1 CertificateRequest")]
    [InlineData("content not base64", "not a valid Fulcio v1 CertificateRequest")]
    [InlineData("no key and no csr", "neither publicKey.content nor certificateSigningRequest")]
    [InlineData("key that is not a key", "public key")]
    public async Task SigningCertV1_BadRequest_Returns400WithReason(string problem, string reason)
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var body = problem switch
        {
            "no token" => SkopeoBody(key, key.ExportSubjectPublicKeyInfo(), "alice@example.com"),
            "not json" => "{\"publicKey\":",
            "content not base64" => """{"publicKey":{"content":"***","algorithm":"ecdsa"},"signedEmailAddress":"AAAA"}""",
            "no key and no csr" => """{"publicKey":{"content":null,"algorithm":"ecdsa"},"signedEmailAddress":"AAAA","certificateSigningRequest":null}""",
            _ => SkopeoBody(key, [0x30, 0x03, 0x02, 0x01, 0x00], "alice@example.com"),
        };

        using var response = await PostV1Async(body, problem == "no token" ? null : token);

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (code, message) = CaResponses.Error(text);
        Assert.Equal(InvalidArgument, code);
        Assert.Contains(reason, message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningCertV1_BodyOverLimit_Returns413BeforeParsing()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        var body = "{\"publicKey\":{\"content\":\"" + new string('A', 4 * 1024 * 1024) + "\"}}";

        using var response = await PostV1Async(body, token);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task RootCertV1_Get_ReturnsTheV2TrustBundleAsPem()
    {
        using var response = await fixture.Ca.Rest.GetAsync("/api/v1/rootCert");
        var v2 = await fixture.Ca.Rest.GetStringAsync("/api/v2/trustBundle");

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pem-certificate-chain", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(v2);
        var expected = string.Concat(document.RootElement.GetProperty("chains").EnumerateArray()
            .SelectMany(static c => c.GetProperty("certificates").EnumerateArray()).Select(static c => c.GetString()));
        Assert.Equal(expected, text);
    }

    /// <summary>Go's json.Marshal of fulcio's <c>api.CertificateRequest</c> as skopeo fills it (field order, null CSR).</summary>
    private static string SkopeoBody(ECDsa prover, byte[] keyContent, string subject) =>
        "{\"publicKey\":{\"content\":\"" + Convert.ToBase64String(keyContent) + "\",\"algorithm\":\"ecdsa\"}," +
        "\"signedEmailAddress\":\"" + Convert.ToBase64String(prover.SignHash(SHA256.HashData(Encoding.UTF8.GetBytes(subject)), DSASignatureFormat.Rfc3279DerSequence)) + "\"," +
        "\"certificateSigningRequest\":null}";

    private async Task<HttpResponseMessage> PostV1Async(string body, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/signingCert")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        request.Headers.TryAddWithoutValidation("User-Agent", "containers/5.26.2 (github.com/containers/image)");
        return await fixture.Ca.Rest.SendAsync(request);
    }
}
