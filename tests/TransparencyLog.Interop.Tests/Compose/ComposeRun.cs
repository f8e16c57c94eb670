using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Testing;

namespace TransparencyLog.Interop.Tests.Compose;

/// <summary>
/// Runs the services of docker-compose.yml without a container engine: each build service's image entry point (from
/// the Dockerfile) or its compose entrypoint runs from the build output of the project the image publishes, with the
/// service's command and environment; container paths of volumes, bind mounts and secrets become directories under
/// a work directory, and every container port a free loopback port, in every value that names them (<c>service:port</c>,
/// <c>Host=service;Port=port</c>, <c>0.0.0.0:port</c>). The two upstream images are stood in for by what run.sh uses
/// (PostgreSQL through scripts/pg.sh, Debian's docker-registry). Services start in dependency order and each must
/// become ready (<c>/readyz</c>) or, for one-shot steps, exit 0, before the next starts.
/// </summary>
internal sealed class ComposeRun : IAsyncDisposable
{
    /// <summary>The upstream images the file may use, and the container port each listens on.</summary>
    private static readonly Dictionary<string, int> KnownImages = new(StringComparer.Ordinal)
    {
        ["postgres"] = 5432,
        ["registry"] = 5000,
    };

    private readonly ComposeFile _file;
    private readonly Dockerfile _dockerfile;
    private readonly Dictionary<(string Service, int Port), int> _ports = [];
    private readonly Dictionary<int, int> _loopbackPorts = [];
    private readonly List<ServiceProcess> _processes = [];
    private readonly HttpClient _http;
    private string? _postgresDirectory;

    public ComposeRun(ComposeFile file, Dockerfile dockerfile)
    {
        _file = file;
        _dockerfile = dockerfile;
        // Readiness only: the admission webhook's serving certificate is issued by a CA made for this run.
#pragma warning disable CA5359 // readiness probe of a loopback service with a throwaway certificate
        _http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
#pragma warning restore CA5359
        foreach (var service in file.Services.Values)
        {
            var ports = service.ContainerPorts.Concat(service.HealthCheckPorts)
                .Concat(service.Image is { } image && KnownImages.TryGetValue(ImageName(image), out var known) ? [known] : [])
                .Distinct();
            foreach (var port in ports)
            {
                if (service.NetworkService is not null)
                {
                    // It shares another service's network namespace: its ports are that namespace's loopback ports.
                    _loopbackPorts[port] = ServiceProcess.FreePort();
                }
                else
                {
                    _ports[(service.Name, port)] = ServiceProcess.FreePort();
                }
            }
        }
    }

    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("tlog-compose-").FullName;

    /// <summary>Services that were started, in start order, with whether they were one-shot steps.</summary>
    public List<(string Name, bool OneShot)> Started { get; } = [];

    /// <summary>The host directory standing for a named volume.</summary>
    public string Volume(string name) => Directory.CreateDirectory(Path.Combine(WorkDirectory, "volumes", name)).FullName;

    /// <summary>The loopback URL standing for <c>http://service:port</c> (or, for a shared namespace, <c>127.0.0.1:port</c>).</summary>
    public string Url(string service, int port, string scheme = "http") =>
        $"{scheme}://127.0.0.1:{(_ports.TryGetValue((service, port), out var p) ? p : _loopbackPorts[port])}";

    /// <summary>The directory of the project that image target publishes, standing for its <c>/app</c>.</summary>
    public string AppDirectory(string target) => _dockerfile.AppDirectory(target, Path.Combine(Repository.Root), Repository.Configuration);

    /// <summary>Starts every service in dependency order; each is ready or finished before the next starts.</summary>
    public async Task StartAllAsync()
    {
        await WriteSecretsAsync();
        foreach (var service in DependencyOrder())
        {
            Started.Add((service.Name, service.OneShot));
            if (service.Image is { } image)
            {
                await StartImageAsync(service, ImageName(image));
            }
            else
            {
                await StartBuiltAsync(service);
            }
        }
    }

