using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Tests.Shared;
using static TransparencyLog.Cli.Tests.Monitoring.MonitorWatch;

namespace TransparencyLog.Cli.Tests.Monitoring;

public sealed class MonitorTests : IAsyncLifetime
{
    private readonly CliRunner _cli = new();
    private FakeTileLog _log = null!;

    private string StatePath => _cli.PathOf("monitor-state.json");

    public async Task InitializeAsync() => _log = await FakeTileLog.StartAsync();

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _cli.Dispose();
    }

    private Task<(int ExitCode, string Out, string Err)> OnceAsync(string config, params string[] extra) =>
        _cli.RunAsync(["monitor", "--config", config, "--url", _log.Url, "--state", StatePath, "--vkey", _log.VerifierKey, .. extra]);

    [Fact]
    public async Task Monitor_IdentityMatch_AlertsOnceAndNotAgainAfterRestart()
    {
        _log.Append(Bodies.Plain(0), Bodies.Plain(1), Bodies.Keyless(2, "bob@example.com", Issuer), Bodies.Keyless(3, Alice, Issuer), Bodies.Keyless(4, Alice, "https://other.example"));

        var first = await OnceAsync(AliceConfig);
        var second = await OnceAsync(AliceConfig);
        _log.Append(Bodies.Plain(5), Bodies.Keyless(6, Alice, Issuer));
        var third = await OnceAsync(AliceConfig);

        Assert.True(first.ExitCode == 5, first.Err);
        var match = Assert.Single(Events(first.Out));
        Assert.Equal("identity_match", match.GetProperty("type").GetString());
        Assert.Equal(3, match.GetProperty("logIndex").GetInt64());
        Assert.Equal(Alice, match.GetProperty("value").GetString());
        Assert.Equal(Issuer, match.GetProperty("issuer").GetString());
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Empty(Events(second.Out));
        Assert.True(third.ExitCode == 5, third.Err);
        Assert.Equal([6L], Events(third.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
    }

    // Over tiles and over the Rekor v1 API (a log that serves no tiles): both followers detect it.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Monitor_ForkedLog_ExitsFourWithBothCheckpointsAndKeepsTheState(bool tiles)
    {
        _log.ServeTiles = tiles;
        _log.Append(Bodies.Plain(0), Bodies.Plain(1), Bodies.Plain(2));
        Assert.Equal(0, (await OnceAsync(AliceConfig)).ExitCode);
        var saved = await File.ReadAllTextAsync(StatePath);

        _log.Replace(2, Bodies.Plain(99));
        var result = await OnceAsync(AliceConfig);

        Assert.True(result.ExitCode == 4, result.Err);
        var alert = Assert.Single(Events(result.Out));
        Assert.Equal("log_fork", alert.GetProperty("type").GetString());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.NotEqual(alert.GetProperty("previousCheckpoint").GetString(), alert.GetProperty("currentCheckpoint").GetString());
        Assert.Equal(saved, await File.ReadAllTextAsync(StatePath));
    }

    // Over tiles and over the Rekor v1 API (a log that serves no tiles): both followers detect it.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Monitor_ShrunkLog_ExitsFour(bool tiles)
    {
        _log.ServeTiles = tiles;
        _log.Append(Bodies.Plain(0), Bodies.Plain(1), Bodies.Plain(2), Bodies.Plain(3));
        Assert.Equal(0, (await OnceAsync(AliceConfig)).ExitCode);

        _log.Truncate(2);
        var result = await OnceAsync(AliceConfig);

        Assert.True(result.ExitCode == 4, result.Err);
        Assert.Equal("log_shrink", Assert.Single(Events(result.Out)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Monitor_RewrittenHistoryThatGrew_ExitsFourAndRaisesNoMatch()
    {
        _log.Append(Bodies.Plain(0), Bodies.Plain(1));
        Assert.Equal(0, (await OnceAsync(AliceConfig)).ExitCode);

        _log.Replace(0, Bodies.Plain(42));
        _log.Append(Bodies.Keyless(2, Alice, Issuer));
        var result = await OnceAsync(AliceConfig);

        Assert.True(result.ExitCode == 4, result.Err);
        Assert.Equal(["log_inconsistent"], Events(result.Out).Select(static e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Monitor_FromIndexZero_CatchesUpOver10000EntriesAndFindsEveryMatch()
    {
        var entries = new byte[10_000][];
        var expected = new List<long>();
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = i % 1000 == 500 ? Bodies.Keyless(i, Alice, Issuer) : Bodies.Plain(i);
            if (i % 1000 == 500)
            {
                expected.Add(i);
            }
        }

        _log.Append(entries);

        var result = await OnceAsync(AliceConfig);
        var again = await OnceAsync(AliceConfig);

        Assert.True(result.ExitCode == 5, result.Err);
        Assert.Equal(expected, Events(result.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
        using var state = JsonDocument.Parse(await File.ReadAllTextAsync(StatePath));
        Assert.Equal(10_000, state.RootElement.GetProperty("size").GetInt64());
        Assert.Equal(0, again.ExitCode);
    }

    [Fact]
    public async Task Monitor_NoStateNoStartIndex_StartsAtTheLatestCheckpoint()
    {
        _log.Append(Bodies.Keyless(0, Alice, Issuer), Bodies.Plain(1), Bodies.Plain(2));
        var config = AliceConfig.Replace("startIndex: 0\n", "", StringComparison.Ordinal);

        var first = await OnceAsync(config);
        _log.Append(Bodies.Keyless(3, Alice, Issuer));
        var second = await OnceAsync(config);

        Assert.True(first.ExitCode == 0, first.Err);
        Assert.Equal([3L], Events(second.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
    }

    [Fact]
    public async Task Monitor_RekorMonitorConfigWithFingerprintsAndOidMatchers_LoadsUnchangedAndMatches()
    {
        const string signer = "https://github.com/acme/widget/.github/workflows/release.yml@refs/heads/main";
        _log.Append(Bodies.Plain(0), Bodies.Keyless(1, "ci@example.com", Issuer, signer), Bodies.Keyless(2, "ci@example.com", Issuer));
        var config = $$"""
            startIndex: 0
            endIndex: 10
            monitoredValues:
              certIdentities:
                - certSubject: nobody@example\.com
              subjects:
                - nothing-here
              fingerprints:
                - {{Bodies.KeyFingerprint}}
              oidMatchers:
                fulcioExtensions:
                  build-signer-uri:
                    - {{signer}}
                oidExtensions:
                  - objectIdentifier: [1, 3, 6, 1, 4, 1, 57264, 1, 8]
                    extensionValues:
                      - https://not-this-issuer.example
                customExtensions:
                  - objectIdentifier: 1.3.6.1.4.1.57264.1.9
                    extensionValues: {{signer}}
            outputIdentities: {{_cli.PathOf("identities.txt")}}
            outputIdentitiesFormat: json
            identityMetadataFile: metadata.json
            gitHubIssue:
              assigneeUsername: someone
              repositoryOwner: acme
              repositoryName: monitor
            """;

        var result = await OnceAsync(config);

        Assert.True(result.ExitCode == 5, result.Err);
        var events = Events(result.Out);
        Assert.Equal(3, events.Count(static e => e.GetProperty("rule").GetString() == "fingerprint"));
        Assert.Equal([1L, 1L], events.Where(static e => e.GetProperty("rule").GetString() != "fingerprint").Select(static e => e.GetProperty("logIndex").GetInt64()));
        Assert.Contains(events, static e => e.GetProperty("rule").GetString() == "fulcioExtension:build-signer-uri");
        Assert.Contains(events, static e => e.GetProperty("rule").GetString() == "customExtension:1.3.6.1.4.1.57264.1.9");
        Assert.Equal(events.Count, (await File.ReadAllLinesAsync(_cli.PathOf("identities.txt"))).Length);
    }

    [Theory]
    [InlineData("monitoredValues: [")]
    [InlineData("startIndex: 10\nendIndex: 2")]
    [InlineData("monitoredValues:\n  certIdentities:\n    - certSubject: '(unclosed'")]
    [InlineData("monitoredValues:\n  oidMatchers:\n    fulcioExtensions:\n      no-such-extension: [x]")]
    [InlineData("startIndex: many")]
    public async Task Monitor_BadConfig_ExitsTwoAndWritesNoState(string config)
    {
        _log.Append(Bodies.Plain(0));

        var result = await OnceAsync(config);

        Assert.True(result.ExitCode == 2, result.Err);
        Assert.False(File.Exists(StatePath));
    }

    [Fact]
    public async Task Monitor_Webhook_RetriedUntilAcceptedAndSigned()
    {
        await using var hook = await Webhook.StartAsync(failuresFirst: 2);
        _log.Append(Bodies.Keyless(0, Alice, Issuer));
        _cli.Environment["HOOK_SECRET"] = "s3cret";
        var config = AliceConfig + $"\nalerts:\n  webhooks:\n    - url: {hook.Url}\n      secretEnv: HOOK_SECRET\n";

        var result = await OnceAsync(config);

        Assert.True(result.ExitCode == 5, result.Err);
        Assert.Equal(3, hook.Attempts);
        var (body, headers) = Assert.Single(hook.Accepted);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(0, json.RootElement.GetProperty("logIndex").GetInt64());
        Assert.Equal(json.RootElement.GetProperty("id").GetString(), headers["X-Tlog-Event-Id"]);
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8, Encoding.UTF8.GetBytes(body))), headers["X-Tlog-Signature"]);
        Assert.DoesNotContain("s3cret", result.Out + result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_DaemonWithStreamThatDrops_ReportsEveryMatchExactlyOnce()
    {
        _log.Append(Bodies.Plain(0));
        _log.DropStreamAfter = 2;
        var metricsPort = TestPorts.Next();
        var output = new LineWriter();
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var context = new TlogContext(_cli.Http, static _ => null, _cli.Directory, TimeProvider.System);
        var daemon = TlogApp.RunAsync(
            ["monitor", "--config", AliceConfig, "--url", _log.Url, "--state", StatePath, "--vkey", _log.VerifierKey, "--once=false", "--interval", "1h", "--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            output, TextWriter.Synchronized(error), context, stop.Token);

        for (var i = 1; i <= 7; i++)
        {
            _log.Append(Bodies.Plain(100 + i), Bodies.Keyless(i, Alice, Issuer));
            await Eventually(() => output.Lines.Count >= i, () => $"{output.Lines.Count} events after {i} matches; stderr: {error}");
        }

        using var metrics = await _cli.Http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
        var scrape = await metrics.Content.ReadAsStringAsync();
        await stop.CancelAsync();
        var exit = await daemon;

        var indices = output.Lines.Select(static l => JsonDocument.Parse(l).RootElement.GetProperty("logIndex").GetInt64()).ToList();
        Assert.Equal([2L, 4, 6, 8, 10, 12, 14], indices);
        Assert.True(_log.StreamConnections >= 2, $"the stream was opened {_log.StreamConnections} times");
        Assert.Equal(0, exit);
        Assert.Contains("tlog_monitor_identity_matches_total 7\n", scrape, StringComparison.Ordinal);
        Assert.Contains("log_index_verification_total ", scrape, StringComparison.Ordinal);
    }

    private static async Task Eventually(Func<bool> condition, Func<string> failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure());
            await Task.Delay(20);
        }
    }


    /// <summary>Collects whole lines written from any thread.</summary>
    private sealed class LineWriter : TextWriter
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value) => _lines.Enqueue(value ?? "");

        public override void Write(char value)
        {
        }
    }

    /// <summary>A webhook receiver that answers 503 to the first attempts, then 200.</summary>
    private sealed class Webhook : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _attempts;

        private Webhook(WebApplication app) => _app = app;

        public string Url => _app.Urls.First() + "/hook";

        public int Attempts => Volatile.Read(ref _attempts);

        public ConcurrentQueue<(string Body, Dictionary<string, string> Headers)> Accepted { get; } = new();

        public static async Task<Webhook> StartAsync(int failuresFirst)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var hook = new Webhook(app);
            app.MapPost("/hook", async (HttpContext context) =>
            {
                var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
                if (Interlocked.Increment(ref hook._attempts) <= failuresFirst)
                {
                    return Results.StatusCode(503);
                }

                hook.Accepted.Enqueue((body, context.Request.Headers.ToDictionary(static h => h.Key, static h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
                return Results.Ok();
            });
            await app.StartAsync();
            return hook;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
