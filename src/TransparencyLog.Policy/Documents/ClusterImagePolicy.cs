using TransparencyLog.Policy.Evaluation;
using System.Security.Cryptography;
using TransparencyLog.Policy.Matching;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Policy.Documents;

/// <summary>What a failing policy does: deny (<c>enforce</c>) or admit with a warning (<c>warn</c>).</summary>
public enum PolicyMode
{
    Enforce,
    Warn,
}

/// <summary>
/// Notation's verification levels as a per-policy setting (annotation <c>transparencylog.dev/verification-level</c>):
/// which failures block and which are only reported (admission-policy §5).
/// </summary>
public enum VerificationLevel
{
    /// <summary>Every check blocks.</summary>
    Strict,

    /// <summary>Integrity and authenticity block; the time evidence (log entry, timestamp, SCT) is only reported.</summary>
    Permissive,

    /// <summary>Only integrity blocks (a signature that does not match the image); everything else is reported.</summary>
    Audit,

    /// <summary>No verification at all; the image is admitted.</summary>
    Skip,
}

/// <summary>The answer when no policy matches an image (<c>no-match-policy</c>, deny by default).</summary>
public enum NoMatchPolicy
{
    Deny,
    Allow,
    Warn,
}

/// <summary>A sigstore policy-controller <c>ClusterImagePolicy</c> (v1alpha1 or v1beta1), validated at load.</summary>
public sealed record ClusterImagePolicy(
    string Name,
    string Origin,
    long Generation,
    IReadOnlyList<ImageGlob> Images,
    IReadOnlyList<Authority> Authorities,
    PolicyMode Mode,
    VerificationLevel Level,
    IReadOnlyList<ResourceMatch> Match);

/// <summary>A <c>spec.match[]</c> entry: the policy applies only to these resources (and labels: a Kubernetes label selector).</summary>
public sealed record ResourceMatch(
    string Group, string Version, string Resource, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<LabelExpression>? Expressions = null)
{
    /// <summary><c>matchLabels</c> and every <c>matchExpressions</c> entry must hold (Kubernetes' label-selector rules).</summary>
    public bool Selects(IReadOnlyDictionary<string, string> labels) =>
        Labels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (Expressions ?? []).All(e => e.Holds(labels));
}

/// <summary>One <c>matchExpressions</c> entry: <c>In</c>, <c>NotIn</c>, <c>Exists</c> or <c>DoesNotExist</c>.</summary>
public sealed record LabelExpression(string Key, string Operator, IReadOnlyList<string> Values)
{
    public bool Holds(IReadOnlyDictionary<string, string> labels)
    {
        var present = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            "In" => present && Values.Contains(value, StringComparer.Ordinal),
            "NotIn" => !present || !Values.Contains(value, StringComparer.Ordinal),
            "Exists" => present,
            _ => !present,
        };
    }
}

/// <summary>
/// One <c>spec.authorities[]</c> entry: exactly one of key, keyless and static. <see cref="SignatureFormat"/> is
/// where signatures are read: policy-controller's default <c>legacy</c> (the <c>.sig</c>/<c>.att</c> tag) or
/// <c>bundle</c> (OCI 1.1 referrers). <see cref="SignatureRepository"/> (<c>source[].oci</c>) is the repository
/// they are read from when not the image's own; <see cref="SignaturePullSecrets"/>
/// (<c>source[].signaturePullSecrets</c>) name the Secrets whose registry credentials read them.
/// </summary>
public sealed record Authority(
    string Name,
    KeyAuthority? Key,
    KeylessAuthority? Keyless,
    StaticAuthority? Static,
    TlogRequirement? Ctlog,
    string? TimestampTrustRootRef,
    ImageReference? SignatureRepository,
    IReadOnlyList<AttestationRequirement> Attestations,
    SignatureFormat SignatureFormat = SignatureFormat.Legacy,
    IReadOnlyList<string>? SignaturePullSecrets = null);

