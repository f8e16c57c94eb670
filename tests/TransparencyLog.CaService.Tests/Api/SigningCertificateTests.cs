using System.Net;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

[Collection(CaFixture.Collection)]
public sealed class SigningCertificateTests(CaFixture fixture)
{
    public static TheoryData<string> IssuerTypes => new()
    {
        "email", "github-workflow", "gitlab-pipeline", "buildkite-job", "kubernetes", "spiffe", "uri", "username", "ci-provider", "wildcard-email",
    };

    [Theory]
    [MemberData(nameof(IssuerTypes))]
    public async Task SigningCert_ValidTokenOfEachIssuerType_Returns201WithLeafCarryingTheExpectedSan(string type)
    {
        var (server, claims, challenge, expectedTag, expectedSan) = type switch
        {
            "email" => (fixture.Email, null, "alice@example.com", 1, "alice@example.com"),
            "github-workflow" => (fixture.Github, ClaimSets.Github(), (string)ClaimSets.Github()["sub"]!, 6,
                "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main"),
            "gitlab-pipeline" => (fixture.Gitlab, ClaimSets.Gitlab(), (string)ClaimSets.Gitlab()["sub"]!, 6,
                "https://gitlab.example.com/group/project//.gitlab-ci.yml@refs/heads/main"),
            "buildkite-job" => (fixture.Buildkite, ClaimSets.Buildkite(), (string)ClaimSets.Buildkite()["sub"]!, 6,
                "https://buildkite.com/acme/widgets"),
            "kubernetes" => (fixture.Kubernetes, ClaimSets.Kubernetes(), "system:serviceaccount:prod:signer", 6,
                "https://kubernetes.io/namespaces/prod/serviceaccounts/signer"),
            "spiffe" => (fixture.Spiffe, new Dictionary<string, object?> { ["sub"] = "spiffe://example.org/ns/prod/sa/signer" },
                "spiffe://example.org/ns/prod/sa/signer", 6, "spiffe://example.org/ns/prod/sa/signer"),
            "uri" => (fixture.Uri, new Dictionary<string, object?> { ["sub"] = "http://127.0.0.1/users/alice" },
                "http://127.0.0.1/users/alice", 6, "http://127.0.0.1/users/alice"),
            "username" => (fixture.Username, new Dictionary<string, object?> { ["sub"] = "alice" }, "alice", 0, "alice!127.0.0.1"),
            "ci-provider" => (fixture.CiProvider, ClaimSets.CiProvider(), "pipeline:widgets", 6, "https://ci.acme.test/widgets"),
            _ => (fixture.Wildcard, null, "carol@example.net", 1, "carol@example.net"),
        };
        var email = type switch { "email" => "alice@example.com", "wildcard-email" => "carol@example.net", _ => null };
        var token = await server.MintAsync(email: email, claims: claims);
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, challenge));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var leaf = CaResponses.Leaf(body);
        Assert.Equal((expectedTag, expectedSan), CaResponses.San(leaf));
    }

    [Fact]
    public async Task SigningCert_TokenOnlyInAuthorizationHeader_Returns201()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(null, "alice@example.com"), bearer: token);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_TokenInBodyAndGarbageInHeader_BodyWinsAndReturns201()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, "alice@example.com"), bearer: "not-a-token");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_ProofOverSubInsteadOfEmail_Returns201()
    {
        // sign 3.x signs sub unless the issuer is Google or sigstore's Dex.
        var token = await fixture.Email.MintAsync(email: "alice@example.com", sub: "user-123");
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, "user-123"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_UnknownFieldsAndUnknownEnumName_AreIgnoredAndReturn201()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var json = $$$"""
            {"credentials":{"oidcIdentityToken":{{{JsonSerializer.Serialize(token)}}},"futureField":true},
             "publicKeyRequest":{"publicKey":{"algorithm":"RSA","content":{{{JsonSerializer.Serialize(key.PublicKeyPem)}}},"extra":[1,2]},
                                 "proofOfPossession":"{{{key.Prove("alice@example.com")}}}"},
             "somethingNew":{"nested":{"deep":1} } }
            """;

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    // Found by fuzzing (scripts/fuzz.sh ca-signing-request): a repeated member name threw ArgumentException from
    // JsonObject and the CA answered 500.
    [Fact]
    public async Task SigningCert_RepeatedMemberName_Returns400()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var json = $$$"""
            {"credentials":{"oidcIdentityToken":{{{JsonSerializer.Serialize(token)}}}},
             "publicKeyRequest":{"publicKey":{"algorithm":"ECDSA","content":"a","content":{{{JsonSerializer.Serialize(key.PublicKeyPem)}}}},
                                 "proofOfPossession":"{{{key.Prove("alice@example.com")}}}"}}
            """;

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, json);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Contains("not a valid CreateSigningCertificateRequest", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningCert_ProtoFieldNames_AreAcceptedAndReturn201()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var json = JsonSerializer.Serialize(new
        {
            credentials = new { oidc_identity_token = token },
            public_key_request = new
            {
                public_key = new { algorithm = "ECDSA", content = key.PublicKeyPem },
                proof_of_possession = key.Prove("alice@example.com"),
            },
        });

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_Issued_WritesOneAuditEventWithoutTheToken()
    {
        var token = await fixture.Email.MintAsync(email: "audit@example.com");
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(fixture.Ca.Rest, key.RequestJson(token, "audit@example.com"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var audit = Assert.Single(fixture.Ca.Logs.Events, e => e.Id.Id == 1000 && e.Message.Contains("audit@example.com", StringComparison.Ordinal));
        var fields = audit.State.ToDictionary(pair => pair.Key, pair => pair.Value);
        Assert.Equal(fixture.Email.Url, fields["Issuer"]);
        Assert.Equal("audit@example.com", fields["Identity"]);
        Assert.Equal(64, ((string?)fields["KeyFingerprint"])?.Length);
        Assert.False(string.IsNullOrEmpty((string?)fields["Serial"]));
        Assert.True(fields.ContainsKey("SctLogIndex"));
        Assert.DoesNotContain(fixture.Ca.Logs.Events, e => e.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TrustBundle_Get_ReturnsChainsOfPemCertificates()
    {
        var json = await fixture.Ca.Rest.GetStringAsync("/api/v2/trustBundle");

        using var document = JsonDocument.Parse(json);
        var chains = document.RootElement.GetProperty("chains");
        Assert.True(chains.GetArrayLength() >= 1);
        foreach (var certificate in chains[0].GetProperty("certificates").EnumerateArray())
        {
            Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", certificate.GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Configuration_Get_ListsEveryIssuerWithFulcioFieldsAndDefaults()
    {
        var json = await fixture.Ca.Rest.GetStringAsync("/api/v2/configuration");

        using var document = JsonDocument.Parse(json);
        var issuers = document.RootElement.GetProperty("issuers").EnumerateArray().ToList();
        Assert.Equal(10, issuers.Count);
        var email = issuers.Single(i => i.TryGetProperty("issuerUrl", out var url) && url.GetString() == fixture.Email.Url);
        Assert.Equal("sigstore", email.GetProperty("audience").GetString());
        Assert.Equal("email", email.GetProperty("challengeClaim").GetString());
        Assert.Equal("email", email.GetProperty("issuerType").GetString());
        Assert.Equal("", email.GetProperty("spiffeTrustDomain").GetString());
        Assert.False(email.GetProperty("skipEmailVerification").GetBoolean());
        var wildcard = issuers.Single(i => i.TryGetProperty("wildcardIssuerUrl", out _));
        Assert.Equal("http://127.0.0.1:*", wildcard.GetProperty("wildcardIssuerUrl").GetString());
        Assert.Equal("sub", issuers.Single(i => i.GetProperty("issuerType").GetString() == "spiffe").GetProperty("challengeClaim").GetString());
    }

    [Fact]
    public async Task Healthz_Get_ReturnsOk()
    {
        Assert.Equal("ok", await fixture.Ca.Rest.GetStringAsync("/healthz"));
    }
}
