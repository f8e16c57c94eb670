using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Tests.Shared;
using TransparencyLog.Witness.Tests.Infrastructure;

namespace TransparencyLog.Witness.Tests;

/// <summary>
/// The log service asking real witness processes for cosignatures under a 2-of-3 policy: fail-closed appends wait for
/// the quorum, fail-open ones do not, and <c>/checkpoint</c> carries the cosignatures. Every test starts its own
/// database, witnesses and log; the tests are in three classes so that xunit runs the three side by side (the tests
/// of one class run one after another, and each takes tens of seconds of process starts and waiting).
/// </summary>
public abstract class LogWitnessingTests : IAsyncLifetime
{
    private protected WitnessTrio _trio = null!;
    private protected readonly string _stateDirectory = Directory.CreateTempSubdirectory("tlog-witnessed-log-").FullName;
    private TestDatabase? _database;
    private protected string _app = "";

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("witnessed");
        _app = _database.App;
        _trio = await WitnessTrio.CreateAsync("witness", _stateDirectory);
    }

    public async Task DisposeAsync()
    {
        await _trio.DisposeAsync();

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Directory.Delete(_stateDirectory, recursive: true);
    }

    private protected async Task WaitForCosignedSizeAsync(LogProcess log, string vkey, long size, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var checkpoint = await log.Client.GetStringAsync("/checkpoint");
            if (_trio.Policy.Verify(checkpoint, out _) && new NoteVerifier(vkey).TryVerifyCheckpoint(checkpoint, out var head) && head!.Size >= size)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint of size {size} cosigned within {within.TotalSeconds} s; last:\n{checkpoint}");
            await Task.Delay(50);
        }
    }

    /// <summary>Witnessing rounds the log has completed (met or unmet), from its <c>/metrics</c>.</summary>
    private protected static async Task<double> CompletedRoundsAsync(LogProcess log) =>
        (await log.Client.GetStringAsync("/metrics"))
            .Split('\n')
            .Where(line => line.StartsWith("tlog_witness_quorum_wait_seconds_count{", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Starts the log once without witnessing to learn its origin and verifier key (kept in the state directory).</summary>
    private protected async Task<(string Origin, string VerifierKey)> ReadLogIdentityAsync()
    {
        await using var log = await LogProcess.StartAsync(_app, _stateDirectory, new Dictionary<string, string>());
        var checkpoint = await log.Client.GetStringAsync("/checkpoint");
        var vkey = (await log.Client.GetStringAsync("/api/v1/log/verifierKey")).Trim();
        return (checkpoint.Split('\n')[0], vkey);
    }

    /// <summary>The log with the policy in <paramref name="mode"/>; <paramref name="more"/> adds or overrides settings.</summary>
    private protected Task<LogProcess> StartLogAsync(string mode, IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Witnessing__PolicyFile"] = _trio.PolicyFile,
            ["Witnessing__Mode"] = mode,
            ["Witnessing__WitnessTimeoutMilliseconds"] = "10000",
            ["Witnessing__BudgetMilliseconds"] = "15000",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return LogProcess.StartAsync(_app, _stateDirectory, settings);
    }

    private protected async Task StartWitnessesAsync(string origin, string vkey, params int[] which)
    {
        foreach (var i in which)
        {
            await _trio.StartAsync(i, new WitnessProcess.LogConfig(origin, vkey, Burst: 1000));
        }
    }
}

/// <summary>Fail-closed appends under the 2-of-3 policy: acknowledged once two witnesses cosign, 503 without them.</summary>
public sealed class LogWitnessingFailClosedTests : LogWitnessingTests
{
    [Fact]
    public async Task FailClosed_QuorumOfTwoOfThree_AppendsAcknowledgedAndCheckpointCosigned()
    {
        var (origin, vkey) = await ReadLogIdentityAsync();
        await using (var log = await StartLogAsync("FailClosed"))
        {
            await StartWitnessesAsync(origin, vkey, 0, 1, 2);
            for (var i = 0; i < 3; i++)
            {
                using var response = await log.AppendAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Created, log.Output + string.Concat(_trio.Running.Select(w => w.Output)));
            }

            var checkpoint = await log.Client.GetStringAsync("/checkpoint");
            Assert.True(_trio.Policy.Verify(checkpoint, out var cosigned), checkpoint);
            Assert.True(cosigned.Count >= 2);
            Assert.True(new NoteVerifier(vkey).TryVerifyCheckpoint(checkpoint, out var parsed));
            Assert.Equal(3, parsed!.Size);

            // Rekor v1 answers keep a checkpoint with the log's signature only (sigstore clients reject unknown lines).
            using var info = JsonDocument.Parse(await log.Client.GetStringAsync("/api/v1/log"));
            Assert.Single(info.RootElement.GetProperty("signedTreeHead").GetString()!.Split('\n'), line => line.StartsWith('\u2014'));

            var scrape = await PrometheusScrape.GetAsync(log.Client);
            Assert.True(scrape.Sum("tlog_witness_cosignature_seconds_count") >= 6);
            Assert.Equal(3, scrape.Sum("tlog_witness_quorum_wait_seconds_count", ("result", "met")));
        }

        // A new log process knows no witness sizes: each witness answers 409 with its size and the log proves from it.
        await using var restarted = await StartLogAsync("FailClosed");
        using (var again = await restarted.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        Assert.True(_trio.Policy.Verify(await restarted.Client.GetStringAsync("/checkpoint"), out _));
        Assert.True((await PrometheusScrape.GetAsync(restarted.Client)).Sum("tlog_witness_conflicts_total") >= 2);
    }

    [Fact]
    public async Task FailClosed_TwoWitnessesDown_Returns503ThenRecovers()
    {
        var (origin, vkey) = await ReadLogIdentityAsync();
        await using var log = await StartLogAsync("FailClosed");
        await StartWitnessesAsync(origin, vkey, 0);

        using (var blocked = await log.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, blocked.StatusCode);
        }

        // No checkpoint with the quorum exists: none is served as witnessed.
        Assert.False(_trio.Policy.Verify(await log.Client.GetStringAsync("/checkpoint"), out _));
        Assert.True((await PrometheusScrape.GetAsync(log.Client)).Sum("tlog_witness_failures_total") >= 2);

        await StartWitnessesAsync(origin, vkey, 1);
        using (var recovered = await log.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, recovered.StatusCode);
        }

        var checkpoint = await log.Client.GetStringAsync("/checkpoint");
        Assert.True(_trio.Policy.Verify(checkpoint, out var cosigned), checkpoint);
        Assert.Equal(["w0", "w1"], cosigned.Order());
        Assert.True(new NoteVerifier(vkey).TryVerifyCheckpoint(checkpoint, out var after));
        Assert.Equal(2, after!.Size);
    }

    [Fact]
    public async Task FailClosed_QuorumDownWhileBatchesArrive_EveryBatchCommitsAndAllAreAnsweredWhenItReturns()
    {
        var (origin, vkey) = await ReadLogIdentityAsync();
        // A budget long enough for the second witness's process start on a busy machine.
        await using var log = await StartLogAsync("FailClosed", new Dictionary<string, string> { ["Witnessing__BudgetMilliseconds"] = "120000" });
        await StartWitnessesAsync(origin, vkey, 0);

        // Six appends, one batch each, all waiting for the quorum at once: a batch waiting for the witnesses does not
        // hold back the commit of the next (one later round covers them all).
        var appends = new List<Task<HttpResponseMessage>>();
        for (var i = 1; i <= 6; i++)
        {
            appends.Add(log.AppendAsync());
            await WaitForCommittedEntriesAsync(i);
        }

        await StartWitnessesAsync(origin, vkey, 1);
        var answers = await Task.WhenAll(appends);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.StatusCode));
        Assert.True(_trio.Policy.Verify(await log.Client.GetStringAsync("/checkpoint"), out _));
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    private async Task WaitForCommittedEntriesAsync(long count)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_app);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM entries", connection);
            var committed = (long)(await command.ExecuteScalarAsync())!;
            if (committed >= count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{committed} entries committed after 10 s; expected {count} while the earlier ones wait for the witnesses");
            await Task.Delay(50);
        }
    }
}

