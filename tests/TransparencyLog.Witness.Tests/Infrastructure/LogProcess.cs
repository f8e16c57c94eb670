using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>The real log service as its own process, for tests of the log asking witnesses for cosignatures.</summary>
internal sealed class LogProcess : IAsyncDisposable
{
    private readonly ServiceProcess _process;
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private LogProcess(ServiceProcess process, int port)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient Client { get; }

    public string Output => _process.Output;

    public static async Task<LogProcess> StartAsync(string appConnectionString, string stateDirectory, IReadOnlyDictionary<string, string> settings)
    {
        var port = ServiceProcess.FreePort();
        var start = ServiceProcess.Dotnet(RepositoryPaths.ProjectOutput("TransparencyLog.LogService"));
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Storage__ConnectionString"] = appConnectionString;
        start.Environment["Logs__Rekor__Name"] = "witnessed.log.test";
        start.Environment["Logs__Rekor__StateDirectory"] = stateDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = await ServiceProcess.StartReadyAsync("the log service", start, new Uri($"http://127.0.0.1:{port}/readyz"));
        return new LogProcess(process, port);
    }

    /// <summary>Submits a fresh, correctly signed hashedrekord entry.</summary>
    public async Task<HttpResponseMessage> AppendAsync()
    {
        var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(32));
        var signature = _signingKey.SignHash(digest, System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence);
        var key = Convert.ToBase64String(Encoding.UTF8.GetBytes(_signingKey.ExportSubjectPublicKeyInfoPem() + "\n"));
        var proposal = new JsonObject
        {
            ["apiVersion"] = "0.0.1",
            ["kind"] = "hashedrekord",
            ["spec"] = new JsonObject
            {
                ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = Convert.ToHexStringLower(digest) } },
                ["signature"] = new JsonObject
                {
                    ["content"] = Convert.ToBase64String(signature),
                    ["publicKey"] = new JsonObject { ["content"] = key },
                },
            },
        }.ToJsonString();
        return await Client.PostAsync("/api/v1/log/entries", new StringContent(proposal, Encoding.UTF8, "application/json"));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
        _signingKey.Dispose();
    }
}
