using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TransparencyLog.LogService.Tests.CertificateTransparency;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Operations;

/// <summary>
/// <c>/openapi/v1.json</c> of the log service with every log enabled (Rekor v1 and v2, CT, TSA): every route is
/// described, and every status it answers, to good and bad requests alike, is documented.
/// </summary>
public sealed class OpenApiTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("tlog-openapi-").FullName;
    private readonly TestCa _ca = new("openapi");
    private LogServiceHost? _host;
    private TestDatabase? _database;

    public async Task InitializeAsync()
    {
        var roots = Path.Combine(_state, "roots.pem");
        await File.WriteAllTextAsync(roots, _ca.Intermediate.ExportCertificatePem() + "\n" + _ca.RootPem);
        _database = await PostgresServer.CreateDatabaseAsync("openapi");
        var app = _database.App;
        _host = new LogServiceHost(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = app,
            ["Logs:Rekor:Name"] = "openapi.test",
            ["Logs:Rekor:StateDirectory"] = _state,
            ["Logs:RekorV2:Enabled"] = "true",
            ["Logs:RekorV2:Name"] = "openapi-v2.test",
            ["Logs:RekorV2:StateDirectory"] = _state,
            ["Logs:Ct:Enabled"] = "true",
            ["Logs:Ct:Name"] = "openapi.test/ct",
            ["Logs:Ct:StateDirectory"] = _state,
            ["CertificateTransparency:RootsPath"] = roots,
            ["Timestamping:Development:StateDirectory"] = Path.Combine(_state, "tsa"),
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        _host.UseKestrel(0);
        _host.StartServer();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        _ca.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task OpenApi_EveryRoute_DescribedWithEveryStatusItAnswers()
    {
        using var client = _host!.CreateClient();
        var coverage = await OpenApiCoverage.GetAsync(client);
        coverage.CheckEndpoints(_host.Services);

        // Good requests: the success statuses, and a duplicate.
        using var entries = new Entries();
        var proposal = entries.NewHashedRekord().Json;
        await coverage.ProbeAsync(client, "POST", "/api/v1/log/entries", "/api/v1/log/entries", proposal);
        await coverage.ProbeAsync(client, "POST", "/api/v1/log/entries", "/api/v1/log/entries", proposal);
        await coverage.ProbeAsync(client, "GET", "/api/v1/log/entries", "/api/v1/log/entries?logIndex=0");
        await coverage.ProbeAsync(client, "GET", "/api/v1/log/entries", "/api/v1/log/entries?logIndex=99");
        await coverage.ProbeAsync(client, "GET", "/api/v1/log/entries/{entryUUID}", "/api/v1/log/entries/" + new string('a', 64));
        await coverage.ProbeAsync(client, "GET", "/api/v1/log/proof", "/api/v1/log/proof?firstSize=1&lastSize=1");
        await coverage.ProbeAsync(client, "POST", "/api/v1/log/entries/retrieve", "/api/v1/log/entries/retrieve", "{\"logIndexes\":[0]}");
        await coverage.ProbeAsync(client, "POST", "/api/v1/index/retrieve", "/api/v1/index/retrieve", "{\"hash\":\"sha256:" + new string('b', 64) + "\"}");
        await coverage.ProbeAsync(client, "GET", "/tile/{path}", "/tile/0/000.p/1");
        await coverage.ProbeAsync(client, "GET", "/tile/{path}", "/tile/0/x999");
        await coverage.ProbeAsync(client, "GET", "/ct/v1/get-entries", "/ct/v1/get-entries?start=0&end=0");
        await coverage.ProbeAsync(client, "GET", "/ct/v1/get-proof-by-hash", "/ct/v1/get-proof-by-hash?hash=" + Uri.EscapeDataString(Convert.ToBase64String(new byte[32])) + "&tree_size=1");
        await coverage.ProbeAsync(client, "POST", "/ct/v1/add-chain", "/ct/v1/add-chain",
            JsonSerializer.Serialize(new { chain = _ca.Chain(_ca.IssueLeaf(poison: false)).Select(Convert.ToBase64String) }));
        await coverage.ProbeAsync(client, "POST", "/api/v1/timestamp", "/api/v1/timestamp", "{\"artifactHash\":\"" + Convert.ToBase64String(new byte[32]) + "\",\"hashAlgorithm\":\"sha256\"}");

        // Bad requests of every kind, to every documented route.
        // The entry stream never ends on good input: its bad inputs are probed here, the rest below.
        await coverage.ProbeAsync(client, "GET", "/api/v1/log/stream", "/api/v1/log/stream?from=x");
        await coverage.ProbeAsync(client, "POST", "/api/v2/index/retrieve", "/api/v2/index/retrieve", "{\"hash\":\"sha256:" + new string('b', 64) + "\"}");
        await coverage.ProbeBadInputAsync(client, static path => path == "/api/v1/log/stream");

        coverage.AssertNoProblems();
    }

    [Fact]
    public async Task OpenApi_RekorV1Routes_MatchRekorsPublishedOperations()
    {
        using var client = _host!.CreateClient();
        var coverage = await OpenApiCoverage.GetAsync(client);

        // Path, method, operationId and the response codes of Rekor's openapi.yaml (its "default" is our 500).
        (string Method, string Path, string OperationId, string[] Codes)[] rekor =
        [
            ("POST", "/api/v1/log/entries", "createLogEntry", ["201", "400", "409", "500"]),
            ("GET", "/api/v1/log/entries", "getLogEntryByIndex", ["200", "404", "500"]),
            ("GET", "/api/v1/log/entries/{entryUUID}", "getLogEntryByUUID", ["200", "404", "500"]),
            ("POST", "/api/v1/log/entries/retrieve", "searchLogQuery", ["200", "400", "422", "500"]),
            ("GET", "/api/v1/log", "getLogInfo", ["200", "500"]),
            ("GET", "/api/v1/log/publicKey", "getPublicKey", ["200"]),
            ("GET", "/api/v1/log/proof", "getLogProof", ["200", "400", "500"]),
            ("POST", "/api/v1/index/retrieve", "searchIndex", ["200", "400", "500"]),
        ];
        foreach (var (method, path, operationId, codes) in rekor)
        {
            var operation = coverage.Operation(method, path) ?? throw new Xunit.Sdk.XunitException($"{method} {path} is missing");
            Assert.Equal(operationId, operation.GetProperty("operationId").GetString());
            var documented = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToHashSet();
            Assert.Superset(codes.ToHashSet(), documented);
        }
    }

    /// <summary>The real log service (its Program.cs) in this process, so the test can walk its endpoints.</summary>
    private sealed class LogServiceHost(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}
