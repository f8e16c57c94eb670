using System.Diagnostics;
using System.Text;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>
/// The real log service, started as its own process on a loopback port against a test database, so tests exercise
/// real HTTP, real PostgreSQL, and can kill it with SIGKILL.
/// </summary>
internal sealed class LogServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private LogServiceProcess(Process process, int port, string logName)
    {
        _process = process;
        Port = port;
        LogName = logName;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string LogName { get; }

    public HttpClient Client { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the service; <paramref name="keyDirectory"/> keeps the log key across restarts.</summary>
    public static async Task<LogServiceProcess> StartAsync(
        string appConnectionString,
        string keyDirectory,
        string? logName = null,
        IReadOnlyDictionary<string, string>? settings = null,
        int? port = null)
    {
        var chosenPort = port ?? TestPorts.Next();
        var name = logName ?? "test.log.local";
        var dll = RepositoryPaths.ProjectOutput("TransparencyLog.LogService");
        var start = new ProcessStartInfo("dotnet", [dll, "--contentRoot", Path.GetDirectoryName(dll)!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{chosenPort}";
        start.Environment["Storage__ConnectionString"] = appConnectionString;
        start.Environment["Logs__Rekor__Name"] = name;
        start.Environment["Logs__Rekor__StateDirectory"] = keyDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start the log service");
        var service = new LogServiceProcess(process, chosenPort, name);
        await service.WaitHealthyAsync();
        return service;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing; whatever was not committed is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        Client.Dispose();
        _process.Dispose();
        await Task.CompletedTask;
    }

    private async Task WaitHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the log service exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await Client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the log service did not become ready:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
