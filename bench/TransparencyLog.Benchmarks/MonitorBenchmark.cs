using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// <c>tlog monitor</c> against the real log service: catch-up speed over tiles (entries per second, the process start
/// subtracted by timing a run with nothing new) and alert latency from an append's request to the webhook receiving the
/// match, with the daemon woken by the entry stream. Prints figures, asserts nothing.
/// </summary>
internal static class MonitorBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        var url = Arg("--url", "http://127.0.0.1:3000").TrimEnd('/');
        var tlog = Arg("--tlog", "");
        var entries = int.Parse(Arg("--entries", "20000"), CultureInfo.InvariantCulture);
        var samples = int.Parse(Arg("--samples", "100"), CultureInfo.InvariantCulture);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var work = Directory.CreateTempSubdirectory("tlog-monitor-bench-").FullName;
        var vkey = (await http.GetStringAsync(url + "/api/v1/log/verifierKey")).Trim();

        Console.WriteLine($"==> filling the log with {entries:N0} entries");
        await FillAsync(http, url, Proposals.Sign(entries));
        var size = await SizeAsync(http, url);

        var config = Path.Combine(work, "catchup.yaml");
        await File.WriteAllTextAsync(config, "startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubject: ^nobody@nowhere\\.invalid$\n");
        var state = Path.Combine(work, "catchup.state");
        string[] once = ["monitor", "--config-file", config, "--url", url, "--vkey", vkey, "--state", state];
        var (full, fullCpu) = await TimeAsync(tlog, once);
        var (idle, idleCpu) = await TimeAsync(tlog, once);
        var scan = full - idle;
        var scanCpu = fullCpu - idleCpu;

        Console.WriteLine($"==> alert latency: {samples} matching appends, daemon on the entry stream, webhook on loopback");
        var latencies = await AlertLatencyAsync(http, url, tlog, vkey, work, samples);

        var o = new StringBuilder();
        o.AppendLine();
        o.AppendLine("tlog monitor");
        o.AppendLine(Table.Inv($"  catch-up from index 0     {size,10:N0} entries in {full.TotalSeconds:F2} s wall ({idle.TotalSeconds:F2} s of it process start and one checkpoint)"));
        o.AppendLine(Table.Inv($"  catch-up rate over tiles  {size / Math.Max(scan.TotalSeconds, 0.001),10:N0} entries/s (entries / (wall - idle run))"));
        o.AppendLine(Table.Inv($"  monitor CPU for the scan  {scanCpu.TotalSeconds,10:F2} s user+sys ({fullCpu.TotalSeconds:F2} s - {idleCpu.TotalSeconds:F2} s idle run) = {size / Math.Max(scanCpu.TotalSeconds, 0.001):N0} entries per CPU-second"));
        if (latencies.Count > 0)
        {
            latencies.Sort();
            o.AppendLine(Table.Inv($"  alert latency (stream)    p50 {Percentile(latencies, 0.50):F0} ms   p99 {Percentile(latencies, 0.99):F0} ms   max {latencies[^1]:F0} ms   ({latencies.Count} alerts)"));
        }

        Console.Write(o.ToString());
        Directory.Delete(work, recursive: true);
        return 0;
    }

    private static async Task FillAsync(HttpClient http, string url, Proposals proposals)
    {
        var workers = Enumerable.Range(0, 32).Select(async _ =>
        {
            while (proposals.Take() is { } body)
            {
                using var response = await http.PostAsync(url + "/api/v1/log/entries", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
                if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
                {
                    throw new InvalidOperationException($"append failed: {(int)response.StatusCode}");
                }
            }
        });
        await Task.WhenAll(workers);
    }

    private static async Task<long> SizeAsync(HttpClient http, string url)
    {
        using var info = JsonDocument.Parse(await http.GetStringAsync(url + "/api/v1/log"));
        return info.RootElement.GetProperty("treeSize").GetInt64();
    }

    /// <summary>
    /// Wall time and the process's CPU time (user + sys, from <c>/usr/bin/time</c>): on a machine shared with other work
    /// the wall time measures the contention, the CPU time what the monitor itself spent.
    /// </summary>
    private static async Task<(TimeSpan Wall, TimeSpan Cpu)> TimeAsync(string tlog, string[] arguments)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/time", ["-f", "cpu %U %S", "dotnet", tlog, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("cannot start tlog");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = Stopwatch.GetElapsedTime(start);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (process.ExitCode is not (0 or 5))
        {
            throw new InvalidOperationException($"tlog monitor exited {process.ExitCode}: {string.Join('\n', lines)}{await stdout}");
        }

        var times = lines.Last(static l => l.StartsWith("cpu ", StringComparison.Ordinal)).Split(' ');
        var cpu = double.Parse(times[1], CultureInfo.InvariantCulture) + double.Parse(times[2], CultureInfo.InvariantCulture);
        return (elapsed, TimeSpan.FromSeconds(cpu));
    }

    private static async Task<List<double>> AlertLatencyAsync(HttpClient http, string url, string tlog, string vkey, string work, int samples)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem()));
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
        var received = new ConcurrentDictionary<long, long>();
        using var listener = new HttpListener();
        var hookPort = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{hookPort}/");
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var at = Stopwatch.GetTimestamp();
                using var body = JsonDocument.Parse(context.Request.InputStream);
                received.TryAdd(body.RootElement.GetProperty("logIndex").GetInt64(), at);
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var config = Path.Combine(work, "latency.yaml");
        await File.WriteAllTextAsync(config, $"monitoredValues:\n  fingerprints:\n    - {fingerprint}\n");
        using var daemon = Process.Start(new ProcessStartInfo("dotnet",
            [tlog, "monitor", "--config-file", config, "--url", url, "--vkey", vkey, "--state", Path.Combine(work, "latency.state"), "--once=false",
             "--interval", "1h", "--metrics-port", "0", "--webhook", $"http://127.0.0.1:{hookPort}/"])
        { RedirectStandardOutput = true, RedirectStandardError = true }) ?? throw new InvalidOperationException("cannot start tlog");
        _ = daemon.StandardOutput.ReadToEndAsync();
        _ = daemon.StandardError.ReadToEndAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));

        var latencies = new List<double>();
        try
        {
            for (var i = 0; i < samples; i++)
            {
                var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"latency {Guid.NewGuid()}"));
                var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
                var body = Proposals.HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), publicKey);
                var sent = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(url + "/api/v1/log/entries", new StringContent(body, Encoding.UTF8, "application/json"));
                using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var index = created.RootElement.EnumerateObject().Single().Value.GetProperty("logIndex").GetInt64();
                var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
                long at;
                while (!received.TryGetValue(index, out at) && Stopwatch.GetTimestamp() < deadline)
                {
                    await Task.Delay(1);
                }

                if (received.TryGetValue(index, out at))
                {
                    latencies.Add(Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds);
                }

                await Task.Delay(20);
            }
        }
        finally
        {
            daemon.Kill(entireProcessTree: true);
            listener.Stop();
        }

        return latencies;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
