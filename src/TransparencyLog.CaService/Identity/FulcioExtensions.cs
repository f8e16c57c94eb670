namespace TransparencyLog.CaService.Identity;

/// <summary>Fulcio's certificate extension OIDs (1.3.6.1.4.1.57264.1.x, certificate-authority.md §2.2).</summary>
internal static class FulcioExtensions
{
    public const string IssuerV1 = "1.3.6.1.4.1.57264.1.1";
    public const string GithubWorkflowTrigger = "1.3.6.1.4.1.57264.1.2";
    public const string GithubWorkflowSha = "1.3.6.1.4.1.57264.1.3";
    public const string GithubWorkflowName = "1.3.6.1.4.1.57264.1.4";
    public const string GithubWorkflowRepository = "1.3.6.1.4.1.57264.1.5";
    public const string GithubWorkflowRef = "1.3.6.1.4.1.57264.1.6";
    public const string OtherName = "1.3.6.1.4.1.57264.1.7";
    public const string Issuer = "1.3.6.1.4.1.57264.1.8";
    public const string BuildSignerUri = "1.3.6.1.4.1.57264.1.9";
    public const string BuildSignerDigest = "1.3.6.1.4.1.57264.1.10";
    public const string RunnerEnvironment = "1.3.6.1.4.1.57264.1.11";
    public const string SourceRepositoryUri = "1.3.6.1.4.1.57264.1.12";
    public const string SourceRepositoryDigest = "1.3.6.1.4.1.57264.1.13";
    public const string SourceRepositoryRef = "1.3.6.1.4.1.57264.1.14";
    public const string SourceRepositoryIdentifier = "1.3.6.1.4.1.57264.1.15";
    public const string SourceRepositoryOwnerUri = "1.3.6.1.4.1.57264.1.16";
    public const string SourceRepositoryOwnerIdentifier = "1.3.6.1.4.1.57264.1.17";
    public const string BuildConfigUri = "1.3.6.1.4.1.57264.1.18";
    public const string BuildConfigDigest = "1.3.6.1.4.1.57264.1.19";
    public const string BuildTrigger = "1.3.6.1.4.1.57264.1.20";
    public const string RunInvocationUri = "1.3.6.1.4.1.57264.1.21";
    public const string SourceRepositoryVisibilityAtSigning = "1.3.6.1.4.1.57264.1.22";
    public const string DeploymentEnvironment = "1.3.6.1.4.1.57264.1.23";
    public const string TokenSubject = "1.3.6.1.4.1.57264.1.24";

    /// <summary>Fulcio's <c>extension-templates</c> names (pkg/certificate/extensions.go YAML tags).</summary>
    private static readonly Dictionary<string, string> _byName = new(StringComparer.Ordinal)
    {
        ["github-workflow-trigger"] = GithubWorkflowTrigger,
        ["github-workflow-sha"] = GithubWorkflowSha,
        ["github-workflow-name"] = GithubWorkflowName,
        ["github-workflow-repository"] = GithubWorkflowRepository,
        ["github-workflow-ref"] = GithubWorkflowRef,
        ["build-signer-uri"] = BuildSignerUri,
        ["build-signer-digest"] = BuildSignerDigest,
        ["runner-environment"] = RunnerEnvironment,
        ["source-repository-uri"] = SourceRepositoryUri,
        ["source-repository-digest"] = SourceRepositoryDigest,
        ["source-repository-ref"] = SourceRepositoryRef,
        ["source-repository-identifier"] = SourceRepositoryIdentifier,
        ["source-repository-owner-uri"] = SourceRepositoryOwnerUri,
        ["source-repository-owner-identifier"] = SourceRepositoryOwnerIdentifier,
        ["build-config-uri"] = BuildConfigUri,
        ["build-config-digest"] = BuildConfigDigest,
        ["build-trigger"] = BuildTrigger,
        ["run-invocation-uri"] = RunInvocationUri,
        ["source-repository-visibility-at-signing"] = SourceRepositoryVisibilityAtSigning,
        ["deployment-environment"] = DeploymentEnvironment,
    };

    /// <summary>The OID of a template key (a Fulcio name or a dotted OID among 1.2–1.6, 1.9–1.23), or null.</summary>
    public static string? Resolve(string key) =>
        _byName.TryGetValue(key, out var oid) ? oid : _byName.ContainsValue(key) ? key : null;
}
