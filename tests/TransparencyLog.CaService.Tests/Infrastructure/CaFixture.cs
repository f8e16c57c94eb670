namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>
/// One development issuer per issuer type (each is its own OIDC issuer URL, as in production) and one CA that
/// trusts them all through discovery. Shared by the API test classes; tests never depend on each other's data.
/// </summary>
// The server properties are assigned in InitializeAsync, which xunit runs before any test sees the fixture.
public sealed class CaFixture : IAsyncLifetime
{
    public const string Collection = "ca";

    public DevIssuerServer Email { get; private set; } = null!;

    public DevIssuerServer Github { get; private set; } = null!;

    public DevIssuerServer Gitlab { get; private set; } = null!;

    public DevIssuerServer Buildkite { get; private set; } = null!;

    public DevIssuerServer Kubernetes { get; private set; } = null!;

    public DevIssuerServer Spiffe { get; private set; } = null!;

    public DevIssuerServer Uri { get; private set; } = null!;

    public DevIssuerServer Username { get; private set; } = null!;

    public DevIssuerServer CiProvider { get; private set; } = null!;

    /// <summary>Not configured exactly: trusted only through the wildcard <c>http://127.0.0.1:*</c>.</summary>
    public DevIssuerServer Wildcard { get; private set; } = null!;

    public CaServer Ca { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => DevIssuerServer.StartAsync()));
        (Email, Github, Gitlab, Buildkite, Kubernetes) = (servers[0], servers[1], servers[2], servers[3], servers[4]);
        (Spiffe, Uri, Username, CiProvider, Wildcard) = (servers[5], servers[6], servers[7], servers[8], servers[9]);
        Ca = CaServer.Start(Settings());
    }

    /// <summary>The CA settings trusting every issuer; <paramref name="extra"/> overrides or adds keys.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Api:RateLimits:PerAddressPermits"] = "0",
            ["Api:RateLimits:PerIdentityPermits"] = "0",
            ["Identity:Issuers:0:IssuerUrl"] = Email.Url,
            ["Identity:Issuers:0:Type"] = "email",
            ["Identity:Issuers:0:Policy:EmailDomains:0"] = "example.com",
            ["Identity:Issuers:1:IssuerUrl"] = Github.Url,
            ["Identity:Issuers:1:Type"] = "github-workflow",
            ["Identity:Issuers:1:Policy:RepositoryOwners:0"] = "octo-org",
            ["Identity:Issuers:2:IssuerUrl"] = Gitlab.Url,
            ["Identity:Issuers:2:Type"] = "gitlab-pipeline",
            ["Identity:Issuers:3:IssuerUrl"] = Buildkite.Url,
            ["Identity:Issuers:3:Type"] = "buildkite-job",
            ["Identity:Issuers:4:IssuerUrl"] = Kubernetes.Url,
            ["Identity:Issuers:4:Type"] = "kubernetes",
            ["Identity:Issuers:5:IssuerUrl"] = Spiffe.Url,
            ["Identity:Issuers:5:Type"] = "spiffe",
            ["Identity:Issuers:5:SpiffeTrustDomain"] = "example.org",
            ["Identity:Issuers:6:IssuerUrl"] = Uri.Url,
            ["Identity:Issuers:6:Type"] = "uri",
            ["Identity:Issuers:6:SubjectDomain"] = "http://127.0.0.1",
            ["Identity:Issuers:7:IssuerUrl"] = Username.Url,
            ["Identity:Issuers:7:Type"] = "username",
            ["Identity:Issuers:7:SubjectDomain"] = "127.0.0.1",
            ["Identity:Issuers:8:IssuerUrl"] = CiProvider.Url,
            ["Identity:Issuers:8:Type"] = "ci-provider",
            ["Identity:Issuers:8:CiProvider:Name"] = "acme-ci",
            ["Identity:Issuers:8:CiProvider:DefaultTemplateValues:url"] = "https://ci.acme.test",
            ["Identity:Issuers:8:CiProvider:SubjectAlternativeNameTemplate"] = "{{ .url }}/{{ .pipeline }}",
            ["Identity:Issuers:8:CiProvider:ExtensionTemplates:build-signer-uri"] = "{{ .url }}/{{ .pipeline }}",
            ["Identity:Issuers:8:CiProvider:ExtensionTemplates:runner-environment"] = "{{.runner}}",
            ["Identity:Issuers:8:CiProvider:ExtensionTemplates:1.3.6.1.4.1.57264.1.13"] = "{{ .commit }}",
            ["Identity:Issuers:9:WildcardIssuerUrl"] = "http://127.0.0.1:*",
            ["Identity:Issuers:9:Type"] = "email",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public async Task DisposeAsync()
    {
        await Ca.DisposeAsync();
        foreach (var server in new[] { Email, Github, Gitlab, Buildkite, Kubernetes, Spiffe, Uri, Username, CiProvider, Wildcard })
        {
            await server.DisposeAsync();
        }
    }
}

[CollectionDefinition(CaFixture.Collection)]
public sealed class CaCollection : ICollectionFixture<CaFixture>;
