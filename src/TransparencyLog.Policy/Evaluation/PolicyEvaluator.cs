using System.Text.Json.Nodes;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Matching;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Policy.Evaluation;

/// <summary>Where an image appears and what the policies may match on besides its name.</summary>
/// <param name="Resource">The workload's plural resource name (pods, deployments, …), for <c>spec.match</c>.</param>
public sealed record ImageSubject(string Pointer, ImageReference Image, string Resource, IReadOnlyDictionary<string, string> Labels);

/// <summary>
/// Registry access with the credentials of an authority's <c>source[].signaturePullSecrets</c>, and the Secrets among
/// them that were not found (named in a denial, so an operator sees which mount is missing).
/// </summary>
public sealed record SignatureRegistries(RegistryConnections Connections, IReadOnlyList<string> Missing);

/// <summary>
/// Judges images against a <see cref="PolicySet"/> the way policy-controller does (admission-policy §3.4, §7): every
/// matching policy must pass (AND), within a policy any authority suffices (OR), statics are decided before any I/O,
/// no match follows <c>no-match-policy</c>. Signatures and attestations are checked by the shared
/// <see cref="ImageVerifier"/>, offline against the trust root. An authority whose source names
/// <c>signaturePullSecrets</c> reads through the connections <paramref name="signatureSecrets"/> gives for those
/// names (the webhook: the mounted Secrets); without it (the CLI), through the review's own connections.
/// </summary>
public sealed class PolicyEvaluator(TrustedRoot defaultRoot, OutcomeCache? cache = null, Func<IReadOnlyList<string>, SignatureRegistries>? signatureSecrets = null)
{
    /// <summary>Judges one image; <paramref name="image"/> must carry its digest (resolve tags first).</summary>
    public async Task<ImageOutcome> EvaluateAsync(PolicySet set, ImageSubject subject, RegistryConnections registries, string credentialScope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(subject);
        var name = ImageNames.Normalized(subject.Image);
        var matching = set.Policies.Where(p => p.Images.Any(g => g.Matches(subject.Image)) && MatchesResource(p, subject)).ToList();
        if (matching.Count == 0)
        {
            var message = $"{subject.Pointer}: no ClusterImagePolicy matches {name}";
            return set.NoMatch switch
            {
                NoMatchPolicy.Allow => new ImageOutcome(subject.Pointer, name, subject.Image.Digest, true, [], [], []),
                NoMatchPolicy.Warn => new ImageOutcome(subject.Pointer, name, subject.Image.Digest, true, [], [message], []),
                _ => new ImageOutcome(subject.Pointer, name, subject.Image.Digest, false, [message], [], []),
            };
        }

        var outcomes = await Task.WhenAll(matching.Select(p => EvaluatePolicyAsync(set, p, subject, registries, credentialScope, cancellationToken)));
        var errors = new List<string>();
        var warnings = new List<string>();
        foreach (var outcome in outcomes)
        {
            warnings.AddRange(outcome.Warnings.Select(w => $"{subject.Pointer}: {w}"));
            if (!outcome.Passed)
            {
                var text = $"{subject.Pointer}: {name} fails policy {outcome.Policy}: {string.Join("; ", outcome.Errors)}";
                (outcome.Mode == PolicyMode.Warn ? warnings : errors).Add(text);
            }
        }

        return new ImageOutcome(subject.Pointer, name, subject.Image.Digest, errors.Count == 0, errors, warnings, outcomes);
    }

    private static bool MatchesResource(ClusterImagePolicy policy, ImageSubject subject) =>
        policy.Match.Count == 0
        || policy.Match.Any(m => m.Resource == subject.Resource && m.Selects(subject.Labels));

