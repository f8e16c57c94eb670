using System.Net;
using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Tests.Shared;
using TransparencyLog.Witness.Tests.Infrastructure;

namespace TransparencyLog.Witness.Tests;

/// <summary>
/// A forked log: two log processes with one key and one origin but two databases. The witness cosigns one branch;
/// <c>tlog monitor --witness-policy</c> following the other branch reads the witness's view
/// (<c>GET /&lt;origin hash&gt;/checkpoint</c>) and alerts <c>split_view</c> for another root at the same size and for a
/// tree that does not extend the cosigned one, while the cosigned branch passes.
/// </summary>
public sealed class SplitViewTests : IAsyncLifetime
{
    private const string TreeId = "4242424242";

    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-split-view-").FullName;
    private readonly string _witnessDirectory = Directory.CreateTempSubdirectory("tlog-split-witness-").FullName;
    private readonly List<TestDatabase> _databases = [];
    private string _branchA = "";
    private string _branchB = "";
    private string _witnessDatabase = "";
    private const string WitnessName = "w0.split.test";
    private string _witnessVkey = "";

    public async Task InitializeAsync()
    {
        _branchA = await CreateDatabaseAsync("brancha");
        _branchB = await CreateDatabaseAsync("branchb");
        _witnessDatabase = await CreateDatabaseAsync("splitwitness");
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        await File.WriteAllTextAsync(Path.Combine(_witnessDirectory, "witness-key.pem"), key.ExportPkcs8Pem(null));
        _witnessVkey = new Cosigner(WitnessName, key).VerifierKey;
    }

    public async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
        Directory.Delete(_witnessDirectory, recursive: true);
    }

    private async Task<string> CreateDatabaseAsync(string prefix)
    {
        var database = await PostgresServer.CreateDatabaseAsync(prefix);
        _databases.Add(database);
        return database.App;
    }

    [Fact]
    public async Task Monitor_ForkedLogAgainstWitnessView_AlertsSplitView()
    {
        // The log's key and origin, shared by both branches (one state directory, one configured tree ID).
        string origin, vkey;
        await using (var probe = await StartBranchAsync(_branchA, null))
        {
            origin = (await probe.Client.GetStringAsync("/checkpoint")).Split('\n')[0];
            vkey = (await probe.Client.GetStringAsync("/api/v1/log/verifierKey")).Trim();
        }

        var port = TestPorts.Next();
        var policy = Path.Combine(_directory, "witness-policy.txt");
        await File.WriteAllTextAsync(policy, $"witness w0 {_witnessVkey} http://127.0.0.1:{port}/\nquorum w0\n");
        await using var witness = await WitnessProcess.StartAsync(_witnessDatabase, _witnessDirectory, [new WitnessProcess.LogConfig(origin, vkey, Burst: 1000)], WitnessName, port);

        using var http = new HttpClient();
        var view = $"http://127.0.0.1:{port}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)))}/checkpoint";
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(view)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"http://127.0.0.1:{port}/not-a-hash/checkpoint")).StatusCode);

        // Branch A asks the witness (fail-closed): its size-1 checkpoint is cosigned.
        await using (var a = await StartBranchAsync(_branchA, policy))
        {
            using var appended = await a.AppendAsync();
            Assert.True(appended.StatusCode == HttpStatusCode.Created, a.Output + witness.Output);
            var witnessed = await http.GetStringAsync(view);
            Assert.True(Cosignature.TryVerify(witnessed, CosignatureVerifierKey.Parse(_witnessVkey), out _), witnessed);
            Assert.True(new NoteVerifier(vkey).TryVerifyCheckpoint(witnessed, out var cosigned));
            Assert.Equal(1, cosigned!.Size);

            var agreed = await MonitorAsync(a, vkey, policy, "a.json");
            Assert.True(agreed.ExitCode == 0, agreed.Output);
        }

        // Branch B never shows its entries to the witness: one entry, another root for size 1.
        await using var b = await StartBranchAsync(_branchB, null);
        using (var forked = await b.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, forked.StatusCode);
        }

        var sameSize = await MonitorAsync(b, vkey, policy, "b1.json");
        Assert.True(sameSize.ExitCode == 4, sameSize.Output);
        Assert.Contains("\"type\":\"split_view\"", sameSize.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("two roots for size 1", sameSize.StandardOutput, StringComparison.Ordinal);

        // A second entry on B: its tree of size 2 does not extend the cosigned tree of size 1.
        using (var more = await b.AppendAsync())
        {
            Assert.Equal(HttpStatusCode.Created, more.StatusCode);
        }

        var extended = await MonitorAsync(b, vkey, policy, "b2.json");
        Assert.True(extended.ExitCode == 4, extended.Output);
        Assert.Contains("does not extend the tree of size 1", extended.StandardOutput, StringComparison.Ordinal);

        // Without the policy the monitor has nothing to compare with: branch B alone looks fine.
        var blind = await Tlog.RunAsync("monitor", "--once", "--url", b.Client.BaseAddress!.ToString().TrimEnd('/'), "--vkey", vkey, "--state", Path.Combine(_directory, "blind.json"), "--stream", "off");
        Assert.True(blind.ExitCode == 0, blind.Output);
    }

    private Task<Tlog.Result> MonitorAsync(LogProcess log, string vkey, string policy, string state) =>
        Tlog.RunAsync("monitor", "--once", "--url", log.Client.BaseAddress!.ToString().TrimEnd('/'), "--vkey", vkey, "--state", Path.Combine(_directory, state), "--stream", "off", "--witness-policy", policy);

    private Task<LogProcess> StartBranchAsync(string database, string? policy)
    {
        var settings = new Dictionary<string, string> { ["Logs__Rekor__TreeId"] = TreeId };
        if (policy is not null)
        {
            settings["Witnessing__PolicyFile"] = policy;
            settings["Witnessing__Mode"] = "FailClosed";
            settings["Witnessing__WitnessTimeoutMilliseconds"] = "10000";
            settings["Witnessing__BudgetMilliseconds"] = "15000";
        }

        return LogProcess.StartAsync(database, _directory, settings);
    }
}
