using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>
/// Several policies combined as policy-controller combines them: every matching policy must pass (AND), within one any
/// authority suffices (OR), a warn-mode failure only warns, and the no-match setting decides an image no policy
/// matches. Static authorities decide before any I/O, so no registry is needed.
/// </summary>
public sealed class PolicyCombinationTests
{
    private const string Image = "registry.example/apps/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static string Policy(string name, string glob, string authorities, string mode = "enforce") => $$"""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: {{name}}}
        spec:
          mode: {{mode}}
          images: [{glob: "{{glob}}"}]
          authorities: {{authorities}}
        """;

    private static async Task<ImageOutcome> EvaluateAsync(params string[] documents)
    {
        var set = PolicySet.Load([("p.yaml", string.Join("\n---\n", documents))]);
        using var http = new HttpClient();
        return await new PolicyEvaluator(TrustedRoot.Empty).EvaluateAsync(
            set, new ImageSubject("/spec/containers/0/image", ImageReference.Parse(Image), "pods", new Dictionary<string, string>()),
            new RegistryConnections(http, static _ => null, allowInsecure: false), "test", CancellationToken.None);
    }

    private const string Pass = "[{name: ok, static: {action: pass}}]";
    private const string Fail = "[{name: no, static: {action: fail, message: refused by policy}}]";

    [Fact]
    public async Task Evaluate_TwoMatchingPolicies_EveryOneMustPass()
    {
        var both = await EvaluateAsync(Policy("a", "registry.example/**", Pass), Policy("b", "registry.example/apps/*", Pass));
        var oneFails = await EvaluateAsync(Policy("a", "registry.example/**", Pass), Policy("b", "registry.example/apps/*", Fail));
        var otherDoesNotMatch = await EvaluateAsync(Policy("a", "registry.example/**", Pass), Policy("b", "other.example/**", Fail));

        Assert.True(both.Allowed);
        Assert.Equal(["a", "b"], both.Policies.Select(static p => p.Policy).Order(StringComparer.Ordinal));
        Assert.False(oneFails.Allowed);
        Assert.Contains(oneFails.Errors, static e => e.Contains("refused by policy", StringComparison.Ordinal));
        Assert.True(otherDoesNotMatch.Allowed);
        Assert.Equal("a", Assert.Single(otherDoesNotMatch.Policies).Policy);
    }

    [Fact]
    public async Task Evaluate_AuthoritiesOfOnePolicy_AnyOneSuffices()
    {
        var outcome = await EvaluateAsync(Policy("a", "registry.example/**", "[{name: no, static: {action: fail}}, {name: ok, static: {action: pass}}]"));
        var none = await EvaluateAsync(Policy("a", "registry.example/**", "[{name: no, static: {action: fail}}, {name: no2, static: {action: fail}}]"));

        Assert.True(outcome.Allowed);
        Assert.Equal("ok", Assert.Single(outcome.Policies).Authority);
        Assert.False(none.Allowed);
    }

    [Fact]
    public async Task Evaluate_FailingWarnPolicyBesideAPassingOne_AdmittedWithWarning()
    {
        var outcome = await EvaluateAsync(Policy("a", "registry.example/**", Pass), Policy("w", "registry.example/**", Fail, mode: "warn"));

        Assert.True(outcome.Allowed);
        Assert.Empty(outcome.Errors);
        Assert.Contains(outcome.Warnings, static w => w.Contains("refused by policy", StringComparison.Ordinal));
    }
}
