using System.Net;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;
using TransparencyLog.CaService.Tests.Issuance;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.CaService.Tests.Operations;

/// <summary>The CA's <c>/metrics</c>, <c>/readyz</c> and <c>/openapi/v1.json</c> on its REST port.</summary>
[Collection(CaFixture.Collection)]
public sealed class CaOperationsTests(CaFixture fixture) : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-ca-ops-").FullName;
    private FakeCtLog _ctLog = null!;

    public async Task InitializeAsync() => _ctLog = await FakeCtLog.StartAsync();

    public async Task DisposeAsync()
    {
        await _ctLog.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Metrics_AfterIssuanceAndRefusals_SeriesMoved()
    {
        await using var ca = CaServer.Start(WithCtLog(_ctLog.Url));
        var before = await PrometheusScrape.GetAsync(ca.Rest);
        var token = await fixture.Email.MintAsync(email: "metrics@example.com");
        using var key = new TestKey();

        using (var issued = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "metrics@example.com")))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        }

        using (var badToken = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson("not.a.token", "metrics@example.com")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badToken.StatusCode);
        }

        using (var noToken = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(null, "metrics@example.com")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        }

        var after = await PrometheusScrape.GetAsync(ca.Rest);

        // Counters are per process and other CA instances in this test run may issue too: at least what was sent here.
        Assert.True(Moved("fulcio_new_certs") >= 1, "fulcio_new_certs");
        Assert.True(Moved("tlog_certificates_total", ("issuer_type", "email"), ("outcome", "issued")) >= 1, "issued by issuer type");
        Assert.True(Moved("tlog_certificates_total", ("outcome", "invalid_identity_token")) >= 2, "refusals by outcome");
        Assert.True(Moved("tlog_token_verification_failures_total", ("reason", "invalid_identity_token")) >= 1, "token failure by reason");
        Assert.True(Moved("tlog_token_verification_failures_total", ("reason", "missing")) >= 1, "missing token");
        Assert.True(Moved("tlog_ct_submission_duration_seconds_count", ("endpoint", "add-pre-chain"), ("outcome", "ok")) >= 1, "CT submission latency");
        Assert.True(Moved("fulcio_api_latency_count", ("method", "/api/v2/signingCert"), ("code", "201")) >= 1, "fulcio_api_latency");
        Assert.True(Moved("fulcio_api_latency_count", ("method", "/api/v2/signingCert"), ("code", "400")) >= 2, "fulcio_api_latency on errors");
        Assert.True(Moved("http_requests_received_total", ("endpoint", "/api/v2/signingCert"), ("code", "201")) >= 1, "HTTP requests by route and status");
        Assert.True(after.Has("http_request_duration_seconds_bucket"), "latency histograms");
        Assert.True(after.Has("process_cpu_seconds_total"), "process metrics");

        double Moved(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
    }

    [Fact]
    public async Task Readyz_CtLogAnswers_Returns200()
    {
        await using var ca = CaServer.Start(WithCtLog(_ctLog.Url));

        using var response = await ca.Rest.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("ct-log").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("ca-issuer").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Readyz_CtLogUnreachable_Returns503WhileHealthzStays200()
    {
        // A port nothing listens on: the CT log is down.
        var closed = TestPorts.Next();
        await using var ca = CaServer.Start(WithCtLog($"http://127.0.0.1:{closed}"));

        using var response = await ca.Rest.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("ct-log").GetProperty("status").GetString());
        Assert.Equal("ok", await ca.Rest.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Operational_OnGrpcPort_Return404()
    {
        using var grpc = fixture.Ca.CreateGrpcClient();

        foreach (var path in new[] { "/readyz", "/metrics", "/openapi/v1.json" })
        {
            using var response = await grpc.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task OpenApi_EveryRestRoute_DescribedWithEveryStatusItAnswers()
    {
        var ca = fixture.Ca;
        var coverage = await OpenApiCoverage.GetAsync(ca.Rest);
        coverage.CheckEndpoints(ca.Services);
        Assert.DoesNotContain(coverage.Operations(), o => o.Path.StartsWith("/dev.sigstore", StringComparison.Ordinal));

        var token = await fixture.Email.MintAsync(email: "openapi@example.com");
        using var key = new TestKey();
        await coverage.ProbeAsync(ca.Rest, "POST", "/api/v2/signingCert", "/api/v2/signingCert", key.RequestJson(token, "openapi@example.com"));
        await coverage.ProbeAsync(ca.Rest, "POST", "/api/v2/signingCert", "/api/v2/signingCert", key.RequestJson(token, "wrong-challenge"));
        var outsider = await fixture.Email.MintAsync(email: "someone@elsewhere.test");
        await coverage.ProbeAsync(ca.Rest, "POST", "/api/v2/signingCert", "/api/v2/signingCert", key.RequestJson(outsider, "someone@elsewhere.test"));
        await coverage.ProbeBadInputAsync(ca.Rest);

        coverage.AssertNoProblems();
        Assert.Equal("CA_CreateSigningCertificate", coverage.Operation("POST", "/api/v2/signingCert")?.GetProperty("operationId").GetString());
    }

    private Dictionary<string, string?> WithCtLog(string url) => fixture.Settings(new Dictionary<string, string?>
    {
        ["Issuance:CtLogUrl"] = url,
        ["Issuance:CtLogPublicKeyPath"] = _ctLog.WritePublicKey(_directory),
    });
}
