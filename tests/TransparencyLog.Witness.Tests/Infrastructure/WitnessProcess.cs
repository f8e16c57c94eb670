using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>The real witness host, started as its own process on a loopback port against a test database.</summary>
internal sealed class WitnessProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WitnessProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

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

    /// <summary>A witnessed log: origin, verifier key, and optionally its own rate limit.</summary>
    public sealed record LogConfig(string Origin, string VerifierKey, int? Burst = null, double? RequestsPerSecond = null);

    public static async Task<WitnessProcess> StartAsync(string appConnectionString, string keyDirectory, IReadOnlyList<LogConfig> logs, string name = "witness.test/w1", int? port = null)
    {
        var chosen = port ?? TestPorts.Next();
        var dll = RepositoryPaths.ProjectOutput("TransparencyLog.Witness");
        var start = new ProcessStartInfo("dotnet", [dll, "--contentRoot", Path.GetDirectoryName(dll)!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{chosen}";
        start.Environment["Storage__ConnectionString"] = appConnectionString;
        start.Environment["Witness__Name"] = name;
        start.Environment["Witness__StateDirectory"] = keyDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
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

        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start the witness");
        var witness = new WitnessProcess(process, chosen);
        await witness.WaitReadyAsync();
        return witness;
    }

    public async Task<HttpResponseMessage> AddCheckpointAsync(string body) =>
        await Client.PostAsync("/add-checkpoint", new StringContent(body, Encoding.UTF8, "text/plain"));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        Client.Dispose();
        _process.Dispose();
    }


    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the witness exited with {_process.ExitCode}:\n{Output}");
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

        throw new TimeoutException($"the witness did not become ready:\n{Output}");
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
