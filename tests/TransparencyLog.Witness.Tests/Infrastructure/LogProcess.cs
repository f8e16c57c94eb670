using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>The real log service as its own process, for tests of the log asking witnesses for cosignatures.</summary>
internal sealed class LogProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private LogProcess(Process process, int port)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

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

    public static async Task<LogProcess> StartAsync(string appConnectionString, string stateDirectory, IReadOnlyDictionary<string, string> settings)
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var dll = RepositoryPaths.ProjectOutput("TransparencyLog.LogService");
        var start = new ProcessStartInfo("dotnet", [dll, "--contentRoot", Path.GetDirectoryName(dll)!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Storage__ConnectionString"] = appConnectionString;
        start.Environment["Logs__Rekor__Name"] = "witnessed.log.test";
        start.Environment["Logs__Rekor__StateDirectory"] = stateDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var log = new LogProcess(Process.Start(start) ?? throw new InvalidOperationException("cannot start the log service"), port);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (log._process.HasExited)
            {
                throw new InvalidOperationException($"the log service exited:\n{log.Output}");
            }

            try
            {
                using var response = await log.Client.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return log;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the log service did not become ready:\n{log.Output}");
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
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        Client.Dispose();
        _process.Dispose();
        _signingKey.Dispose();
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
