using System.Text;
using System.Text.Json;
using TransparencyLog.CaService.Errors;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// Turns the verified claims of a token into a <see cref="Principal"/>, per issuer type (Fulcio
/// <c>pkg/identity/*/principal.go</c>; the table of certificate-authority.md §2.3). Every required claim that is
/// absent fails with <see cref="CaErrorCode.MissingClaim"/> naming it.
/// </summary>
internal static class PrincipalFactory
{
    private const string GithubUrl = "https://github.com";

    private static readonly string[] GithubRequired =
    [
        "job_workflow_ref", "sha", "event_name", "repository", "workflow", "ref", "job_workflow_sha",
        "runner_environment", "repository_id", "repository_owner", "repository_owner_id", "repository_visibility",
        "workflow_ref", "workflow_sha", "run_id", "run_attempt",
    ];

    private static readonly string[] GitlabRequired =
    [
        "project_path", "pipeline_source", "pipeline_id", "ci_config_ref_uri", "job_id", "ref", "ref_type",
        "namespace_path", "namespace_id", "project_id", "sha", "runner_environment", "runner_id",
    ];

    public static Principal Create(TrustedIssuer issuer, string iss, TokenClaims claims)
    {
        var extensions = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // 1.1 and 1.8 carry the same value: cosign's legacy checks and Kyverno read only 1.1.
            [FulcioExtensions.IssuerV1] = iss,
            [FulcioExtensions.Issuer] = iss,
        };
        var sub = claims.GetString("sub");
        if (!string.IsNullOrEmpty(sub))
        {
            extensions[FulcioExtensions.TokenSubject] = sub;
        }

        var san = issuer.Type switch
        {
            IssuerType.Email => Email(claims),
            IssuerType.GithubWorkflow => Github(issuer, claims, extensions),
            IssuerType.GitlabPipeline => Gitlab(issuer, iss, claims, extensions),
            IssuerType.BuildkiteJob => Buildkite(claims),
            IssuerType.Kubernetes => Kubernetes(claims),
            IssuerType.Spiffe => Spiffe(issuer, claims),
            IssuerType.Uri => UriSubject(issuer, claims),
            IssuerType.Username => Username(issuer, claims),
            IssuerType.CiProvider => CiProvider(issuer, claims, extensions),
            _ => throw new CaException(CaErrorCode.Internal, "issuer type is not supported"),
        };

        var candidates = new List<string>(2);
        if (claims.GetString("email") is { Length: > 0 } email)
        {
            candidates.Add(email);
        }

        if (!string.IsNullOrEmpty(sub) && !candidates.Contains(sub))
        {
            candidates.Add(sub);
        }

