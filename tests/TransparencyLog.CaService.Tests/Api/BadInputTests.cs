using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>The identity part of the bad-input list of certificate-authority.md §6, over real HTTP.</summary>
[Collection(CaFixture.Collection)]
public sealed class BadInputTests(CaFixture fixture)
{
    private const int InvalidArgument = 3;
    private const int PermissionDenied = 7;
    private const int ResourceExhausted = 8;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Theory]
    [InlineData("nodots")]
    [InlineData("one.dot")]
    [InlineData("t.h.r.e.e")]
    [InlineData("a.b.c.d")]
    public async Task SigningCert_TokenWithoutExactlyTwoDots_Returns400(string token)
    {
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "expected three dot-separated parts");
    }

    [Fact]
    public async Task SigningCert_TokenOfTenThousandDots_Returns400WithoutSplitting()
    {
        await AssertRejectedAsync(new string('.', 10_000), HttpStatusCode.BadRequest, InvalidArgument, "expected three dot-separated parts");
    }

    [Fact]
    public async Task SigningCert_PayloadNotBase64Url_Returns400()
    {
        await AssertRejectedAsync("eyJhbGciOiJFUzI1NiJ9.@@not*base64@@.c2ln", HttpStatusCode.BadRequest, InvalidArgument, "payload is not base64url");
    }

    [Fact]
    public async Task SigningCert_PayloadNotJson_Returns400()
    {
        await AssertRejectedAsync("eyJhbGciOiJFUzI1NiJ9." + Jws.EncodeRaw("this is not json") + ".c2ln",
            HttpStatusCode.BadRequest, InvalidArgument, "payload is not JSON");
    }

    [Theory]
    [InlineData("payload", "{\"iss\":\"#\"}")]
    [InlineData("payload", "{\"#\":1}")]
    [InlineData("header", "{\"alg\":\"#\"}")]
    public async Task SigningCert_TokenJsonNotUtf8_Returns400(string part, string template)
    {
        var json = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(template).Select(b => b == (byte)'#' ? (byte)0xFF : b).ToArray());
        var token = part == "payload" ? "eyJhbGciOiJFUzI1NiJ9." + json + ".c2ln" : json + "." + Jws.EncodeRaw("{}") + ".c2ln";
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, part + " is not UTF-8 JSON");
    }

    [Fact]
    public async Task SigningCert_BodyNotUtf8_Returns400()
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"credentials\":{\"oidcIdentityToken\":\"#\"}}").Select(b => b == (byte)'#' ? (byte)0xFF : b).ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await fixture.Ca.Rest.PostAsync("/api/v2/signingCert", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Equal(InvalidArgument, CaResponses.Error(body).Code);
    }

    [Fact]
    public async Task SigningCert_PayloadWithDuplicatedIss_Returns400()
    {
        var payload = Jws.EncodeRaw($$"""{"iss":"{{fixture.Email.Url}}","iss":"https://other.example"}""");
        await AssertRejectedAsync("eyJhbGciOiJFUzI1NiJ9." + payload + ".c2ln", HttpStatusCode.BadRequest, InvalidArgument, "duplicated member");
    }

    [Fact]
    public async Task SigningCert_IssMissing_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new Dictionary<string, object?> { ["iss"] = null });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'iss' is missing");
    }

    [Fact]
    public async Task SigningCert_IssUnknown_Returns400NamingTheIssuer()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { iss = "https://unknown.example" });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "issuer 'https://unknown.example' is not configured");
    }

    [Theory]
    [InlineData("http://127.0.0.1:1?https://evil.example")]
    [InlineData("http://127.0.0.1:1#frag")]
    [InlineData("http://127.0.0.1:user@evil.example")]
    [InlineData("http://127.0.0.1:1/evil")]
    [InlineData("http://127.0.0.1:1.evil.example")]
    [InlineData("http://127.0.0.1:1\n")]
    [InlineData("http://evil.example/?http://127.0.0.1:1")]
    public async Task SigningCert_WildcardEscapeAttempt_Returns400NotConfigured(string iss)
    {
        // Signed by a trusted issuer's key, so only the pattern stands between the claim and a discovery fetch.
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { iss });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "is not configured");
    }

    [Fact]
    public async Task SigningCert_AudienceOther_Returns400NamingTheAudience()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", aud: "other-client");
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "audience 'other-client' is not accepted");
    }

    [Fact]
    public async Task SigningCert_AudienceAbsent_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new Dictionary<string, object?> { ["aud"] = null });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'aud' is missing");
    }

    [Fact]
    public async Task SigningCert_AudienceArrayContainingSigstore_Returns201()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { aud = new[] { "other", "sigstore" } });
        using var key = new TestKey();
        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, "alice@example.com"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_ExpMissing_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new Dictionary<string, object?> { ["exp"] = null });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'exp' is missing");
    }

    [Fact]
    public async Task SigningCert_ExpInThePast_Returns400TokenHasExpired()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { exp = Now - 5, iat = Now - 600, nbf = Now - 600 });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "token has expired");
    }

    [Fact]
    public async Task SigningCert_NotBeforeBeyondLeeway_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { nbf = Now + 3600, exp = Now + 4000 });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "not valid yet");
    }

    [Fact]
    public async Task SigningCert_NotBeforeWithinLeeway_Returns201()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { nbf = Now + 120 });
        using var key = new TestKey();
        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, "alice@example.com"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_AlgNone_Returns400()
    {
        var valid = await fixture.Email.MintAsync(email: "alice@example.com");
        var token = Jws.WithHeader(valid, new { alg = "none", typ = "JWT" });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "signing algorithm 'none' is not accepted");
    }

    [Fact]
    public async Task SigningCert_Hs256SignedWithJwksKeyMaterial_Returns400()
    {
        var valid = await fixture.Email.MintAsync(email: "alice@example.com");
        var jwks = await fixture.Email.JwksAsync();
        var kid = JsonDocument.Parse(jwks).RootElement.GetProperty("keys")[0].GetProperty("kid").GetString();
        var token = Jws.SignHs256(new { alg = "HS256", kid }, valid.Split('.')[1], Encoding.UTF8.GetBytes(jwks));
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "signing algorithm 'HS256' is not accepted");
    }

    [Fact]
    public async Task SigningCert_UnknownKidStillUnknownAfterRefresh_Returns400NamingTheKid()
    {
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var token = Jws.SignEs256(attacker, new { alg = "ES256", kid = "attacker-key" }, Payload(fixture.Email.Url, "alice@example.com"));
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "signing key 'attacker-key' is not in the JWKS");
    }

    [Fact]
    public async Task SigningCert_KnownKidForgedSignature_Returns400()
    {
        var jwks = await fixture.Email.JwksAsync();
        var kid = JsonDocument.Parse(jwks).RootElement.GetProperty("keys")[0].GetProperty("kid").GetString();
        using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var token = Jws.SignEs256(attacker, new { alg = "ES256", kid }, Payload(fixture.Email.Url, "alice@example.com"));
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "signature is invalid");
    }

    [Fact]
    public async Task SigningCert_EmailVerifiedFalse_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", emailVerified: false);
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'email_verified' is not true");
    }

    [Fact]
    public async Task SigningCert_EmailVerifiedStringFalse_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { email_verified = "false" });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'email_verified' is not true");
    }

    [Fact]
    public async Task SigningCert_EmailVerifiedMissing_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new Dictionary<string, object?> { ["email_verified"] = null });
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'email_verified' is missing");
    }

    [Fact]
    public async Task SigningCert_KubernetesWithoutNamespace_Returns400()
    {
        var claims = ClaimSets.Kubernetes();
        claims["kubernetes.io"] = new { serviceaccount = new { name = "signer" } };
        var token = await fixture.Kubernetes.MintAsync(claims: claims);
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'kubernetes.io.namespace' is missing", "system:serviceaccount:prod:signer");
    }

    [Fact]
    public async Task SigningCert_KubernetesWithoutServiceAccount_Returns400()
    {
        var claims = ClaimSets.Kubernetes();
        claims["kubernetes.io"] = new { @namespace = "prod" };
        var token = await fixture.Kubernetes.MintAsync(claims: claims);
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'kubernetes.io.serviceaccount.name' is missing", "system:serviceaccount:prod:signer");
    }

    [Fact]
    public async Task SigningCert_GithubWithoutRepository_Returns400NamingTheClaim()
    {
        var claims = ClaimSets.Github();
        claims["repository"] = null;
        var token = await fixture.Github.MintAsync(claims: claims);
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "claim 'repository' is missing", (string)claims["sub"]!);
    }

    [Fact]
    public async Task SigningCert_EmailDomainOutsidePolicy_Returns403()
    {
        var token = await fixture.Email.MintAsync(email: "mallory@evil.test");
        await AssertRejectedAsync(token, HttpStatusCode.Forbidden, PermissionDenied, "email domain 'evil.test' is not allowed", "mallory@evil.test");
    }

    [Fact]
    public async Task SigningCert_RepositoryOwnerOutsidePolicy_Returns403()
    {
        var claims = ClaimSets.Github();
        claims["repository_owner"] = "someone-else";
        var token = await fixture.Github.MintAsync(claims: claims);
        await AssertRejectedAsync(token, HttpStatusCode.Forbidden, PermissionDenied, "repository owner 'someone-else' is not allowed", (string)claims["sub"]!);
    }

    [Fact]
    public async Task SigningCert_ProofOverAnotherString_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "proof of possession does not verify", "bob@example.com");
    }

    [Fact]
    public async Task SigningCert_TokenLongerThanLimit_Returns400()
    {
        var valid = await fixture.Email.MintAsync(email: "alice@example.com");
        var token = valid + new string('A', 17 * 1024);
        await AssertRejectedAsync(token, HttpStatusCode.BadRequest, InvalidArgument, "longer than 16384 characters");
    }

    [Fact]
    public async Task SigningCert_BodyLargerThanLimit_Returns413()
    {
        var json = JsonSerializer.Serialize(new { credentials = new { oidcIdentityToken = new string('.', 100_000) } });
        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, json);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var (code, message) = CaResponses.Error(await response.Content.ReadAsStringAsync());
        Assert.Equal(ResourceExhausted, code);
        Assert.Contains("larger than 65536 bytes", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningCert_NoTokenAnywhere_Returns400()
    {
        using var key = new TestKey();
        await AssertRejectedAsync(null, HttpStatusCode.BadRequest, InvalidArgument, "no identity token");
    }

    [Fact]
    public async Task SigningCert_BodyNotJson_Returns400()
    {
        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, "{not json");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid CreateSigningCertificateRequest", CaResponses.Error(await response.Content.ReadAsStringAsync()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningCert_BothPublicKeyAndCsr_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var json = JsonSerializer.Serialize(new
        {
            credentials = new { oidcIdentityToken = token },
            publicKeyRequest = new { publicKey = new { content = key.PublicKeyPem }, proofOfPossession = key.Prove("alice@example.com") },
            certificateSigningRequest = "AAAA",
        });
        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(token, body, StringComparison.Ordinal);
    }

    private static Dictionary<string, object?> Payload(string iss, string email) => new()
    {
        ["iss"] = iss,
        ["sub"] = email,
        ["aud"] = "sigstore",
        ["exp"] = Now + 600,
        ["iat"] = Now,
        ["email"] = email,
        ["email_verified"] = true,
    };

    /// <summary>Sends the token in the body, as sigstore-js does, and checks status, gRPC code, message and that
    /// nothing of the token comes back.</summary>
    private async Task AssertRejectedAsync(string? token, HttpStatusCode status, int code, string message, string challenge = "alice@example.com")
    {
        using var key = new TestKey();
        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, challenge));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = CaResponses.Error(body);
        Assert.Equal(code, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        if (token is { Length: > 16 })
        {
            Assert.DoesNotContain(token, body, StringComparison.Ordinal);
            foreach (var part in token.Split('.').Where(part => part.Length > 16))
            {
                Assert.DoesNotContain(part, body, StringComparison.Ordinal);
            }
        }
    }
}
