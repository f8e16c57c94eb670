using System.Diagnostics;
using System.Net.Sockets;
using System.Net;

namespace TransparencyLog.Tests.Shared;

/// <summary>
/// A real CNCF distribution registry (Debian's <c>docker-registry</c>) on a free loopback port, with storage in a
/// temporary directory; with <see cref="Username"/>/<see cref="Password"/> behind htpasswd (bcrypt, <c>htpasswd -B</c>).
/// </summary>
public sealed class LocalRegistry : IAsyncDisposable
{
    public const string Username = "ci-user";
    public const string Password = "s3cret-Registry-Pass";

    private readonly Process _process;
    private readonly string _directory;

    private LocalRegistry(Process process, string directory, string address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    /// <summary>host:port.</summary>
    public string Address { get; }

    /// <summary>Starts a registry; with <paramref name="tls"/> (PEM certificate chain and key files) it speaks HTTPS only.</summary>
    public static async Task<LocalRegistry> StartAsync(bool authenticated, (string Certificate, string Key)? tls = null)
    {
        var directory = Directory.CreateTempSubdirectory("tlog-registry-").FullName;
        var port = TestPorts.Next();
        var config = $"""
            version: 0.1
            log: {"{"}level: warn, accesslog: {"{"}disabled: true{"}"}{"}"}
            storage:
              filesystem: {"{"}rootdirectory: "{directory}/storage"{"}"}
              delete: {"{"}enabled: true{"}"}
            http:
              addr: 127.0.0.1:{port}
            """;
        if (tls is { } files)
        {
            config += $"\n  tls: {{certificate: \"{files.Certificate}\", key: \"{files.Key}\"}}\n";
        }

        if (authenticated)
        {
            var htpasswd = Path.Combine(directory, "htpasswd");
            var start = new ProcessStartInfo("htpasswd") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-Bbn", Username, Password })
            {
                start.ArgumentList.Add(argument);
            }

            using var tool = Process.Start(start) ?? throw new InvalidOperationException("cannot start htpasswd (apache2-utils)");
            var line = await tool.StandardOutput.ReadToEndAsync();
            await tool.WaitForExitAsync();
            Assert.True(tool.ExitCode == 0, "htpasswd -B failed");
            await File.WriteAllTextAsync(htpasswd, line);
            config += $"\nauth:\n  htpasswd: {{realm: tlog-test, path: \"{htpasswd}\"}}\n";
        }

        var configPath = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(configPath, config);
        var serve = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true };
        serve.ArgumentList.Add("serve");
        serve.ArgumentList.Add(configPath);
        var process = Process.Start(serve) ?? throw new InvalidOperationException("cannot start docker-registry");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new LocalRegistry(process, directory, $"127.0.0.1:{port}");
        // The readiness probe only waits for the port; the tests themselves check the certificate.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = static (_, _, _, _) => true };
        using var http = new HttpClient(handler);
        var scheme = tls is null ? "http" : "https";
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"{scheme}://{registry.Address}/v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return registry;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        await registry.DisposeAsync();
        throw new InvalidOperationException("docker-registry did not start");
    }


    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One anonymous and one htpasswd-protected registry shared by the registry client tests.</summary>
public sealed class RegistryPair : IAsyncLifetime
{
    public LocalRegistry Open { get; private set; } = null!;

    public LocalRegistry Protected { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Open = await LocalRegistry.StartAsync(authenticated: false);
        Protected = await LocalRegistry.StartAsync(authenticated: true);
    }

    public async Task DisposeAsync()
    {
        await Open.DisposeAsync();
        await Protected.DisposeAsync();
    }
}