    /// <summary>Runs a built image's program once more with other arguments (as <c>docker-compose run SERVICE ARGS</c>).</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(string serviceName, params string[] arguments)
    {
        var service = _file.Services[serviceName];
        var (start, _) = BuildStart(service, arguments);
        await using var process = ServiceProcess.Start(serviceName, start);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(2));
        return (exit, process.Output);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync();
        }

        if (_postgresDirectory is not null)
        {
            await ScriptAsync("pg.sh", "stop", _postgresDirectory);
        }

        _http.Dispose();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string ImageName(string image) => image.Split(':')[0];

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs one of the repository's scripts; returns its standard output, throws with its output when it fails.</summary>
    private static async Task<string> ScriptAsync(string script, params string[] arguments)
    {
        var result = await LocalSystem.RunAsync("bash", [Path.Combine(Repository.Root, "scripts", script), .. arguments], null, TimeSpan.FromMinutes(2));
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"scripts/{script} {string.Join(' ', arguments)} failed ({result.ExitCode}):\n{result.Output}");
    }

    /// <summary>The secrets docker-compose.yml's header tells operators to create, made the same way.</summary>
    private async Task WriteSecretsAsync()
    {
        var project = Path.Combine(WorkDirectory, "project");
        foreach (var (name, file) in _file.SecretFiles)
        {
            var path = Path.GetFullPath(Path.Combine(project, file));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (name is "app-password" or "tuf-admin-token")
            {
                File.WriteAllText(path, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            }
            else if (name == "tuf-online-key")
            {
                // tlog tuf generate-key --out secrets/tuf-online, as the header says: the .pem is the secret.
                var tlog = Path.Combine(AppDirectory("cli"), "tlog.dll");
                var result = await LocalSystem.RunAsync("dotnet", [tlog, "tuf", "generate-key", "--out", path[..^".pem".Length]], null, TimeSpan.FromMinutes(2));
                if (result.ExitCode != 0)
                {
                    throw new InvalidOperationException($"tlog tuf generate-key failed ({result.ExitCode}):\n{result.Output}");
                }
            }
        }

        if (_file.SecretFiles.Values.Any(f => f.Contains("secrets/admission/", StringComparison.Ordinal)))
        {
            await ScriptAsync("admission-cert.sh", Path.Combine(project, "secrets", "admission"), "admission");
        }
    }

    private string SecretPath(string name) =>
        Path.GetFullPath(Path.Combine(WorkDirectory, "project", _file.SecretFiles.TryGetValue(name, out var file)
            ? file
            : throw new InvalidOperationException($"secret '{name}' is not declared at the top level")));

    private List<ComposeService> DependencyOrder()
    {
        var ordered = new List<ComposeService>();
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        void Visit(ComposeService service)
        {
            if (ordered.Contains(service))
            {
                return;
            }

            if (!visiting.Add(service.Name))
            {
                throw new InvalidOperationException($"depends_on cycle through '{service.Name}'");
            }

            foreach (var dependency in service.DependsOn.Keys.Append(service.NetworkService).OfType<string>())
            {
                Visit(_file.Services.TryGetValue(dependency, out var d)
                    ? d
                    : throw new InvalidOperationException($"'{service.Name}' depends on '{dependency}', which is not enabled by the active profiles"));
            }

            ordered.Add(service);
        }

        foreach (var service in _file.Services.Values)
        {
            Visit(service);
        }

        return ordered;
    }

    private async Task StartImageAsync(ComposeService service, string image)
    {
        var port = _ports[(service.Name, KnownImages.TryGetValue(image, out var known) ? known : throw new InvalidOperationException(
            $"service '{service.Name}' uses image '{image}', which this test cannot run outside Docker: teach ComposeRun"))];
        var directory = Path.Combine(WorkDirectory, "images", service.Name);
        switch (image)
        {
            case "postgres":
                _postgresDirectory = directory;
                await ScriptAsync("pg.sh", "start", directory, Port(port));
                // The image sets the superuser password from POSTGRES_PASSWORD_FILE; here the cluster made one, so the
                // secret holds that one.
                var passwordSecret = Regex.Match(service.Environment["POSTGRES_PASSWORD_FILE"], "^/run/secrets/(.+)$").Groups[1].Value;
                await File.WriteAllTextAsync(SecretPath(passwordSecret), (await ScriptAsync("pg.sh", "password", directory)).Trim());
                if (service.Environment.TryGetValue("POSTGRES_DB", out var database))
                {
                    await ScriptAsync("pg.sh", "psql", directory, Port(port), "-d", "postgres", "-c", $"CREATE DATABASE {database}");
                }

                break;
            case "registry":
                await ScriptAsync("registry.sh", "config", directory, Port(port));
                var start = new ProcessStartInfo("docker-registry", ["serve", Path.Combine(directory, "config.yml")]);
                foreach (var (key, value) in service.Environment)
                {
                    start.Environment[key] = value;
                }

                var registry = ServiceProcess.Start(service.Name, start);
                _processes.Add(registry);
                await registry.WaitReadyAsync(new Uri($"http://127.0.0.1:{port}/v2/"), _http, TimeSpan.FromMinutes(1));
                break;
        }
    }

    private async Task StartBuiltAsync(ComposeService service)
    {
        var (start, readiness) = BuildStart(service, service.Command ?? []);
        var process = ServiceProcess.Start(service.Name, start);
        _processes.Add(process);
        if (service.OneShot)
        {
            var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
            if (exit != 0)
            {
                throw new InvalidOperationException($"one-shot step '{service.Name}' exited with {exit}:\n{process.Output}");
            }
        }
        else
        {
            await process.WaitReadyAsync(readiness ?? throw new InvalidOperationException($"'{service.Name}' runs on and listens on no port"), _http, TimeSpan.FromMinutes(2));
        }
    }

    private (ProcessStartInfo Start, Uri? Readiness) BuildStart(ComposeService service, IReadOnlyList<string> command)
    {
        var target = service.BuildTarget ?? throw new InvalidOperationException($"'{service.Name}' has neither image nor build target");
        var app = AppDirectory(target);
        var mounts = Mounts(service);
        var entrypoint = service.Entrypoint ?? _dockerfile.Stage(target).Entrypoint
            ?? throw new InvalidOperationException($"stage '{target}' has no ENTRYPOINT");
        var arguments = entrypoint.Skip(1).Concat(command).Select(a => Rewrite(a, service, mounts)).ToList();
        var start = new ProcessStartInfo(entrypoint[0], arguments) { WorkingDirectory = app };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        // The image user's home: nothing of the developer's (a tlog initialize, say) leaks into the run.
        start.Environment["HOME"] = Directory.CreateDirectory(Path.Combine(WorkDirectory, "home", service.Name)).FullName;
        foreach (var (key, value) in service.Environment)
        {
            start.Environment[key] = Rewrite(value, service, mounts);
        }

        Uri? readiness = null;
        var listening = service.ContainerPorts.Concat(service.HealthCheckPorts).FirstOrDefault();
        if (listening != 0)
        {
            var https = service.Environment.Values.Any(v => v.Contains($"https://0.0.0.0:{listening}", StringComparison.Ordinal));
            readiness = new Uri(Url(service.Name, listening, https ? "https" : "http") + "/readyz");
        }

        return (start, readiness);
    }

    /// <summary>Container path to host path for a service's volumes, bind mounts (copied, rewritten) and secrets, longest first.</summary>
    private List<(string Container, string Host)> Mounts(ComposeService service)
    {
        var mounts = new List<(string, string)>();
        var index = 0;
        foreach (var mount in service.Volumes)
        {
            if (!mount.IsBind)
            {
                mounts.Add((mount.Target, Volume(mount.Source)));
                continue;
            }

            var source = Path.GetFullPath(Path.Combine(Repository.Root, mount.Source));
            var copy = Path.Combine(WorkDirectory, "mounts", service.Name, (index++).ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(source))
            {
                foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
                {
                    CopyRewritten(file, Path.Combine(copy, Path.GetRelativePath(source, file)));
                }
            }
            else if (File.Exists(source))
            {
                copy = Path.Combine(copy, Path.GetFileName(source));
                CopyRewritten(source, copy);
            }
            else
            {
                throw new InvalidOperationException($"'{service.Name}' mounts {mount.Source}, which does not exist");
            }

            mounts.Add((mount.Target, copy));
        }

        foreach (var secret in service.Secrets)
        {
            mounts.Add(($"/run/secrets/{secret}", SecretPath(secret)));
        }

        return [.. mounts.OrderByDescending(m => m.Item1.Length)];
    }

    private void CopyRewritten(string source, string destination)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        File.WriteAllText(destination, RewriteLoopback(File.ReadAllText(source)));
    }

    private string Rewrite(string value, ComposeService service, List<(string Container, string Host)> mounts)
    {
        foreach (var (container, host) in mounts)
        {
            value = value.Replace(container, host, StringComparison.Ordinal);
        }

        foreach (var ((name, port), hostPort) in _ports)
        {
            value = value.Replace($"Host={name};Port={port}", $"Host=127.0.0.1;Port={hostPort}", StringComparison.Ordinal);
            value = Regex.Replace(value, $@"(?<![\w.-]){Regex.Escape(name)}:{port}(?!\d)", $"127.0.0.1:{hostPort}");
            if (name == service.Name)
            {
                value = Regex.Replace(value, $@"0\.0\.0\.0:{port}(?!\d)", $"127.0.0.1:{hostPort}");
                value = Regex.Replace(value, $@"/dev/tcp/127\.0\.0\.1/{port}(?!\d)", $"/dev/tcp/127.0.0.1/{hostPort}");
            }
            else if (name == service.NetworkService)
            {
                // It runs in that service's network namespace: that service's ports are its loopback ports.
                value = Regex.Replace(value, $@"(?<![\w.-])(127\.0\.0\.1|localhost):{port}(?!\d)", $"127.0.0.1:{hostPort}");
            }
        }

        return RewriteLoopback(value);
    }

    /// <summary>Ports of a shared network namespace are loopback ports wherever they are named.</summary>
    private string RewriteLoopback(string value)
    {
        foreach (var (port, hostPort) in _loopbackPorts)
        {
            value = Regex.Replace(value, $@"(?<![\w.-])(127\.0\.0\.1|localhost):{port}(?!\d)", $"127.0.0.1:{hostPort}");
            value = Regex.Replace(value, $@"/dev/tcp/127\.0\.0\.1/{port}(?!\d)", $"/dev/tcp/127.0.0.1/{hostPort}");
        }

        return value;
    }
}
