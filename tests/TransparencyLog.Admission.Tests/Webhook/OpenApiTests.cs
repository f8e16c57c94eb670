using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>The admission host's own Program: a complete OpenAPI document, like every host's.</summary>
public sealed class OpenApiTests : IAsyncLifetime
{
    private readonly string _policies = Directory.CreateTempSubdirectory("tlog-admission-openapi-").FullName;
    private WebApplicationFactory<Program> _host = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        File.WriteAllText(
            Path.Combine(_policies, "pass.yaml"),
            "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: pass}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n");
        _host = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseEnvironment("Production")
            .UseSetting("Admission:PoliciesDirectory", _policies)
            // The test server replaces Kestrel, so the serving certificate is never read.
            .UseSetting("Admission:CertificatePath", Path.Combine(_policies, "unused.pem"))
            .UseSetting("Admission:KeyPath", Path.Combine(_policies, "unused.key"))
            .UseSetting("Admission:MaxRequestBytes", "1048576"));
        _client = _host.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_policies, recursive: true);
    }

    [Fact]
    public async Task OpenApi_EveryRoute_DescribedWithEveryStatusItAnswers()
    {
        var coverage = await OpenApiCoverage.GetAsync(_client);
        coverage.CheckEndpoints(_host.Services);

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
