using System.Globalization;
using System.Text;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>The real witness host, started as its own process on a loopback port against a test database.</summary>
internal sealed class WitnessProcess : IAsyncDisposable
{
    private readonly ServiceProcess _process;

    private WitnessProcess(ServiceProcess process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public HttpClient Client { get; }

    public string Output => _process.Output;

    /// <summary>A witnessed log: origin, verifier key, and optionally its own rate limit.</summary>
    public sealed record LogConfig(string Origin, string VerifierKey, int? Burst = null, double? RequestsPerSecond = null);

    public static async Task<WitnessProcess> StartAsync(string appConnectionString, string keyDirectory, IReadOnlyList<LogConfig> logs, string name = "witness.test/w1", int? port = null)
    {
        var chosen = port ?? FreePort();
        var start = ServiceProcess.Dotnet(RepositoryPaths.ProjectOutput("TransparencyLog.Witness"));
        start.Environment["Urls"] = $"http://127.0.0.1:{chosen}";
        start.Environment["Storage__ConnectionString"] = appConnectionString;
        start.Environment["Witness__Name"] = name;
        start.Environment["Witness__StateDirectory"] = keyDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        for (var i = 0; i < logs.Count; i++)
        {
            var prefix = $"Witness__Logs__{i}__";
            start.Environment[prefix + "Origin"] = logs[i].Origin;
            start.Environment[prefix + "VerifierKeys__0"] = logs[i].VerifierKey;
            if (logs[i].Burst is { } burst)
            {
                start.Environment[prefix + "Burst"] = burst.ToString(CultureInfo.InvariantCulture);
            }

            if (logs[i].RequestsPerSecond is { } rate)
            {
                start.Environment[prefix + "RequestsPerSecond"] = rate.ToString(CultureInfo.InvariantCulture);
            }
        }

        var process = await ServiceProcess.StartReadyAsync("the witness", start, new Uri($"http://127.0.0.1:{chosen}/readyz"));
        return new WitnessProcess(process, chosen);
    }

    public async Task<HttpResponseMessage> AddCheckpointAsync(string body) =>
        await Client.PostAsync("/add-checkpoint", new StringContent(body, Encoding.UTF8, "text/plain"));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
    }

    public static int FreePort() => ServiceProcess.FreePort();
}
