using System.Text.Json;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Identity;

/// <summary>The principal mapping against the tables of certificate-authority.md §2.2/§2.3.</summary>
public sealed class PrincipalFactoryTests
{
    private const string Prefix = "1.3.6.1.4.1.57264.1.";

    private static TrustedIssuer Issuer(string type, Action<IssuerOptions>? configure = null)
    {
        var options = new IssuerOptions { IssuerUrl = "https://issuer.example", Type = type };
        configure?.Invoke(options);
        Assert.True(IssuerTypeNames.TryParse(type, out var parsed));
        return new TrustedIssuer(options, parsed, null, [], null);
    }

    private static TokenClaims Claims(object claims) =>
        new(JsonSerializer.SerializeToElement(claims));

    [Fact]
    public void Create_GithubWorkflow_MapsEveryExtensionOfTheTable()
    {
        var principal = PrincipalFactory.Create(Issuer("github-workflow"), "https://token.actions.githubusercontent.com", Claims(ClaimSets.Github()));

        Assert.Equal(new SubjectAlternativeName(SanKind.Uri, "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main"), principal.San);
        var expected = new Dictionary<string, string>
        {
            ["1"] = "https://token.actions.githubusercontent.com",
            ["2"] = "push",
            ["3"] = "2222222222222222222222222222222222222222",
            ["4"] = "Release",
            ["5"] = "octo-org/octo-repo",
            ["6"] = "refs/heads/main",
            ["8"] = "https://token.actions.githubusercontent.com",
            ["9"] = "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
            ["10"] = "1111111111111111111111111111111111111111",
            ["11"] = "github-hosted",
            ["12"] = "https://github.com/octo-org/octo-repo",
            ["13"] = "2222222222222222222222222222222222222222",
            ["14"] = "refs/heads/main",
            ["15"] = "123456",
            ["16"] = "https://github.com/octo-org",
            ["17"] = "7890",
            ["18"] = "https://github.com/octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main",
            ["19"] = "3333333333333333333333333333333333333333",
            ["20"] = "push",
            ["21"] = "https://github.com/octo-org/octo-repo/actions/runs/42/attempts/1",
            ["22"] = "public",
            ["23"] = "production",
            ["24"] = "repo:octo-org/octo-repo:ref:refs/heads/main",
        };
        Assert.Equal(expected.ToDictionary(p => Prefix + p.Key, p => p.Value), principal.Extensions);
        Assert.Equal(["repo:octo-org/octo-repo:ref:refs/heads/main"], principal.ChallengeCandidates);
    }

    [Fact]
    public void Create_GitlabPipeline_MapsTheGitlabFormulas()
    {
        var principal = PrincipalFactory.Create(Issuer("gitlab-pipeline"), "https://gitlab.example.com", Claims(ClaimSets.Gitlab()));

        Assert.Equal("https://gitlab.example.com/group/project//.gitlab-ci.yml@refs/heads/main", principal.San.Value);
        var e = principal.Extensions;
        Assert.Equal("https://gitlab.example.com/group/project//.gitlab-ci.yml@refs/heads/main", e[Prefix + "9"]);
        Assert.Equal("4444444444444444444444444444444444444444", e[Prefix + "10"]);
        Assert.Equal("gitlab-hosted", e[Prefix + "11"]);
        Assert.Equal("https://gitlab.example.com/group/project", e[Prefix + "12"]);
        Assert.Equal("5555555555555555555555555555555555555555", e[Prefix + "13"]);
        Assert.Equal("refs/heads/main", e[Prefix + "14"]);
        Assert.Equal("66", e[Prefix + "15"]);
        Assert.Equal("https://gitlab.example.com/group", e[Prefix + "16"]);
        Assert.Equal("55", e[Prefix + "17"]);
        Assert.Equal("push", e[Prefix + "20"]);
        Assert.Equal("https://gitlab.example.com/group/project/-/jobs/2002", e[Prefix + "21"]);
        Assert.Equal("private", e[Prefix + "22"]);
        Assert.DoesNotContain(Prefix + "2", e.Keys);
    }

