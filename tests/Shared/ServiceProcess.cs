using System.Diagnostics;
using System.Text;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Testing;

/// <summary>
/// A service host run as its own process (real HTTP on loopback, killable with SIGKILL): started with its environment,
/// its output kept for failure messages, ready once its readiness URL answers 2xx, failing fast when it exits.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>What the failure messages call this service.</summary>
    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
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

    /// <summary>A <c>dotnet</c> start of a built host, with its build output as content root and working directory.</summary>
    public static ProcessStartInfo Dotnet(string dll, IEnumerable<string>? arguments = null)
    {
        var directory = Path.GetDirectoryName(dll)!;
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments ?? ["--contentRoot", directory]])
        {
            WorkingDirectory = directory,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return start;
    }

    /// <summary>Starts the process without waiting for anything.</summary>
    public static ServiceProcess Start(string name, ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {name}");
        return new ServiceProcess(name, process);
    }

    /// <summary>
    /// Starts the process and waits until <paramref name="readiness"/> answers 2xx, for up to three minutes: a service
    /// starting beside a dozen others on a loaded 2-core machine (load average above 100) has taken more than one. A
    /// process that exits fails at once, whatever the wait.
    /// </summary>
    public static async Task<ServiceProcess> StartReadyAsync(string name, ProcessStartInfo start, Uri readiness, HttpClient? client = null)
    {
        var service = Start(name, start);
        try
        {
            await service.WaitReadyAsync(readiness, client, TimeSpan.FromMinutes(3));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <paramref name="readiness"/> until it answers 2xx; throws with the output when the process exits or time runs out.</summary>
    public async Task WaitReadyAsync(Uri readiness, HttpClient? client, TimeSpan timeout)
    {
        using var own = client is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(10) } : null;
        var http = client ?? own!;
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(readiness);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} did not become ready at {readiness}:\n{Output}");
    }

    /// <summary>Waits for a one-shot process to end and returns its exit code (kills it when time runs out).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not finish within {timeout}:\n{Output}");
        }

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
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

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A loopback port for a service started later (<see cref="TestPorts"/>: claimed, below the ephemeral range).</summary>
    public static int FreePort() => TestPorts.Next();

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
