using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary><c>spec.match[].selector</c> as a Kubernetes label selector: matchLabels and matchExpressions decide which workloads a policy judges.</summary>
public sealed class ResourceMatchTests
{
    private const string Image = "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static PolicySet Policy(string selector) => PolicySet.Load(
        [("p.yaml", $$$"""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: selected}
            spec:
              images: [{glob: "registry.example/**"}]
              match: [{resource: pods, selector: {{{selector}}} }]
              authorities: [{static: {action: fail, message: selected}}]
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: config-policy-controller}
            data: {no-match-policy: allow}
            """)]);

    private static async Task<bool> AdmittedAsync(PolicySet set, Dictionary<string, string> labels)
    {
        using var http = new HttpClient();
        var outcome = await new PolicyEvaluator(TrustedRoot.Empty).EvaluateAsync(
            set, new ImageSubject("/spec/containers/0/image", ImageReference.Parse(Image), "pods", labels),
            new RegistryConnections(http, static _ => null, allowInsecure: false), "test", CancellationToken.None);
        return outcome.Allowed;
    }

    [Theory]
    [InlineData("{matchExpressions: [{key: tier, operator: In, values: [web, api]}]}", "web", false)]
    [InlineData("{matchExpressions: [{key: tier, operator: In, values: [web, api]}]}", "db", true)]
    [InlineData("{matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}", "db", true)]
    [InlineData("{matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}", null, false)]
    [InlineData("{matchExpressions: [{key: tier, operator: Exists}]}", "db", false)]
    [InlineData("{matchExpressions: [{key: tier, operator: DoesNotExist}]}", "db", true)]
    [InlineData("{matchLabels: {team: a}, matchExpressions: [{key: tier, operator: Exists}]}", "web", true)]
    public async Task Evaluate_MatchExpressions_SelectLikeKubernetes(string selector, string? tier, bool admitted)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (tier is not null)
        {
            labels["tier"] = tier;
        }

        Assert.Equal(admitted, await AdmittedAsync(Policy(selector), labels));
    }

    [Theory]
    [InlineData("{matchExpressions: [{key: tier, operator: In}]}", "spec.match[0].selector.matchExpressions[0].values", "needs at least one value")]
    [InlineData("{matchExpressions: [{key: tier, operator: Exists, values: [x]}]}", "spec.match[0].selector.matchExpressions[0].values", "takes no values")]
    [InlineData("{matchExpressions: [{key: tier, operator: Gt, values: [1]}]}", "spec.match[0].selector.matchExpressions[0].operator", "not In, NotIn, Exists or DoesNotExist")]
    [InlineData("{matchExpressions: [{operator: Exists}]}", "spec.match[0].selector.matchExpressions[0].key", "required")]
    public void Load_InvalidMatchExpression_RefusedWithFieldPath(string selector, string field, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Policy(selector));

        Assert.Equal(field, error.Field);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