    [Fact]
    public void Create_GitlabTagRef_PrefixesRefsTags()
    {
        var claims = ClaimSets.Gitlab();
        claims["ref_type"] = "tag";
        claims["ref"] = "v1.0.0";

        var principal = PrincipalFactory.Create(Issuer("gitlab-pipeline"), "https://gitlab.com", Claims(claims));

        Assert.Equal("refs/tags/v1.0.0", principal.Extensions[Prefix + "14"]);
    }

    [Theory]
    [InlineData("merge_request")]
    [InlineData("")]
    public void Create_GitlabRefTypeNotBranchOrTag_Throws(string refType)
    {
        var claims = ClaimSets.Gitlab();
        claims["ref_type"] = refType;

        var error = Assert.Throws<CaException>(() => PrincipalFactory.Create(Issuer("gitlab-pipeline"), "https://gitlab.com", Claims(claims)));
        Assert.Contains("ref_type", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> GithubClaims => [.. ClaimSets.Github().Keys.Where(k => k is not ("sub" or "environment"))];

    [Theory]
    [MemberData(nameof(GithubClaims))]
    public void Create_GithubRequiredClaimMissing_ThrowsMissingClaimNamingIt(string claim)
    {
        var claims = ClaimSets.Github();
        claims.Remove(claim);

        var error = Assert.Throws<CaException>(() => PrincipalFactory.Create(Issuer("github-workflow"), "https://i", Claims(claims)));
        Assert.Equal(CaErrorCode.MissingClaim, error.Code);
        Assert.Equal($"claim '{claim}' is missing", error.Message);
    }

    public static TheoryData<string> GitlabClaims => [.. ClaimSets.Gitlab().Keys.Where(k => k is not ("sub" or "ci_config_sha" or "project_visibility"))];

    [Theory]
    [MemberData(nameof(GitlabClaims))]
    public void Create_GitlabRequiredClaimMissing_ThrowsMissingClaimNamingIt(string claim)
    {
        var claims = ClaimSets.Gitlab();
        claims.Remove(claim);

        var error = Assert.Throws<CaException>(() => PrincipalFactory.Create(Issuer("gitlab-pipeline"), "https://i", Claims(claims)));
        Assert.Equal($"claim '{claim}' is missing", error.Message);
    }

    [Fact]
    public void Create_Email_UsesEmailSanAndBothChallengeCandidates()
    {
        var principal = PrincipalFactory.Create(Issuer("email"), "https://accounts.example",
            Claims(new { email = "alice@example.com", email_verified = true, sub = "1234" }));

        Assert.Equal(new SubjectAlternativeName(SanKind.Email, "alice@example.com"), principal.San);
        Assert.Equal(["alice@example.com", "1234"], principal.ChallengeCandidates);
        Assert.Equal("1234", principal.Extensions[Prefix + "24"]);
        Assert.Equal(principal.Extensions[Prefix + "1"], principal.Extensions[Prefix + "8"]);
    }

    [Theory]
    [InlineData("\"true\"")]
    [InlineData("\"yes\"")]
    [InlineData("1")]
    [InlineData("false")]
    public void Create_EmailVerifiedNotJsonTrue_Throws(string verified)
    {
        var claims = new TokenClaims(JsonDocument.Parse($$"""{"email":"a@example.com","email_verified":{{verified}}}""").RootElement);

        var error = Assert.Throws<CaException>(() => PrincipalFactory.Create(Issuer("email"), "https://i", claims));
        Assert.Contains("email_verified", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-an-email")]
    [InlineData("a@b@example.com")]
    [InlineData("@example.com")]
    public void Create_MalformedEmail_Throws(string email)
    {
        var error = Assert.Throws<CaException>(() => PrincipalFactory.Create(Issuer("email"), "https://i", Claims(new { email, email_verified = true })));
        Assert.Equal("claim 'email' is not an email address", error.Message);
    }

    [Fact]
    public void Create_Buildkite_BuildsPipelineUri()
    {
        var principal = PrincipalFactory.Create(Issuer("buildkite-job"), "https://agent.buildkite.com", Claims(ClaimSets.Buildkite()));
        Assert.Equal("https://buildkite.com/acme/widgets", principal.San.Value);
    }

    [Fact]
    public void Create_Kubernetes_ReadsTheKubernetesIoObject()
    {
        var principal = PrincipalFactory.Create(Issuer("kubernetes"), "https://kubernetes.default.svc", Claims(ClaimSets.Kubernetes()));
        Assert.Equal("https://kubernetes.io/namespaces/prod/serviceaccounts/signer", principal.San.Value);
    }

    [Theory]
    [InlineData("spiffe://example.org/ns/prod", true)]
    [InlineData("spiffe://other.org/ns/prod", false)]
    [InlineData("spiffe://example.org", false)]
    [InlineData("spiffe://example.org/", false)]
    [InlineData("spiffe://example.org/ns/../admin", false)]
    [InlineData("spiffe://example.org/ns?x=1", false)]
    [InlineData("https://example.org/ns", false)]
    public void Create_Spiffe_AcceptsOnlyIdsInTheTrustDomain(string sub, bool valid)
    {
        var issuer = Issuer("spiffe", o => o.SpiffeTrustDomain = "example.org");
        if (valid)
        {
            Assert.Equal(new SubjectAlternativeName(SanKind.Uri, sub), PrincipalFactory.Create(issuer, "https://i", Claims(new { sub })).San);
        }
        else
        {
            Assert.Throws<CaException>(() => PrincipalFactory.Create(issuer, "https://i", Claims(new { sub })));
        }
    }

    [Theory]
    [InlineData("https://example.com/users/alice", true)]
    [InlineData("http://example.com/users/alice", false)]
    [InlineData("https://evil.example/users/alice", false)]
    [InlineData("https://alice@example.com/", false)]
    [InlineData("alice", false)]
    public void Create_Uri_RequiresSchemeAndHostOfSubjectDomain(string sub, bool valid)
    {
        var issuer = Issuer("uri", o => o.SubjectDomain = "https://example.com");
        if (valid)
        {
            Assert.Equal(sub, PrincipalFactory.Create(issuer, "https://i", Claims(new { sub })).San.Value);
        }
        else
        {
            Assert.Throws<CaException>(() => PrincipalFactory.Create(issuer, "https://i", Claims(new { sub })));
        }
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("alice!evil.example", false)]
    [InlineData("alice@example.com", false)]
    public void Create_Username_BuildsOtherNameAndRefusesBangOrAt(string sub, bool valid)
    {
        var issuer = Issuer("username", o => o.SubjectDomain = "example.com");
        if (valid)
        {
            Assert.Equal(new SubjectAlternativeName(SanKind.Username, "alice!example.com"), PrincipalFactory.Create(issuer, "https://i", Claims(new { sub })).San);
        }
        else
        {
            Assert.Throws<CaException>(() => PrincipalFactory.Create(issuer, "https://i", Claims(new { sub })));
        }
    }

    [Fact]
    public void Create_CiProvider_ExpandsTemplatesFromClaimsAndDefaults()
    {
        var issuer = Issuer("ci-provider", o => o.CiProvider = new CiProviderOptions
        {
            DefaultTemplateValues = { ["url"] = "https://ci.acme.test" },
            SubjectAlternativeNameTemplate = "{{ .url }}/{{ .pipeline }}",
            ExtensionTemplates = { ["build-signer-uri"] = "{{ .url }}/{{.pipeline}}", ["1.3.6.1.4.1.57264.1.13"] = "{{ .commit }}" },
        });

        var principal = PrincipalFactory.Create(issuer, "https://i", Claims(ClaimSets.CiProvider()));

        Assert.Equal("https://ci.acme.test/widgets", principal.San.Value);
        Assert.Equal("https://ci.acme.test/widgets", principal.Extensions[Prefix + "9"]);
        Assert.Equal("6666666666666666666666666666666666666666", principal.Extensions[Prefix + "13"]);
    }

    [Fact]
    public void Create_CiProviderTemplateReferencesAbsentClaim_ThrowsMissingClaim()
    {
        var issuer = Issuer("ci-provider", o => o.CiProvider = new CiProviderOptions { SubjectAlternativeNameTemplate = "https://ci/{{ .nope }}" });

        var error = Assert.Throws<CaException>(() => PrincipalFactory.Create(issuer, "https://i", Claims(ClaimSets.CiProvider())));
        Assert.Equal("claim 'nope' is missing", error.Message);
    }
}
