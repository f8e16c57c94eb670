using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using System.Text;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Interop.Tests.Infrastructure;

/// <summary>
/// The whole system as a user starts it: <c>./run.sh --background</c> with its own data directory and free ports,
/// stopped with <c>./run.sh stop</c>. Exposes the variables of the <c>endpoints.env</c> it wrote.
/// </summary>
public sealed class LocalSystem : IAsyncLifetime
{
    private static readonly SemaphoreSlim StartTurn = new(1, 1);

    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _runSettings;
    private readonly Action<string>? _prepare;
    private readonly Dictionary<string, string> _ports;

    public LocalSystem()
        : this(new Dictionary<string, string>())
    {
    }

    /// <summary>
    /// A system started with further <c>./run.sh</c> settings (such as <c>TLOG_KEYS=pkcs11</c>); <paramref name="prepare"/>
    /// runs with the data directory before the first start (to place keys the system then uses).
    /// </summary>
    internal LocalSystem(IReadOnlyDictionary<string, string> runSettings, Action<string>? prepare = null)
    {
        _runSettings = new Dictionary<string, string>(runSettings, StringComparer.Ordinal);
        _prepare = prepare;

        // Chosen once: a restart keeps its URLs (and the logs their names, which include the port).
        _ports = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { "REKOR_PORT", "FULCIO_PORT", "FULCIO_GRPC_PORT", "OIDC_PORT", "REGISTRY_PORT", "ADMISSION_PORT", "WITNESS_PORT" })
        {
            _ports[name] = TestPorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("tlog-system-").FullName;

    /// <summary>The port of the system's PostgreSQL cluster (under <c>DataDirectory/pg</c>), for tests that act as its superuser.</summary>
    public string PostgresPort { get; } = TestPorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The variables of <c>endpoints.env</c> (REKOR_URL, FULCIO_URL, TRUSTED_ROOT, DEV_TOKEN_CMD, ...).</summary>
    public IReadOnlyDictionary<string, string> Endpoints => _environment;

    public string this[string name] => _environment.TryGetValue(name, out var value)
        ? value
        : throw new KeyNotFoundException($"endpoints.env has no {name}");

    public async Task InitializeAsync()
    {
        _prepare?.Invoke(DataDirectory);
        await StartAsync();
    }

    /// <summary>
    /// <c>./run.sh stop</c>, then <paramref name="between"/> with the data directory (to change keys while nothing
    /// runs), then <c>./run.sh --background</c> again on the same ports, with <paramref name="settings"/> added to
    /// its settings from now on; <see cref="Endpoints"/> is read anew.
    /// </summary>
    public async Task RestartAsync(Action<string>? between = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var stopped = await RunScriptAsync("stop");
        Assert.True(stopped.ExitCode == 0, stopped.Output);
        between?.Invoke(DataDirectory);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            _runSettings[key] = value;
        }

        await StartAsync();
    }

    private async Task StartAsync()
    {
        // Several systems run side by side (two shared ones, three classes' own), but they start one at a time: a
        // start-up is CPU-bound (PostgreSQL, migrations, six .NET services), and five at once on a loaded 2-core machine
        // ran past run.sh's time limit. Waiting for the turn does not count against that limit.
        ProcessResult result;
        await StartTurn.WaitAsync();
        try
        {
            result = await RunAsync(Path.Combine(Repository.Root, "run.sh"), ["--background"], RunEnvironment(), TimeSpan.FromMinutes(5));
        }
        finally
        {
            StartTurn.Release();
        }

        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"./run.sh --background failed ({result.ExitCode}):\n{result.Output}\n{ServiceLogs()}");
        }

        foreach (var line in await File.ReadAllLinesAsync(Path.Combine(DataDirectory, "endpoints.env")))
        {
            if (line.StartsWith('#') || !line.Contains('=', StringComparison.Ordinal))
            {
                continue;
            }

            var separator = line.IndexOf('=', StringComparison.Ordinal);
            _environment[line[..separator]] = line[(separator + 1)..].Trim('"');
        }
    }

    public async Task DisposeAsync()
    {
        await RunAsync(Path.Combine(Repository.Root, "run.sh"), ["stop"], RunEnvironment(), TimeSpan.FromMinutes(1));
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// A fresh development token, minted by the DEV_TOKEN_CMD that run.sh wrote. Its <c>sub</c> is the email unless
    /// <paramref name="subject"/> is given.
    /// </summary>
    public async Task<string> DevTokenAsync(string email, string? subject = null)
    {
        var command = this["DEV_TOKEN_CMD"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] claims = subject is null ? ["--email", email] : ["--email", email, "--sub", subject];
        var result = await RunAsync(command[0], [.. command[1..], .. claims], null, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"DEV_TOKEN_CMD failed: {result.Output}");
        return result.StandardOutput.Trim();
    }

    /// <summary>The service logs run.sh kept, for failure messages.</summary>
    public string ServiceLogs()
    {
        var logs = new StringBuilder();
        var directory = Path.Combine(DataDirectory, "logs");
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.GetFiles(directory))
            {
                var lines = File.ReadAllLines(file);
                logs.AppendLine($"--- {Path.GetFileName(file)} (last 40 lines)");
                foreach (var line in lines.TakeLast(40))
                {
                    logs.AppendLine(line);
                }
            }
        }

        return logs.ToString();
    }

    /// <summary>Runs <c>./run.sh</c> again with this system's data directory and ports.</summary>
    public Task<ProcessResult> RunScriptAsync(params string[] arguments) =>
        RunAsync(Path.Combine(Repository.Root, "run.sh"), arguments, RunEnvironment(), TimeSpan.FromMinutes(2));

    private Dictionary<string, string> RunEnvironment()
    {
        var environment = BaseRunEnvironment();
        foreach (var (key, value) in _runSettings)
        {
            environment[key] = value;
        }

        return environment;
    }

    private Dictionary<string, string> BaseRunEnvironment() => new()
    {
        ["TLOG_DATA_DIR"] = DataDirectory,
        ["TLOG_SKIP_BUILD"] = "1",
        ["CONFIGURATION"] = Repository.Configuration,
        ["PG_PORT"] = PostgresPort,
        ["REKOR_PORT"] = _ports["REKOR_PORT"],
        ["FULCIO_PORT"] = _ports["FULCIO_PORT"],
        ["FULCIO_GRPC_PORT"] = _ports["FULCIO_GRPC_PORT"],
        ["OIDC_PORT"] = _ports["OIDC_PORT"],
        ["REGISTRY_PORT"] = _ports["REGISTRY_PORT"],
        ["ADMISSION_PORT"] = _ports["ADMISSION_PORT"],
        ["WITNESS_PORT"] = _ports["WITNESS_PORT"],
        // Every client of every test calls the CA from 127.0.0.1, so the per-address limit (60 a minute) would
        // throttle the suite rather than a client. The per-identity limit stays as shipped.
        ["Api__RateLimits__PerAddressPermits"] = "0",
    };


    /// <summary>Runs a program to completion with a time limit, capturing its output.</summary>
    public static async Task<ProcessResult> RunAsync(
        string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Repository.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // An empty value removes the variable: COSIGN_PASSWORD= would otherwise mean "the empty password".
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value.Length == 0 ? null : value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>What a finished process printed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;
}
