using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Tests.Tuf;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Testing;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Cli.Tests.TrustRoot;

/// <summary>
/// The spec's rotation drill for Rekor v2 period logs (trust-lifecycle §4-5), end to end: one log service hosts this
/// period's log (2026a) and next period's (2026b); the trusted root trusts both, the signing config (served through
/// TUF) ends 2026a where 2026b starts, ten days ahead. <c>tlog sign-blob</c>, on a clock the test moves, records in
/// 2026a before the start and in 2026b after it; then 2026a is frozen (read-only) and every bundle, old and new,
/// still verifies with <c>tlog verify-blob</c> and with unmodified sigstore-js (@sigstore/verify 3.1).
/// </summary>
public sealed class RekorV2PeriodDrillTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-period-drill-").FullName;
    private readonly int _port = ServiceProcess.FreePort();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly MovableClock _clock = new(FakeTufMirror.Now);
    private FakeTufMirror _mirror = null!;
    private TestDatabase? _database;
    private string _app = "";

    private string Base => $"http://127.0.0.1:{_port}";

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("drill");
        _app = _database.App;
        _mirror = await FakeTufMirror.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _mirror.DisposeAsync();

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task RotationDrill_NewPeriodLogScheduledThenOldFrozen_SignersSwitchAtStartAndOldBundlesStillVerify()
    {
        var service = await StartServiceAsync(oldFrozen: false);
        try
        {
            // (1) Both logs are up. (2) The trusted root trusts both: 2026a since long ago, 2026b from its bring-up.
            var since = FakeTufMirror.Now.AddDays(-30);
            var (keyA, instanceA) = await LogAsync("2026a");
            var (keyB, instanceB) = await LogAsync("2026b");
            var root = TrustedRoot.Empty with
            {
                Tlogs =
                [
                    TrustedRoot.LogFromKey(keyA, $"{Base}/2026a", new ValidityPeriod(since, null), c2spLogId: true),
                    TrustedRoot.LogFromKey(keyB, $"{Base}/2026b", new ValidityPeriod(FakeTufMirror.Now.AddMinutes(-1), null), c2spLogId: true),
                ],
                TimestampAuthorities = [new CertificateAuthority(null, $"{Base}/api/v1/timestamp", await TsaChainAsync(), new ValidityPeriod(since, null))],
            };
            // The log IDs derived from base URL and key alone (the origin carries the path) are what the logs serve.
            Assert.Equal(instanceA, root.Tlogs[0].LogId);
            Assert.Equal(instanceB, root.Tlogs[1].LogId);
            var rootFile = Write("trusted_root.json", root.ToJson() + "\n");

            // (3) The signing config prepends 2026b from a start ten days ahead (past the lead time) and ends 2026a then.
            var switchAt = FakeTufMirror.Now.AddDays(10);
            var config = new SigningConfig(
                [],
                [],
                [
                    new ServiceEndpoint($"{Base}/2026b", 2, new ValidityPeriod(switchAt, null), "drill.test"),
                    new ServiceEndpoint($"{Base}/2026a", 2, new ValidityPeriod(since, switchAt), "drill.test"),
                ],
                ServiceSelector.Any,
                [new ServiceEndpoint($"{Base}/api/v1/timestamp", 1, new ValidityPeriod(since, null), "drill.test")],
                ServiceSelector.Any);
            PublishThroughTuf(root, config);
            await SucceedsAsync("initialize", "--mirror", _mirror.Url.ToString(), "--root", Write("1.root.json", _mirror.Files["1.root.json"]));

            var key = Write("signer.key", SignerKey.ExportPkcs8PrivateKeyPem());
            var publicKey = Write("signer.pub", SignerKey.ExportSubjectPublicKeyInfoPem());

            // Before the start: 2026a. After it: 2026b. Only the clock moved.
            var beforeSwitch = await SignAsync("before.txt", key);
            AssertRecordedIn(beforeSwitch.Bundle, instanceA, $"127.0.0.1:{_port}/2026a");
            _clock.Now = switchAt.AddHours(1);
            var afterSwitch = await SignAsync("after.txt", key);
            AssertRecordedIn(afterSwitch.Bundle, instanceB, $"127.0.0.1:{_port}/2026b");

            // (4) A week later 2026a goes read-only: the service restarts with it frozen.
            await service.DisposeAsync();
            service = await StartServiceAsync(oldFrozen: true);
            using (var refused = await _http.PostAsync($"{Base}/2026a/api/v2/log/entries", new StringContent("{}", Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Contains("\"code\":9", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // A signer whose clock is still before the start is told why its log refuses; one after it signs in 2026b.
            _clock.Now = FakeTufMirror.Now;
            var (staleCode, staleOut, staleErr) = await RunAsync("sign-blob", Write("stale.txt", "stale\n"), "--key", key, "--bundle", PathOf("stale.sigstore.json"));
            Assert.NotEqual(0, staleCode);
            Assert.Contains("frozen (read-only)", staleOut + staleErr, StringComparison.Ordinal);
            _clock.Now = switchAt.AddDays(8);
            var afterFreeze = await SignAsync("after-freeze.txt", key);
            AssertRecordedIn(afterFreeze.Bundle, instanceB, $"127.0.0.1:{_port}/2026b");

            // Old bundles keep verifying: the proof and checkpoint are in the bundle, the old key stays in the root.
            foreach (var (signed, log) in new[] { (beforeSwitch, "2026a"), (afterSwitch, "2026b"), (afterFreeze, "2026b") })
            {
                await SucceedsAsync("verify-blob", signed.Artifact, "--bundle", signed.Bundle, "--key", publicKey, "--trusted-root", rootFile);
                await SigstoreJsVerifiesAsync(signed, rootFile, publicKey, $"{Base}/{log}");
            }
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    private ECDsa SignerKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private Task<ServiceProcess> StartServiceAsync(bool oldFrozen)
    {
        var start = ServiceProcess.Dotnet(RepositoryPaths.ProjectOutput("TransparencyLog.LogService"));
        start.Environment["Urls"] = Base;
        start.Environment["Storage__ConnectionString"] = _app;
        start.Environment["Logs__Rekor__Name"] = "drill.log.local";
        start.Environment["Logs__Rekor__StateDirectory"] = _directory;
        // The TSA keeps its development chain across the restart, as the trusted root holds it.
        start.Environment["Timestamping__Development__StateDirectory"] = Path.Combine(_directory, "tsa");
        foreach (var period in new[] { "2026a", "2026b" })
        {
            start.Environment[$"Logs__RekorV2Periods__{period}__Name"] = $"127.0.0.1:{_port}/{period}";
            start.Environment[$"Logs__RekorV2Periods__{period}__StateDirectory"] = _directory;
        }

        start.Environment["Logs__RekorV2Periods__2026a__ReadOnly"] = oldFrozen ? "true" : "false";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        return ServiceProcess.StartReadyAsync("the log service", start, new Uri($"{Base}/readyz"));
    }

    /// <summary>A period log's key and the log ID it puts in its entries.</summary>
    private async Task<(LogPublicKey Key, byte[] LogId)> LogAsync(string period)
    {
        var key = LogPublicKey.FromPem(await _http.GetStringAsync($"{Base}/{period}/api/v2/log/publicKey"));
        using var instance = JsonDocument.Parse(await _http.GetStringAsync($"{Base}/{period}/api/v2/log/tlogInstance"));
        Assert.Equal($"{Base}/{period}", instance.RootElement.GetProperty("baseUrl").GetString());
        return (key, instance.RootElement.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64());
    }

    /// <summary>The TSA chain, leaf first, as DER.</summary>
    private async Task<IReadOnlyList<byte[]>> TsaChainAsync()
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(await _http.GetStringAsync($"{Base}/api/v1/timestamp/certchain"));
        Assert.NotEmpty(chain);
        return [.. chain.Select(static c => c.RawData)];
    }

    /// <summary>Serves the trusted root and signing config from the TUF mirror, expiring well after the drill's clock.</summary>
    private void PublishThroughTuf(TrustedRoot root, SigningConfig config)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["trusted_root.json"] = Encoding.UTF8.GetBytes(root.ToJson() + "\n"),
            ["signing_config.v0.2.json"] = Encoding.UTF8.GetBytes(config.ToJson() + "\n"),
        };
        var expires = FakeTufMirror.Now.AddDays(60);
        _mirror.Put("1.root.json", _mirror.Root(1));
        _mirror.Put("1.targets.json", _mirror.Targets(1, files, expires));
        _mirror.Put("1.snapshot.json", _mirror.Snapshot(1, 1, expires));
        _mirror.Put("timestamp.json", _mirror.Timestamp(1, 1, expires));
        foreach (var (name, bytes) in files)
        {
            _mirror.Files[$"targets/{Convert.ToHexStringLower(SHA256.HashData(bytes))}.{name}"] = bytes;
        }
    }

    private async Task<(string Artifact, string Bundle)> SignAsync(string name, string key)
    {
        var artifact = Write(name, $"{name} {Guid.NewGuid()}\n");
        var bundle = artifact + ".sigstore.json";
        await SucceedsAsync("sign-blob", artifact, "--key", key, "--bundle", bundle);
        return (artifact, bundle);
    }

    /// <summary>The bundle's entry is in the log with this ID, and its checkpoint is that log's (origin with the path).</summary>
    private static void AssertRecordedIn(string bundle, byte[] logId, string origin)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(bundle));
        var entry = document.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0];
        Assert.Equal(logId, entry.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64());
        Assert.Equal("0.0.2", entry.GetProperty("kindVersion").GetProperty("version").GetString());
        var checkpoint = entry.GetProperty("inclusionProof").GetProperty("checkpoint").GetProperty("envelope").GetString()!;
        Assert.StartsWith(origin + "\n", checkpoint, StringComparison.Ordinal);
    }

    private async Task SigstoreJsVerifiesAsync((string Artifact, string Bundle) signed, string rootFile, string publicKey, string baseUrl)
    {
        var scripts = Path.Combine(RepositoryPaths.Root, "tests", "interop", "sigstore");
        Assert.True(Directory.Exists(Path.Combine(scripts, "node_modules", "@sigstore", "verify")),
            $"{scripts}/node_modules is missing: run npm ci in tests/interop/sigstore");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = scripts,
            ArgumentList = { "verify-key.mjs", "--artifact", signed.Artifact, "--bundle", signed.Bundle, "--trusted-root", rootFile, "--public-key", publicKey, "--tlog-base-url", baseUrl },
        };
        await using var node = ServiceProcess.Start("sigstore-js", start);
        var exitCode = await node.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"node verify-key.mjs {signed.Bundle}: exit {exitCode}\n{node.Output}");
    }

    private string PathOf(string name) => Path.Combine(_directory, name);

    private string Write(string name, string contents)
    {
        File.WriteAllText(PathOf(name), contents);
        return PathOf(name);
    }

    private string Write(string name, byte[] contents)
    {
        File.WriteAllBytes(PathOf(name), contents);
        return PathOf(name);
    }

    /// <summary>tlog in-process, on the drill's clock, with this test's home (its TUF cache) and no environment.</summary>
    private async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new TlogContext(_http, static _ => null, _directory, _clock);
        var exitCode = await TlogApp.RunAsync(args, output, error, context);
        return (exitCode, output.ToString(), error.ToString());
    }

    private async Task SucceedsAsync(params string[] args)
    {
        var (exitCode, stdout, stderr) = await RunAsync(args);
        Assert.True(exitCode == 0, $"tlog {string.Join(' ', args)}: exit {exitCode}\n{stdout}\n{stderr}");
    }

    /// <summary>A clock the test sets: signers' "now" for choosing a log from the signing config.</summary>
    private sealed class MovableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
