using System.Net;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>The admission host's own Program: a complete OpenAPI document, like every host's.</summary>
public sealed class OpenApiTests : IAsyncLifetime
{
    private PassAllWebhookHost _host = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _host = PassAllWebhookHost.Start(("Admission:MaxRequestBytes", "1048576"));
        _client = _host.Client;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task OpenApi_EveryRoute_DescribedWithEveryStatusItAnswers()
    {
        var coverage = await OpenApiCoverage.GetAsync(_client);
        coverage.CheckEndpoints(_host.Factory.Services);

        const string review = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"prod","object":{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}}}}""";
        Assert.Equal(200, await coverage.ProbeAsync(_client, "POST", "/validate", "/validate", review));
        Assert.Equal(200, await coverage.ProbeAsync(_client, "POST", "/mutate", "/mutate", review));
        await coverage.ProbeBadInputAsync(_client);

        coverage.AssertNoProblems();
    }

    [Fact]
    public async Task Operational_Endpoints_AnswerLikeEveryHost()
    {
        Assert.Equal("ok", await _client.GetStringAsync("/healthz"));
        using var ready = await _client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("1 policies in force", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
