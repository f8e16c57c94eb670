
namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>
/// The real log service, started as its own process on a loopback port against a test database, so tests exercise
/// real HTTP, real PostgreSQL, and can kill it with SIGKILL.
/// </summary>
internal sealed class LogServiceProcess : IAsyncDisposable
{
    private readonly ServiceProcess _process;

    private LogServiceProcess(ServiceProcess process, int port, string logName)
    {
        _process = process;
        Port = port;
        LogName = logName;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public int Port { get; }

    public string LogName { get; }

    public HttpClient Client { get; }

    public string Output => _process.Output;

    /// <summary>Starts the service; <paramref name="keyDirectory"/> keeps the log key across restarts.</summary>
    public static async Task<LogServiceProcess> StartAsync(
        string appConnectionString,
        string keyDirectory,
        string? logName = null,
        IReadOnlyDictionary<string, string>? settings = null,
        int? port = null)
    {
        var chosenPort = port ?? ServiceProcess.FreePort();
        var name = logName ?? "test.log.local";
        var start = ServiceProcess.Dotnet(RepositoryPaths.ProjectOutput("TransparencyLog.LogService"));
        start.Environment["Urls"] = $"http://127.0.0.1:{chosenPort}";
        start.Environment["Storage__ConnectionString"] = appConnectionString;
        start.Environment["Logs__Rekor__Name"] = name;
        start.Environment["Logs__Rekor__StateDirectory"] = keyDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = await ServiceProcess.StartReadyAsync("the log service", start, new Uri($"http://127.0.0.1:{chosenPort}/readyz"));
        return new LogServiceProcess(process, chosenPort, name);
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; whatever was not committed is gone.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
    }
}
