using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.CaService.Identity;

/// <summary>The <c>Identity</c> configuration section: which OIDC issuers the CA trusts and how tokens are bounded.</summary>
internal sealed class IdentityOptions
{
    public const string SectionName = "Identity";

    /// <summary>Trusted issuers. Merged with those of <see cref="IssuersFile"/>.</summary>
    public List<IssuerOptions> Issuers { get; init; } = [];

    /// <summary>A JSON file holding <c>{"issuers": [...]}</c> with the same shape as <see cref="Issuers"/>.</summary>
    public string? IssuersFile { get; set; }

    /// <summary>
    /// A directory whose <c>*.json</c> files each hold <c>{"issuers": [...]}</c>, merged with the others. It and
    /// <see cref="IssuersFile"/> are watched: a new, changed or removed file takes effect without a restart, and a
    /// configuration that does not validate is logged and leaves the last good one in force.
    /// </summary>
    public string? IssuersDirectory { get; set; }

    /// <summary>How often the issuer files are re-read even without a file-system notification (network file systems).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan IssuersCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Tokens longer than this are refused before any parsing.</summary>
    [Range(256, 1024 * 1024)]
    public int MaxTokenLength { get; set; } = 16 * 1024;

    /// <summary>How far in the future <c>nbf</c> may be (go-oidc allows 5 minutes). <c>exp</c> gets no leeway.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:30:00")]
    public TimeSpan NotBeforeLeeway { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Timeout of one discovery or JWKS fetch (Fulcio uses 10 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan DiscoveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often discovery documents and JWKS are refreshed even without an unknown <c>kid</c>.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The least time between two refreshes forced by an unknown <c>kid</c> (bounds refetch storms).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MinimumKeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Distinct concrete issuers matched by wildcard patterns whose keys are cached at once.</summary>
    [Range(1, 100_000)]
    public int MaxWildcardIssuers { get; set; } = 1024;
}

/// <summary>One trusted OIDC issuer.</summary>
internal sealed class IssuerOptions
{
    /// <summary>The exact <c>iss</c> value. Exactly one of this and <see cref="WildcardIssuerUrl"/>.</summary>
    public string? IssuerUrl { get; set; }

    /// <summary>An anchored pattern where each <c>*</c> matches one <c>[-_a-zA-Z0-9]+</c> segment.</summary>
    public string? WildcardIssuerUrl { get; set; }

    /// <summary>The required audience (Fulcio's client id).</summary>
    public string Audience { get; set; } = "sigstore";

    /// <summary>email, github-workflow, gitlab-pipeline, buildkite-job, kubernetes, spiffe, uri, username or ci-provider.</summary>
    public string? Type { get; set; }

    /// <summary>
    /// Accepted JWS algorithms. Empty means the discovery document's <c>id_token_signing_alg_values_supported</c>
    /// (RS256 when absent), always intersected with the asymmetric set; <c>none</c> and HS* are refused at start.
    /// </summary>
    public List<string> AllowedAlgorithms { get; init; } = [];

    /// <summary>uri issuers: scheme and host (<c>https://example.com</c>); username issuers: a host name.</summary>
    public string? SubjectDomain { get; set; }

    /// <summary>spiffe issuers: the trust domain every SPIFFE ID must belong to.</summary>
    public string? SpiffeTrustDomain { get; set; }

    /// <summary>A static JWKS file used instead of discovery (air-gapped sites).</summary>
    public string? JwksFile { get; set; }

    /// <summary>ci-provider issuers: templates from claims to the SAN and extensions.</summary>
    public CiProviderOptions? CiProvider { get; set; }

    /// <summary>Issuance policy: when a list is non-empty, the matching claim must be in it.</summary>
    public IssuancePolicyOptions? Policy { get; set; }

    public string? Description { get; set; }

    /// <summary>The file this issuer was read from (for messages); null for issuers of the configuration itself.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Source { get; internal set; }

    /// <summary>The configured URL or pattern, for messages and the configuration endpoint.</summary>
    public string Name => IssuerUrl ?? WildcardIssuerUrl ?? "";
}

/// <summary>How a token's claims become a certificate identity (Fulcio's issuer types).</summary>
internal enum IssuerType
{
    Email,
    GithubWorkflow,
    GitlabPipeline,
    BuildkiteJob,
    Kubernetes,
    Spiffe,
    Uri,
    Username,
    CiProvider,
}

/// <summary>The configuration and wire names of <see cref="IssuerType"/> (as in Fulcio's config).</summary>
internal static class IssuerTypeNames
{
    private static readonly Dictionary<string, IssuerType> _byName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["email"] = IssuerType.Email,
        ["github-workflow"] = IssuerType.GithubWorkflow,
        ["gitlab-pipeline"] = IssuerType.GitlabPipeline,
        ["buildkite-job"] = IssuerType.BuildkiteJob,
        ["kubernetes"] = IssuerType.Kubernetes,
        ["spiffe"] = IssuerType.Spiffe,
        ["uri"] = IssuerType.Uri,
        ["username"] = IssuerType.Username,
        ["ci-provider"] = IssuerType.CiProvider,
    };

    public static bool TryParse(string? name, out IssuerType type) => _byName.TryGetValue(name ?? "", out type);

    public static string ToName(this IssuerType type) => _byName.First(pair => pair.Value == type).Key;
}

/// <summary>
/// A generic CI provider (Fulcio's <c>ci-issuer-metadata</c>): Go-template-like strings where <c>{{ .claim }}</c>
/// is replaced by a claim value or a default template value; a referenced value that is absent fails the request.
/// </summary>
internal sealed class CiProviderOptions
{
    public string? Name { get; set; }

    /// <summary>Values available to templates when no claim of the same name exists (for example <c>url</c>).</summary>
    public Dictionary<string, string> DefaultTemplateValues { get; init; } = [];

    /// <summary>The URI SAN template, e.g. <c>{{ .url }}/{{ .job_workflow_ref }}</c>.</summary>
    public string? SubjectAlternativeNameTemplate { get; set; }

    /// <summary>Extension templates keyed by Fulcio name (<c>build-signer-uri</c>) or dotted OID.</summary>
    public Dictionary<string, string> ExtensionTemplates { get; init; } = [];
}

/// <summary>Allow rules evaluated on verified claims; an empty list allows everything.</summary>
internal sealed class IssuancePolicyOptions
{
    /// <summary>email issuers: allowed domains of the <c>email</c> claim (exact, case-insensitive).</summary>
    public List<string> EmailDomains { get; init; } = [];

    /// <summary>CI issuers: allowed repository owners (GitHub <c>repository_owner</c>, GitLab top-level group of
    /// <c>namespace_path</c>, Buildkite <c>organization_slug</c>, ci-provider <c>repository_owner</c>).</summary>
    public List<string> RepositoryOwners { get; init; } = [];

    /// <summary>kubernetes issuers: allowed namespaces.</summary>
    public List<string> Namespaces { get; init; } = [];
}