    private async Task<PolicyOutcome> EvaluatePolicyAsync(
        PolicySet set, ClusterImagePolicy policy, ImageSubject subject, RegistryConnections registries, string credentialScope, CancellationToken cancellationToken)
    {
        if (policy.Level == VerificationLevel.Skip)
        {
            return new PolicyOutcome(policy.Name, policy.Mode, policy.Level, true, null, null, [], ["verification skipped (level skip)"], false);
        }

        // Statics first, without I/O: one passing static passes the policy; all-static failing fails it.
        if (policy.Authorities.FirstOrDefault(static a => a.Static is { Pass: true }) is { } pass)
        {
            return new PolicyOutcome(policy.Name, policy.Mode, policy.Level, true, pass.Name, null, [], [], false);
        }

        var dynamic = policy.Authorities.Where(static a => a.Static is null).ToList();
        var staticErrors = policy.Authorities.Where(static a => a.Static is { Pass: false })
            .Select(static a => $"{a.Name}: {a.Static!.Message ?? "static fail"}").ToList();
        if (dynamic.Count == 0)
        {
            return new PolicyOutcome(policy.Name, policy.Mode, policy.Level, false, null, null, staticErrors, [], false);
        }

        if (subject.Image.Digest is not { } digest)
        {
            return new PolicyOutcome(policy.Name, policy.Mode, policy.Level, false, null, null, ["the image must be referenced by digest"], [], false);
        }

        var key = OutcomeCache.Key(digest, policy.Name, set.PolicyGeneration, set.TrustRootGeneration, credentialScope) + "|" + subject.Image.RepositoryName;
        if (cache?.Get(key) is { } cached)
        {
            return cached;
        }

        var errors = new List<string>(staticErrors);
        var transient = false;
        PolicyOutcome? result = null;
        foreach (var authority in dynamic)
        {
            var attempt = await TryAuthorityAsync(set, policy, authority, subject.Image, registries, cancellationToken);
            if (attempt.Passed)
            {
                result = new PolicyOutcome(policy.Name, policy.Mode, policy.Level, true, authority.Name, attempt.Signer, [], attempt.Warnings, false);
                break;
            }

            transient |= attempt.Transient;
            errors.Add($"{authority.Name}: {attempt.Error}");
        }

        result ??= Judge(policy, errors, transient);
        cache?.Put(key, result);
        return result;
    }

    /// <summary>Audit level: only integrity failures (a signature or subject that does not match) block.</summary>
    private static PolicyOutcome Judge(ClusterImagePolicy policy, List<string> errors, bool transient)
    {
        if (policy.Level == VerificationLevel.Audit
            && !errors.Any(static e => e.Contains(VerificationErrorCode.Signature, StringComparison.Ordinal) || e.Contains(VerificationErrorCode.Subject, StringComparison.Ordinal)))
        {
            return new PolicyOutcome(policy.Name, policy.Mode, policy.Level, true, null, null, [], [.. errors.Select(static e => $"audit: {e}")], transient);
        }

        return new PolicyOutcome(policy.Name, policy.Mode, policy.Level, false, null, null, errors, [], transient);
    }

    private sealed record Attempt(bool Passed, string? Signer, string? Error, IReadOnlyList<string> Warnings, bool Transient);

    private async Task<Attempt> TryAuthorityAsync(
        PolicySet set, ClusterImagePolicy policy, Authority authority, ImageReference image, RegistryConnections registries, CancellationToken cancellationToken)
    {
        if (authority.SignaturePullSecrets is { Count: > 0 } names && signatureSecrets is not null)
        {
            // policy-controller's rule: the named Secrets' credentials replace the pod's for this authority's reads.
            var access = signatureSecrets(names);
            var attempt = await TryLevelsAsync(set, policy, authority, image, access.Connections, cancellationToken);
            return attempt.Passed || access.Missing.Count == 0
                ? attempt
                : attempt with { Error = $"{attempt.Error} (signaturePullSecrets not found: {string.Join(", ", access.Missing)})" };
        }

        return await TryLevelsAsync(set, policy, authority, image, registries, cancellationToken);
    }

