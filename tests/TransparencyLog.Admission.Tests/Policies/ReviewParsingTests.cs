using System.Text;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>The webhook's body parsing (ReviewHandler and the admission-review fuzz target both use it).</summary>
public sealed class ReviewParsingTests
{
    [Fact]
    public void ParseReview_InvalidUtf8InsideAString_ReviewFormatException()
    {
        // Found by the admission-review fuzz target: System.Text.Json parses this and throws only when the string is read.
        byte[] body = [.. "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\""u8, 0xff, .. "\"}}"u8];

        var error = Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(body));

        Assert.Equal("the body is not UTF-8", error.Message);
    }

    [Theory]
    [InlineData("{not json", "the body is not JSON")]
    [InlineData("", "the body is not JSON")]
    public void ParseReview_NotJson_ReviewFormatException(string body, string message)
    {
        var error = Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ParseReview_RepeatedMember_ReviewFormatException()
    {
        // Found by fuzzing: a repeated member threw ArgumentException when its object was first read.
        var body = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","kind":"AdmissionReview","request":{}}""";

        Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(Encoding.UTF8.GetBytes(body)));
    }

    [Theory]
    [InlineData("""{"uid":"u","kind":"Pod","operation":"CREATE","object":{}}""")]
    [InlineData("""{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE","object":{"metadata":"x","spec":{"containers":[{"image":"a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}}}""")]
    [InlineData("""{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE","object":{"spec":["x"]}}""")]
    public async Task EvaluateAsync_FieldOfTheWrongJsonType_ReviewFormatException(string request)
    {
        using var http = new HttpClient();
        var evaluator = new ReviewEvaluator(
            new PolicyEvaluator(TrustedRoot.Empty),
            (_, _) => new ReviewRegistries(new RegistryConnections(http, static _ => null, allowInsecure: false), "test"),
            TimeProvider.System,
            TimeSpan.FromSeconds(5));
        var set = PolicySet.Load([("p.yaml", "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n")]);
        var body = ReviewEvaluator.ParseReview(Encoding.UTF8.GetBytes($$"""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{request}} }"""));

        await Assert.ThrowsAsync<ReviewFormatException>(() => evaluator.EvaluateAsync(set, body, mutate: false, requireDigest: true, CancellationToken.None));
    }

    [Fact]
    public void ParseReview_NestedTooDeep_ReviewFormatException()
    {
        var deep = new string('[', ReviewEvaluator.MaxJsonDepth + 1) + new string(']', ReviewEvaluator.MaxJsonDepth + 1);

        Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(Encoding.UTF8.GetBytes(deep)));
    }
}
