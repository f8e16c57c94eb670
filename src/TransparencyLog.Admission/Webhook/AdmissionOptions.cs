using System.ComponentModel.DataAnnotations;
using TransparencyLog.Policy.Documents;

namespace TransparencyLog.Admission.Webhook;

/// <summary>Configuration section <c>Admission</c>; every bound has a default and is checked at start-up.</summary>
public sealed record AdmissionOptions
{
    public const string SectionName = "Admission";

    /// <summary>Where to listen, <c>https://HOST:PORT</c> (the API server only speaks HTTPS to webhooks).</summary>
    [Required]
    public string Url { get; init; } = "https://127.0.0.1:8443";

    /// <summary>The serving certificate (PEM chain, leaf first) and its private key (PEM).</summary>
    [Required]
    public string CertificatePath { get; init; } = string.Empty;

    [Required]
    public string KeyPath { get; init; } = string.Empty;

    /// <summary>A directory of policy YAML files (ClusterImagePolicy, TrustRoot, config-policy-controller), reloaded when it changes.</summary>
    [Required]
    public string PoliciesDirectory { get; init; } = string.Empty;

    /// <summary>trusted_root.json for authorities without a trustRootRef (our CA, logs and TSA).</summary>
    public string? TrustedRootPath { get; init; }

    /// <summary>Pull secrets as files: <c>DIR/NAMESPACE/SECRET/.dockerconfigjson</c> (mounted Secrets; no cluster API access).</summary>
    public string? PullSecretsDirectory { get; init; }

    /// <summary>
    /// The namespace whose Secrets a policy's <c>source[].signaturePullSecrets</c> name (policy-controller reads them
    /// from its own namespace): files at <c>PullSecretsDirectory/NAMESPACE/SECRET/.dockerconfigjson</c>.
    /// </summary>
    [Required]
    [RegularExpression("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", ErrorMessage = "Admission:SignaturePullSecretsNamespace must be a Kubernetes namespace name")]
    public string SignaturePullSecretsNamespace { get; init; } = "cosign-system";

    /// <summary>The internal deadline of one review; keep it below the webhook's <c>timeoutSeconds</c> (default 10).</summary>
    [Range(1, 29)]
    public int DeadlineSeconds { get; init; } = 8;

    /// <summary>The largest AdmissionReview body accepted (Kubernetes objects are at most 1.5 MiB in etcd; reviews carry two).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxRequestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Answer when no policy matches and no config-policy-controller ConfigMap says otherwise.</summary>
    public NoMatchPolicy NoMatchPolicy { get; init; } = NoMatchPolicy.Deny;

    /// <summary>/validate requires digests (policy-controller's rule: tags move); /mutate pins them first.</summary>
    public bool RequireDigest { get; init; } = true;

    /// <summary>Namespaces never checked (a fail-closed webhook must not block cluster recovery).</summary>
    public IReadOnlyList<string> ExemptNamespaces { get; init; } = ["kube-system", "kube-public", "kube-node-lease"];

    [Range(1, 1_000_000)]
    public int CacheEntries { get; init; } = 10_000;

    /// <summary>How often the policy directory is also polled (file-system events can be missed on mounted volumes).</summary>
    [Range(1, 3600)]
    public int ReloadPollSeconds { get; init; } = 5;

    /// <summary>Where the trusted TUF metadata of <c>TrustRoot</c>s with <c>spec.remote</c> is kept between refreshes.</summary>
    [Required]
    public string TufCacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "tlog-admission-tuf");

    /// <summary>How often TUF trust roots are fetched again even when no policy file changed (rotations, expiry).</summary>
    [Range(1, 24 * 60)]
    public int TufRefreshMinutes { get; init; } = 60;
}