/// <summary>Fail-open appends (cosignatures follow, one round per interval) and tlog's witness policy on them.</summary>
public sealed class LogWitnessingFailOpenTests : LogWitnessingTests
{
    [Fact]
    public async Task FailOpen_WitnessesDown_AppendsProceedAndCosignaturesFollow()
    {
        var (origin, vkey) = await ReadLogIdentityAsync();
        await using var log = await StartLogAsync("FailOpen");

        using (var unwitnessed = await log.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, unwitnessed.StatusCode);
        }

        Assert.True(new NoteVerifier(vkey).TryVerifyCheckpoint(await log.Client.GetStringAsync("/checkpoint"), out var plain));
        Assert.Equal(1, plain!.Size);

        await StartWitnessesAsync(origin, vkey, 0, 1, 2);
        using (var witnessed = await log.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, witnessed.StatusCode);
        }

        // Collected in the background: wait (bounded) for the cosigned checkpoint to be served.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string checkpoint;
        do
        {
            await Task.Delay(100);
            checkpoint = await log.Client.GetStringAsync("/checkpoint");
        }
        while (!_trio.Policy.Verify(checkpoint, out _) && DateTime.UtcNow < deadline);

        Assert.True(_trio.Policy.Verify(checkpoint, out _), checkpoint);
        Assert.True(new NoteVerifier(vkey).TryVerifyCheckpoint(checkpoint, out var cosigned));
        Assert.Equal(2, cosigned!.Size);
    }

    [Fact]
    public async Task FailOpen_AppendsInQuickSuccession_OneRoundPerIntervalAndTheNextCoversThemAll()
    {
        var (origin, vkey) = await ReadLogIdentityAsync();
        var interval = TimeSpan.FromSeconds(5);
        await using var log = await StartLogAsync("FailOpen", new Dictionary<string, string>
        {
            ["Witnessing__FailOpenRoundIntervalMilliseconds"] = ((int)interval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await StartWitnessesAsync(origin, vkey, 0, 1, 2);

        using (var first = await log.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        await WaitForCosignedSizeAsync(log, vkey, 1, TimeSpan.FromSeconds(60));
        var firstCosigned = DateTime.UtcNow;
        var roundsBefore = await CompletedRoundsAsync(log);

        // Five more entries, each its own batch: before pacing, every one of them started a round of its own.
        for (var i = 0; i < 5; i++)
        {
            using var append = await log.AppendAsync();
            Assert.Equal(HttpStatusCode.Created, append.StatusCode);
        }

        // No further append: the paced round must still come, and ask for the newest checkpoint, which covers all five.
        await WaitForCosignedSizeAsync(log, vkey, 6, interval + TimeSpan.FromSeconds(60));
        var rounds = await CompletedRoundsAsync(log) - roundsBefore;

        // The first round started before its cosigned checkpoint was served, so at most one further round fits in each
        // interval of the span since then; the last of them covered every entry.
        var span = DateTime.UtcNow - firstCosigned;
        var allowed = 1 + (int)(span / interval);
        Assert.InRange(rounds, 1, allowed);
    }

    [Fact]
    public async Task TlogVerifyConsistency_TwoOfThreeCosigned_PolicyMetButAllOfThreeRefused()
    {
        var (origin, vkey) = await ReadLogIdentityAsync();
        await using var log = await StartLogAsync("FailClosed");
        await StartWitnessesAsync(origin, vkey, 0, 2);

        // On a loaded machine a first round can outlast the budget (503, the entry is still committed): append again.
        var status = HttpStatusCode.ServiceUnavailable;
        for (var attempt = 0; attempt < 5 && status == HttpStatusCode.ServiceUnavailable; attempt++)
        {
            using var response = await log.AppendAsync();
            status = response.StatusCode;
        }

        Assert.True(status == HttpStatusCode.Created, log.Output);

        var state = Path.Combine(_stateDirectory, "audit.checkpoint");
        string[] audit = ["log", "verify-consistency", "--rekor-url", log.Client.BaseAddress!.ToString(), "--vkey", vkey, "--state", state, "--output", "json"];

        var met = await Tlog.RunAsync([.. audit, "--witness-policy", _trio.PolicyFile]);
        Assert.True(met.ExitCode == 0, met.Output);
        using (var result = JsonDocument.Parse(met.StandardOutput))
        {
            Assert.Equal(["w0", "w2"], result.RootElement.GetProperty("witnesses").EnumerateArray().Select(w => w.GetString()));
            Assert.True(result.RootElement.GetProperty("treeSize").GetInt64() >= 1);
        }

        Assert.True(_trio.Policy.Verify(await File.ReadAllTextAsync(state), out _));

        // The same witnesses, but the quorum needs all three: w1 never cosigned, so the audit refuses and keeps its state.
        var all = Path.Combine(_stateDirectory, "all-three.policy");
        await File.WriteAllTextAsync(all, (await File.ReadAllTextAsync(_trio.PolicyFile)).Replace("group main 2", "group main all", StringComparison.Ordinal));
        var before = await File.ReadAllTextAsync(state);
        var unmet = await Tlog.RunAsync([.. audit, "--witness-policy", all]);
        Assert.True(unmet.ExitCode == 3, unmet.Output);
        Assert.Contains("WITNESS_QUORUM_UNMET", unmet.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(state));

        // A witness listed under its name but with another key does not count either.
        using var other = LogSigner.Generate(LogKeyType.Ed25519);
        var impostor = Path.Combine(_stateDirectory, "impostor.policy");
        await File.WriteAllTextAsync(impostor, $"witness w0 {new Cosigner(_trio.Members[0].Name, other).VerifierKey}\nquorum w0\n");
        var refused = await Tlog.RunAsync([.. audit, "--witness-policy", impostor]);
        Assert.True(refused.ExitCode == 3, refused.Output);
    }
}

/// <summary>The Rekor v2 and CT logs' checkpoints cosigned by the same witnesses.</summary>
public sealed class LogWitnessingOtherLogsTests : LogWitnessingTests
{
    [Fact]
    public async Task FailClosed_RekorV2Append_V2CheckpointCosignedAndEntryAnswerKeepsTheLogSignedOne()
    {
        var v2 = new Dictionary<string, string>
        {
            ["Logs__RekorV2__Enabled"] = "true",
            ["Logs__RekorV2__Name"] = "witnessed-v2.log.test",
            ["Logs__RekorV2__StateDirectory"] = _stateDirectory,
        };
        string v2Origin, v2Vkey;
        await using (var first = await LogProcess.StartAsync(_app, _stateDirectory, v2))
        {
            v2Origin = (await first.Client.GetStringAsync("/api/v2/checkpoint")).Split('\n')[0];
            v2Vkey = (await first.Client.GetStringAsync("/api/v2/log/verifierKey")).Trim();
        }

        var (origin, vkey) = await ReadLogIdentityAsync();
        foreach (var i in new[] { 0, 1 })
        {
            await _trio.StartAsync(i, new WitnessProcess.LogConfig(origin, vkey, Burst: 1000), new WitnessProcess.LogConfig(v2Origin, v2Vkey, Burst: 1000));
        }

        await using var log = await StartLogAsync("FailClosed", v2);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(32));
        var request = new JsonObject
        {
            ["hashedRekordRequestV002"] = new JsonObject
            {
                ["digest"] = Convert.ToBase64String(digest),
                ["signature"] = new JsonObject
                {
                    ["content"] = Convert.ToBase64String(key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)),
                    ["verifier"] = new JsonObject
                    {
                        ["publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) },
                        ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256",
                    },
                },
            },
        }.ToJsonString();

        // On a loaded machine a first round can outlast the budget (503, the entry is still committed): append again.
        HttpResponseMessage response;
        var attempts = 0;
        do
        {
            response = await log.Client.PostAsync("/api/v2/log/entries", new StringContent(request, Encoding.UTF8, "application/json"));
        }
        while (response.StatusCode == HttpStatusCode.ServiceUnavailable && ++attempts < 5);

        using (response)
        {
            var answer = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, answer + log.Output);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                // The bundle's checkpoint stays log-signed: sigstore clients reject unknown signature lines.
                using var entry = JsonDocument.Parse(answer);
                var envelope = entry.RootElement.GetProperty("inclusionProof").GetProperty("checkpoint").GetProperty("envelope").GetString()!;
                Assert.Single(envelope.Split('\n'), static line => line.StartsWith('\u2014'));
            }
        }

        var checkpoint = await log.Client.GetStringAsync("/api/v2/checkpoint");
        Assert.True(_trio.Policy.Verify(checkpoint, out var cosigned), checkpoint);
        Assert.Equal(2, cosigned.Count);
        Assert.True(new NoteVerifier(v2Vkey).TryVerifyCheckpoint(checkpoint, out var parsed), checkpoint);
        Assert.Equal(v2Origin, parsed!.Origin);
        Assert.True(parsed.Size >= 1);
    }

    [Fact]
    public async Task FailClosed_CtAddChain_CtCheckpointCosignedAndVerifiedWithThePolicy()
    {
        // A CA the CT log accepts: a self-signed root in its roots file, a leaf issued by it.
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        var rootRequest = new CertificateRequest("CN=witnessed ct root, O=test", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var root = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("", leafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress("witnessed-ct@example.com");
        leafRequest.CertificateExtensions.Add(san.Build(critical: true));
        using var leaf = leafRequest.Create(root, now.AddMinutes(-1), now.AddMinutes(10), RandomNumberGenerator.GetBytes(16));
        var roots = Path.Combine(_stateDirectory, "ct-roots.pem");
        await File.WriteAllTextAsync(roots, root.ExportCertificatePem() + "\n");
        var ct = new Dictionary<string, string>
        {
            ["Logs__Ct__Enabled"] = "true",
            ["Logs__Ct__Name"] = "witnessed.log.test/ct",
            ["Logs__Ct__StateDirectory"] = _stateDirectory,
            ["CertificateTransparency__RootsPath"] = roots,
        };

        // The CT log publishes no note key: its checkpoint is signed with its RFC 6962 key under the checkpoint's origin.
        string ctOrigin, ctVkey;
        await using (var first = await LogProcess.StartAsync(_app, _stateDirectory, ct))
        {
            ctOrigin = (await first.Client.GetStringAsync("/ct/checkpoint")).Split('\n')[0];
            ctVkey = new NoteVerifierKey(ctOrigin, LogPublicKey.FromPem(await first.Client.GetStringAsync("/ct/v1/public-key"))).VerifierKey;
        }

        var (origin, vkey) = await ReadLogIdentityAsync();
        foreach (var i in new[] { 0, 2 })
        {
            await _trio.StartAsync(i, new WitnessProcess.LogConfig(origin, vkey, Burst: 1000), new WitnessProcess.LogConfig(ctOrigin, ctVkey, Burst: 1000));
        }

        await using var log = await StartLogAsync("FailClosed", ct);
        var chain = JsonSerializer.Serialize(new { chain = new[] { Convert.ToBase64String(leaf.RawData), Convert.ToBase64String(root.RawData) } });

        // On a loaded machine a first round can outlast the budget (503, the entry is still committed): submit again.
        HttpResponseMessage response;
        var attempts = 0;
        do
        {
            response = await log.Client.PostAsync("/ct/v1/add-chain", new StringContent(chain, Encoding.UTF8, "application/json"));
        }
        while (response.StatusCode == HttpStatusCode.ServiceUnavailable && ++attempts < 5);

        using (response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + log.Output + string.Concat(_trio.Running.Select(w => w.Output)));
        }

        // The tile-served CT checkpoint carries w0's and w2's cosignatures after the log's own signature.
        var checkpoint = await log.Client.GetStringAsync("/ct/checkpoint");
        Assert.True(_trio.Policy.Verify(checkpoint, out var cosigned), checkpoint);
        Assert.Equal(["w0", "w2"], cosigned.Order());
        Assert.True(new NoteVerifier(ctVkey).TryVerifyCheckpoint(checkpoint, out var parsed), checkpoint);
        Assert.Equal(ctOrigin, parsed!.Origin);
        Assert.True(parsed.Size >= 1);
        using var sth = JsonDocument.Parse(await log.Client.GetStringAsync("/ct/v1/get-sth"));
        Assert.True(sth.RootElement.GetProperty("tree_size").GetInt64() >= parsed.Size);

        // A policy that needs w1 too (down) is not met by the same note.
        var all = WitnessPolicy.Parse((await File.ReadAllTextAsync(_trio.PolicyFile)).Replace("group main 2", "group main all", StringComparison.Ordinal));
        Assert.False(all.Verify(checkpoint, out _));
    }

    /// <summary>Polls <c>/checkpoint</c> until it carries the quorum's cosignatures on at least <paramref name="size"/>.</summary>
}
