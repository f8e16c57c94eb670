using System.Net;
using System.Text;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// The admission host's handler on bodies that are JSON but no AdmissionReview. The exempt-namespace check reads
/// request.namespace before the evaluator checks the review's shape, and the admission-review fuzz target does not
/// run it: a body of <c>[]</c> made JsonNode's indexer throw and the webhook answer 500 (found by reading, 2026-12-06).
/// </summary>
public sealed class ReviewShapeTests : IAsyncLifetime
{
    private PassAllWebhookHost _host = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _host = PassAllWebhookHost.Start();
        _client = _host.Client;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("[]")]
    [InlineData("\"review\"")]
    [InlineData("5")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":[]}")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":\"x\"}")]
    public async Task Validate_JsonThatIsNoReview_400AndServiceStaysUp(string body)
    {
        using var validate = await _client.PostAsync("/validate", new StringContent(body, Encoding.UTF8, "application/json"));
        using var mutate = await _client.PostAsync("/mutate", new StringContent(body, Encoding.UTF8, "application/json"));
        using var health = await _client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.BadRequest, validate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, mutate.StatusCode);
        Assert.Equal("application/problem+json", validate.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Validate_ExemptNamespace_StillAdmittedWithoutVerification()
    {
        const string review = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"kube-system","object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"127.0.0.1:1/app:latest"}]}}}}""";

        using var answer = await _client.PostAsync("/validate", new StringContent(review, Encoding.UTF8, "application/json"));
        var text = await answer.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        // A tag, not a digest, on a registry that is not there: only an exempt namespace admits it (RequireDigest is on).
        Assert.Contains("\"allowed\":true", text, StringComparison.Ordinal);
    }
}