    private async Task<Attempt> TryLevelsAsync(
        PolicySet set, ClusterImagePolicy policy, Authority authority, ImageReference image, RegistryConnections registries, CancellationToken cancellationToken)
    {
        var strict = await TryWithOptionsAsync(set, authority, image, registries, relaxed: false, cancellationToken);
        if (strict.Passed || strict.Transient || policy.Level != VerificationLevel.Permissive)
        {
            return strict;
        }

        // Permissive: the time evidence (log entry, timestamp, SCT) is logged, not enforced.
        var relaxed = await TryWithOptionsAsync(set, authority, image, registries, relaxed: true, cancellationToken);
        return relaxed.Passed ? relaxed with { Warnings = [.. relaxed.Warnings, $"permissive: {strict.Error}"] } : strict;
    }

    private async Task<Attempt> TryWithOptionsAsync(
        PolicySet set, Authority authority, ImageReference image, RegistryConnections registries, bool relaxed, CancellationToken cancellationToken)
    {
        try
        {
            var root = RootFor(set, authority);
            var identities = authority.Keyless?.Identities.Select(static i => (Policy: (CertificateIdentityPolicy?)i.ToPolicy(), Text: i.ToString())).ToList()
                ?? [(null, "key")];
            var failures = new List<string>();
            foreach (var (identity, text) in identities)
            {
                var verifier = new ImageVerifier(
                    registries, new BundleVerifier(root, Options(authority, relaxed)), identity, authority.Key?.Spki,
                    new Dictionary<string, string>(), new Dictionary<string, string>(), ignoreTlog: !LogRequired(authority), authority.SignatureFormat,
                    authority.SignatureRepository);
                try
                {
                    var signatures = await verifier.VerifyAsync(image, attestation: false, null, cancellationToken);
                    var signer = Signer(signatures.Payloads) ?? text;
                    if (await CheckAttestationsAsync(verifier, authority, image, cancellationToken) is { } missing)
                    {
                        failures.Add(missing);
                        continue;
                    }

                    return new Attempt(true, signer, null, [], false);
                }
                catch (OciException ex) when (ex.Failure is OciFailure.NoSignatures or OciFailure.NoMatchingSignature)
                {
                    failures.Add(identities.Count > 1 ? $"[{text}] {Describe(ex)}" : Describe(ex));
                }
            }

            return new Attempt(false, null, string.Join("; ", failures), [], false);
        }
        catch (OciException ex)
        {
            return new Attempt(false, null, Describe(ex), [], ex.Failure == OciFailure.Error);
        }
        catch (OperationCanceledException)
        {
            // The review's deadline: answer anyway (fail closed in enforce, a warning in warn mode).
            return new Attempt(false, null, "DEADLINE_EXCEEDED: verification did not finish before the review's deadline", [], true);
        }
    }

    /// <summary>Every required attestation must verify and satisfy its condition; null when all do.</summary>
    private static async Task<string?> CheckAttestationsAsync(ImageVerifier verifier, Authority authority, ImageReference image, CancellationToken cancellationToken)
    {
        foreach (var requirement in authority.Attestations)
        {
            ImageVerification found;
            try
            {
                found = await verifier.VerifyAsync(image, attestation: true, requirement.PredicateType, cancellationToken);
            }
            catch (OciException ex) when (ex.Failure is OciFailure.NoSignatures or OciFailure.NoMatchingSignature)
            {
                return $"attestation {requirement.Name} ({requirement.PredicateType}): {Describe(ex)}";
            }

            if (requirement.Condition is { } condition)
            {
                var reasons = new List<string>();
                var satisfied = false;
                foreach (var payload in found.Payloads)
                {
                    var (ok, reason) = condition.Evaluate(payload["statement"] as JsonObject ?? []);
                    satisfied |= ok;
                    if (reason is not null)
                    {
                        reasons.Add(reason);
                    }
                }

                if (!satisfied)
                {
                    return $"attestation {requirement.Name}: {string.Join("; ", reasons.Distinct(StringComparer.Ordinal))}";
                }
            }
        }

        return null;
    }

