using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Fuzz;

/// <summary>The admission webhook's review path without network: every image matches a static pass policy.</summary>
internal static class AdmissionTargets
{
    private static readonly Lazy<PolicySet> s_policies = new(static () => PolicySet.Load(
        [("fuzz.yaml", "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: pass}\nspec:\n  images: [{glob: \"registry.example/**\"}]\n  authorities: [{static: {action: pass}}]\n")]));

    private static readonly HttpClient s_http = new(new UnreachableHandler());

    /// <summary>As ReviewHandler: the body parsed with the same depth limit, then judged by /validate's rules.</summary>
    public static void JudgeReview(byte[] input)
    {
        var body = ReviewEvaluator.ParseReview(input);
        var evaluator = new ReviewEvaluator(
            new PolicyEvaluator(TrustedRoot.Empty),
            static (_, _) => new ReviewRegistries(new RegistryConnections(s_http, static _ => null, allowInsecure: false), "fuzz"),
            TimeProvider.System,
            TimeSpan.FromSeconds(5));
        evaluator.EvaluateAsync(s_policies.Value, body, mutate: false, requireDigest: true, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>No network under the fuzzer: a request that would reach a registry fails as an unreachable one does.</summary>
    private sealed class UnreachableHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException("no network under the fuzzer");
    }
}