        return new Principal(iss, san, candidates, extensions);
    }

    private static SubjectAlternativeName Email(TokenClaims claims)
    {
        var email = claims.GetRequiredString("email");
        if (!claims.Root.TryGetProperty("email_verified", out var verified))
        {
            throw TokenClaims.Missing("email_verified");
        }

        // Only the JSON literal true: "true" as a string, 1 or "yes" are what a misconfigured issuer sends.
        if (verified.ValueKind != JsonValueKind.True)
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'email_verified' is not true: the email address is not verified");
        }

        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != email.LastIndexOf('@') || at == email.Length - 1 || email.Any(char.IsWhiteSpace))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'email' is not an email address");
        }

        return new SubjectAlternativeName(SanKind.Email, email);
    }

    private static SubjectAlternativeName Github(TrustedIssuer issuer, TokenClaims claims, Dictionary<string, string> extensions)
    {
        var c = RequireAll(claims, GithubRequired);
        var url = TemplateDefault(issuer, "url") ?? GithubUrl;
        Add(extensions, FulcioExtensions.GithubWorkflowTrigger, c["event_name"]);
        Add(extensions, FulcioExtensions.GithubWorkflowSha, c["sha"]);
        Add(extensions, FulcioExtensions.GithubWorkflowName, c["workflow"]);
        Add(extensions, FulcioExtensions.GithubWorkflowRepository, c["repository"]);
        Add(extensions, FulcioExtensions.GithubWorkflowRef, c["ref"]);
        Add(extensions, FulcioExtensions.BuildSignerUri, Join(url, c["job_workflow_ref"]));
        Add(extensions, FulcioExtensions.BuildSignerDigest, c["job_workflow_sha"]);
        Add(extensions, FulcioExtensions.RunnerEnvironment, c["runner_environment"]);
        Add(extensions, FulcioExtensions.SourceRepositoryUri, Join(url, c["repository"]));
        Add(extensions, FulcioExtensions.SourceRepositoryDigest, c["sha"]);
        Add(extensions, FulcioExtensions.SourceRepositoryRef, c["ref"]);
        Add(extensions, FulcioExtensions.SourceRepositoryIdentifier, c["repository_id"]);
        Add(extensions, FulcioExtensions.SourceRepositoryOwnerUri, Join(url, c["repository_owner"]));
        Add(extensions, FulcioExtensions.SourceRepositoryOwnerIdentifier, c["repository_owner_id"]);
        Add(extensions, FulcioExtensions.BuildConfigUri, Join(url, c["workflow_ref"]));
        Add(extensions, FulcioExtensions.BuildConfigDigest, c["workflow_sha"]);
        Add(extensions, FulcioExtensions.BuildTrigger, c["event_name"]);
        Add(extensions, FulcioExtensions.RunInvocationUri,
            Join(url, $"{c["repository"]}/actions/runs/{c["run_id"]}/attempts/{c["run_attempt"]}"));
        Add(extensions, FulcioExtensions.SourceRepositoryVisibilityAtSigning, c["repository_visibility"]);
        Add(extensions, FulcioExtensions.DeploymentEnvironment, claims.GetString("environment"));
        return new SubjectAlternativeName(SanKind.Uri, Join(url, c["job_workflow_ref"]));
    }

    private static SubjectAlternativeName Gitlab(TrustedIssuer issuer, string iss, TokenClaims claims, Dictionary<string, string> extensions)
    {
        var c = RequireAll(claims, GitlabRequired);
        // The instance URL: gitlab.com's issuer is https://gitlab.com, and a self-hosted GitLab is its own issuer.
        var url = TemplateDefault(issuer, "url") ?? iss;
        var refPrefix = c["ref_type"] switch
        {
            "branch" => "refs/heads/",
            "tag" => "refs/tags/",
            _ => throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'ref_type' must be 'branch' or 'tag'"),
        };
        if (c["runner_id"] == "0")
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'runner_id' must not be 0");
        }

        var configUri = "https://" + c["ci_config_ref_uri"];
        Add(extensions, FulcioExtensions.BuildSignerUri, configUri);
        Add(extensions, FulcioExtensions.BuildSignerDigest, claims.GetString("ci_config_sha"));
        Add(extensions, FulcioExtensions.RunnerEnvironment, c["runner_environment"]);
        Add(extensions, FulcioExtensions.SourceRepositoryUri, Join(url, c["project_path"]));
        Add(extensions, FulcioExtensions.SourceRepositoryDigest, c["sha"]);
        Add(extensions, FulcioExtensions.SourceRepositoryRef, refPrefix + c["ref"]);
        Add(extensions, FulcioExtensions.SourceRepositoryIdentifier, c["project_id"]);
        Add(extensions, FulcioExtensions.SourceRepositoryOwnerUri, Join(url, c["namespace_path"]));
        Add(extensions, FulcioExtensions.SourceRepositoryOwnerIdentifier, c["namespace_id"]);
        Add(extensions, FulcioExtensions.BuildConfigUri, configUri);
        Add(extensions, FulcioExtensions.BuildConfigDigest, claims.GetString("ci_config_sha"));
        Add(extensions, FulcioExtensions.BuildTrigger, c["pipeline_source"]);
        Add(extensions, FulcioExtensions.RunInvocationUri, Join(url, $"{c["project_path"]}/-/jobs/{c["job_id"]}"));
        Add(extensions, FulcioExtensions.SourceRepositoryVisibilityAtSigning, claims.GetString("project_visibility"));
        Add(extensions, FulcioExtensions.DeploymentEnvironment, claims.GetString("environment"));
        return new SubjectAlternativeName(SanKind.Uri, configUri);
    }

    private static SubjectAlternativeName Buildkite(TokenClaims claims)
    {
        var c = RequireAll(claims, ["organization_slug", "pipeline_slug"]);
        return new SubjectAlternativeName(SanKind.Uri, $"https://buildkite.com/{c["organization_slug"]}/{c["pipeline_slug"]}");
    }

    private static SubjectAlternativeName Kubernetes(TokenClaims claims)
    {
        // Fulcio accepts a token without these and issues ".../namespaces//serviceaccounts/"; we do not.
        var (ns, sa) = KubernetesIdentity(claims);
        return new SubjectAlternativeName(SanKind.Uri, $"https://kubernetes.io/namespaces/{ns}/serviceaccounts/{sa}");
    }

    /// <summary>The namespace and service account name from the <c>kubernetes.io</c> claim object.</summary>
    internal static (string Namespace, string ServiceAccount) KubernetesIdentity(TokenClaims claims)
    {
        if (!claims.Root.TryGetProperty("kubernetes.io", out var k8s) || k8s.ValueKind != JsonValueKind.Object)
        {
            throw TokenClaims.Missing("kubernetes.io");
        }

        var ns = k8s.TryGetProperty("namespace", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (string.IsNullOrEmpty(ns) || !IsPathSegment(ns))
        {
            throw TokenClaims.Missing("kubernetes.io.namespace");
        }

        var sa = k8s.TryGetProperty("serviceaccount", out var s) && s.ValueKind == JsonValueKind.Object
            && s.TryGetProperty("name", out var sn) && sn.ValueKind == JsonValueKind.String ? sn.GetString() : null;
        if (string.IsNullOrEmpty(sa) || !IsPathSegment(sa))
        {
            throw TokenClaims.Missing("kubernetes.io.serviceaccount.name");
        }

        return (ns, sa);
    }

    private static SubjectAlternativeName Spiffe(TrustedIssuer issuer, TokenClaims claims)
    {
        var sub = claims.GetRequiredString("sub");
        var domain = issuer.Options.SpiffeTrustDomain ?? "";
        const string Scheme = "spiffe://";
        // SPIFFE ID: lower-case trust domain, then a non-empty path of segments in [a-zA-Z0-9.-_], no "." or "..".
        if (!sub.StartsWith(Scheme, StringComparison.Ordinal))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'sub' is not a SPIFFE ID");
        }

        var rest = sub.AsSpan(Scheme.Length);
        var slash = rest.IndexOf('/');
        if (slash < 0 || !rest[..slash].SequenceEqual(domain))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, $"claim 'sub' is not a SPIFFE ID in trust domain '{domain}'");
        }

        foreach (var segment in rest[(slash + 1)..].ToString().Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || !segment.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '_'))
            {
                throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'sub' is not a valid SPIFFE ID path");
            }
        }

        return new SubjectAlternativeName(SanKind.Uri, sub);
    }

    private static SubjectAlternativeName UriSubject(TrustedIssuer issuer, TokenClaims claims)
    {
        var sub = claims.GetRequiredString("sub");
        var domain = new Uri(issuer.Options.SubjectDomain ?? "", UriKind.Absolute);
        if (!Uri.TryCreate(sub, UriKind.Absolute, out var subject) || sub.Contains('@', StringComparison.Ordinal)
            || subject.Scheme != domain.Scheme || !string.Equals(subject.Host, domain.Host, StringComparison.OrdinalIgnoreCase))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken,
                $"claim 'sub' must be a URI with the scheme and host of '{issuer.Options.SubjectDomain}'");
        }

        return new SubjectAlternativeName(SanKind.Uri, sub);
    }

    private static SubjectAlternativeName Username(TrustedIssuer issuer, TokenClaims claims)
    {
        var sub = claims.GetRequiredString("sub");
        if (sub.Contains('!', StringComparison.Ordinal) || sub.Contains('@', StringComparison.Ordinal))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "claim 'sub' must be a user name without '!' or '@'");
        }

        return new SubjectAlternativeName(SanKind.Username, $"{sub}!{issuer.Options.SubjectDomain}");
    }

    private static SubjectAlternativeName CiProvider(TrustedIssuer issuer, TokenClaims claims, Dictionary<string, string> extensions)
    {
        var provider = issuer.Options.CiProvider ?? new CiProviderOptions();
        foreach (var (key, template) in provider.ExtensionTemplates)
        {
            if (FulcioExtensions.Resolve(key) is { } oid)
            {
                Add(extensions, oid, Expand(template, claims, provider.DefaultTemplateValues));
            }
        }

        var san = Expand(provider.SubjectAlternativeNameTemplate ?? "", claims, provider.DefaultTemplateValues);
        if (!Uri.TryCreate(san, UriKind.Absolute, out _))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "the subject alternative name built from the token is not a URI");
        }

        return new SubjectAlternativeName(SanKind.Uri, san);
    }

    /// <summary>
    /// Expands <c>{{ .name }}</c> (and <c>{{.name}}</c>) with a claim, else a default value; an absent value fails
    /// like Go's <c>missingkey=error</c>. Nothing else of Go templates is supported, on purpose.
    /// </summary>
    internal static string Expand(string template, TokenClaims claims, IReadOnlyDictionary<string, string> defaults)
    {
        var result = new StringBuilder(template.Length);
        var rest = template.AsSpan();
        while (true)
        {
            var open = rest.IndexOf("{{", StringComparison.Ordinal);
            if (open < 0)
            {
                result.Append(rest);
                return result.ToString();
            }

            var close = rest[open..].IndexOf("}}", StringComparison.Ordinal);
            if (close < 0)
            {
                throw new CaException(CaErrorCode.Internal, "a ci-provider template is malformed");
            }

            result.Append(rest[..open]);
            var name = rest[(open + 2)..(open + close)].Trim().TrimStart('.').ToString();
            var value = claims.GetString(name) ?? (defaults.TryGetValue(name, out var d) ? d : null);
            if (string.IsNullOrEmpty(value))
            {
                throw TokenClaims.Missing(name);
            }

            result.Append(value);
            rest = rest[(open + close + 2)..];
        }
    }

    private static Dictionary<string, string> RequireAll(TokenClaims claims, string[] names)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            values[name] = claims.GetRequiredString(name);
        }

        return values;
    }

    private static string? TemplateDefault(TrustedIssuer issuer, string name) =>
        issuer.Options.CiProvider?.DefaultTemplateValues.TryGetValue(name, out var value) == true ? value : null;

    /// <summary>Joins a base URL and a path with exactly one slash (Fulcio's URL joins never double a slash).</summary>
    private static string Join(string baseUrl, string path) => baseUrl.TrimEnd('/') + "/" + path.TrimStart('/');

    private static void Add(Dictionary<string, string> extensions, string oid, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            extensions[oid] = value;
        }
    }

    private static bool IsPathSegment(string value) =>
        value.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' or '_' or ':') && value is not ("." or "..");
}
