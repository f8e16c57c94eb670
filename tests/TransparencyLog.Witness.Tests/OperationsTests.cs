using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TransparencyLog.Tests.Shared;
using TransparencyLog.Witness.Tests.Infrastructure;

namespace TransparencyLog.Witness.Tests;

/// <summary>The witness host's own Program: health, readiness, metrics and a complete OpenAPI document like every host.</summary>
public sealed class OperationsTests : IAsyncLifetime
{
    private readonly TestLog _log = new("ops.log.test");
    private WebApplicationFactory<Program> _host = null!;
    private HttpClient _client = null!;
    private TestDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("witness_ops");
        var app = _database.App;
        _host = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseEnvironment("Production")
            .UseSetting("Storage:ConnectionString", app)
            .UseSetting("Witness:Name", "witness.test/ops")
            .UseSetting("Witness:Logs:0:Origin", _log.Origin)
            .UseSetting("Witness:Logs:0:VerifierKeys:0", _log.VerifierKey));
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        _log.Dispose();

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Operational_Endpoints_AnswerLikeEveryHost()
    {
        Assert.Equal("ok", await _client.GetStringAsync("/healthz"));
        using var ready = await _client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("postgresql", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.StartsWith("witness.test/ops+", await _client.GetStringAsync("/verifier-key"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_EveryRoute_DescribedWithEveryStatusItAnswers()
    {
        var coverage = await OpenApiCoverage.GetAsync(_client);
        coverage.CheckEndpoints(_host.Services);

        _log.Append(2);
        await coverage.ProbeAsync(_client, "POST", "/add-checkpoint", "/add-checkpoint", _log.BodyFrom(0), "text/plain");
        await coverage.ProbeAsync(_client, "POST", "/add-checkpoint", "/add-checkpoint", _log.BodyFrom(0), "text/plain");
        await coverage.ProbeBadInputAsync(_client);

        coverage.AssertNoProblems();
    }
}