/// <summary>
/// A public key (DER SubjectPublicKeyInfo) the signatures must verify with; <see cref="HashAlgorithm"/> is the hash
/// they were made with (<c>key.hashAlgorithm</c>), null when not given (SHA-256, or the curve's own for P-384/P-521).
/// </summary>
public sealed record KeyAuthority(byte[] Spki, string? HashAlgorithm)
{
    public HashAlgorithmName? SignatureHash => HashAlgorithm switch
    {
        null => null,
        "sha384" => HashAlgorithmName.SHA384,
        "sha512" => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };
}

/// <summary>Certificate-based signatures from these identities, chained to the trust root (or the given CA).</summary>
public sealed record KeylessAuthority(
    IReadOnlyList<IdentityRequirement> Identities,
    string? TrustRootRef,
    IReadOnlyList<byte[]>? CaChain,
    bool InsecureIgnoreSct);

/// <summary>One <c>identities[]</c> entry: issuer or issuerRegExp, subject or subjectRegExp.</summary>
public sealed record IdentityRequirement(string? Issuer, string? IssuerRegExp, string? Subject, string? SubjectRegExp)
{
    public CertificateIdentityPolicy ToPolicy() => CertificateIdentityPolicy.Create(Subject, SubjectRegExp, Issuer, IssuerRegExp);

    public override string ToString() => $"{Subject ?? "~" + SubjectRegExp} from {Issuer ?? "~" + IssuerRegExp}";
}

/// <summary>No cryptography: always pass or always fail.</summary>
public sealed record StaticAuthority(bool Pass, string? Message);

/// <summary>
/// <c>ctlog</c>: the signature must be in a transparency (Rekor) log of the trust root; with <see cref="Url"/>, in
/// that log (the trust root's log whose base URL it is). <c>ctlog: {}</c> (neither field) disables the log check, as
/// in policy-controller.
/// </summary>
public sealed record TlogRequirement(string? Url, string? TrustRootRef)
{
    public bool Disabled => Url is null && TrustRootRef is null;
}

/// <summary>An attestation of <see cref="PredicateType"/> that must verify, and satisfy <see cref="Condition"/> when given.</summary>
public sealed record AttestationRequirement(string Name, string PredicateType, CelCondition? Condition);

/// <summary>
/// A policy-controller <c>TrustRoot</c>, as the trusted root it stands for. A <c>remote</c> or <c>repository</c> (TUF) one carries its
/// <see cref="Tuf"/> source and an empty <see cref="Root"/> until <see cref="TufTrustRoots.ResolveAsync"/> fetched it.
/// </summary>
public sealed record TrustRootDocument(string Name, string Origin, long Generation, TrustedRoot Root, TufSource? Tuf = null)
{
    /// <summary>A TUF trust root not fetched yet: its <see cref="Root"/> trusts nothing.</summary>
    public bool Pending => Tuf is not null && ReferenceEquals(Root, TrustedRoot.Empty);
}

/// <summary>
/// A TUF repository and the initial root.json that vouches for it: a mirror (TrustRoot <c>spec.remote</c>) or the
/// repository's files themselves (<c>spec.repository.mirrorFS</c>, air-gapped, read from no network), with where its
/// targets live and which target is the trusted root.
/// </summary>
public sealed record TufSource(Uri? Mirror, byte[] InitialRoot, string TargetsPath = "targets", string TrustedRootTarget = "trusted_root.json", IReadOnlyDictionary<string, byte[]>? Files = null)
{
    /// <summary>The TrustRoot field this source came from, for error messages.</summary>
    public string Field => Files is null ? "spec.remote" : "spec.repository";

    /// <summary>How error messages name the repository.</summary>
    public string Description => Mirror is { } mirror ? $"the TUF repository at {mirror}" : "the serialized TUF repository (spec.repository.mirrorFS)";
}
