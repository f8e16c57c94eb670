extern alias devissuer;

using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TransparencyLog.CaService.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.CaService.Tests.Operations;

/// <summary>The development issuer's own Program: health, readiness, metrics and OpenAPI like every host.</summary>
public sealed class DevIssuerOperationsTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("tlog-dev-ops-").FullName;
    private readonly int _port = TestPorts.Next();
    private DevIssuerHost _host = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _host = new DevIssuerHost($"http://127.0.0.1:{_port}", _state);
        _host.UseKestrel();
        _host.StartServer();
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}") };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Operational_Endpoints_AnswerLikeEveryHost()
    {
        Assert.Equal("ok", await _client.GetStringAsync("/healthz"));
        using var ready = await _client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("signing-key", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var before = await PrometheusScrape.GetAsync(_client);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/jwks")).StatusCode);
        var after = await PrometheusScrape.GetAsync(_client);
        Assert.Equal(1, after.Sum("http_requests_received_total", ("endpoint", "/jwks"), ("code", "200")) - before.Sum("http_requests_received_total", ("endpoint", "/jwks"), ("code", "200")));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"alice@example.com\"")]
    [InlineData("{\"email\":\"alice@example.com\",\"ttl\":1e30}")]
    public async Task Token_JsonThatIsNoTokenRequest_400(string body)
    {
        // Found by reading (2026-12-06): a root that is not an object made TryGetProperty throw, and the issuer answered 500.
        using var answer = await _client.PostAsync("/token", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
    }

    [Fact]
    public async Task Token_JsonNotUtf8OrFormTtlBeyondInt_400()
    {
        byte[] notUtf8 = [.. "{\"email\":\"alice"u8, 0xff, .. "@example.com\"}"u8];
        using var json = new ByteArrayContent(notUtf8);
        json.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var form = new FormUrlEncodedContent([new("email", "alice@example.com"), new("ttl", "99999999999")]);

        using var jsonAnswer = await _client.PostAsync("/token", json);
        using var formAnswer = await _client.PostAsync("/token", form);

        Assert.Equal(HttpStatusCode.BadRequest, jsonAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, formAnswer.StatusCode);
    }

    [Fact]
    public async Task OpenApi_EveryRoute_DescribedWithEveryStatusItAnswers()
    {
        var coverage = await OpenApiCoverage.GetAsync(_client);
        coverage.CheckEndpoints(_host.Services);

        await coverage.ProbeAsync(_client, "POST", "/token", "/token", "{\"email\":\"dev@example.com\"}");
        await coverage.ProbeAsync(_client, "POST", "/token", "/token", "{\"ttl\":-1}");
        await coverage.ProbeBadInputAsync(_client);

        coverage.AssertNoProblems();
    }

    private sealed class DevIssuerHost(string url, string state) : WebApplicationFactory<devissuer::Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("DevIssuer:Url", url);
            builder.UseSetting("DevIssuer:StateDirectory", state);
            builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        }
    }
}