    private static string Describe(OciException ex) => ex.Code is null ? ex.Message : $"{ex.Code}: {ex.Message}";

    private static string? Signer(IReadOnlyList<JsonObject> payloads) =>
        payloads.Select(static p => p["optional"]?["Subject"]?.ToString()).FirstOrDefault(static s => s is not null);

    private TrustedRoot RootFor(PolicySet set, Authority authority)
    {
        var reference = authority.Keyless?.TrustRootRef ?? authority.Ctlog?.TrustRootRef ?? authority.TimestampTrustRootRef;
        var root = reference is not null ? set.TrustRoots[reference].Root : defaultRoot;
        if (authority.Keyless?.CaChain is { } chain)
        {
            root = root with { CertificateAuthorities = [new CertificateAuthority(null, null, chain, ValidityPeriod.Unbounded)] };
        }

        if (authority.Ctlog?.Url is { } url)
        {
            // Only entries of the named log count: its key is the one the entry's SET and checkpoint must verify with.
            var logs = TlogsAt(root, url);
            root = logs.Count > 0
                ? root with { Tlogs = logs }
                : throw new OciException(
                    OciFailure.NoMatchingSignature,
                    $"ctlog.url {url} names no transparency log of the trust root (it has {string.Join(", ", root.Tlogs.Select(static l => l.BaseUrl).Distinct(StringComparer.Ordinal))})",
                    "CTLOG_URL_UNKNOWN");
        }

        return root;
    }

    /// <summary>The trust root's logs whose base URL is <paramref name="url"/> (scheme and host case-insensitive, trailing slash ignored).</summary>
    internal static List<TransparencyLogInstance> TlogsAt(TrustedRoot root, string url) =>
        [.. root.Tlogs.Where(l => SameBaseUrl(l.BaseUrl, url))];

    private static bool SameBaseUrl(string a, string b) =>
        Uri.TryCreate(a.TrimEnd('/'), UriKind.Absolute, out var x) && Uri.TryCreate(b.TrimEnd('/'), UriKind.Absolute, out var y)
        && Uri.Compare(x, y, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>
    /// policy-controller's rule: a key needs a log entry only with <c>ctlog</c>; keyless always, unless
    /// <c>rfc3161timestamp</c> replaces it; <c>ctlog: {}</c> (no url, no trustRootRef) turns the log check off.
    /// </summary>
    private static bool LogRequired(Authority authority) =>
        authority.Ctlog is not { Disabled: true }
        && (authority.Key is not null ? authority.Ctlog is not null : authority.TimestampTrustRootRef is null);

    /// <summary>
    /// Keyless: a log entry (or, with <c>rfc3161timestamp</c>, a TSA timestamp) and an SCT; key: the log only with
    /// <c>ctlog</c> (policy-controller skips the tlog check for keys without one). Relaxed (permissive level): none.
    /// </summary>
    private static VerificationOptions Options(Authority authority, bool relaxed)
    {
        if (relaxed)
        {
            return new VerificationOptions { TlogThreshold = 0, TimestampThreshold = 0, CtlogThreshold = 0, KeySignatureHash = authority.Key?.SignatureHash };
        }

        if (authority.Key is not null)
        {
            var logged = LogRequired(authority) ? 1 : 0;
            return new VerificationOptions { TlogThreshold = logged, TimestampThreshold = logged, CtlogThreshold = 0, KeySignatureHash = authority.Key.SignatureHash };
        }

        return new VerificationOptions
        {
            TlogThreshold = LogRequired(authority) ? 1 : 0,
            TimestampThreshold = 1,
            CtlogThreshold = authority.Keyless!.InsecureIgnoreSct ? 0 : 1,
        };
    }
}
