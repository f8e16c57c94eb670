using System.Text.Json;
using TransparencyLog.Merkle;
using TransparencyLog.Tests.Shared;
using static TransparencyLog.Cli.Tests.Monitoring.MonitorWatch;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary><c>tlog monitor --log-kind ct</c> over an RFC 6962 log without tiles: signed heads, proofs, paged entries.</summary>
public sealed class MonitorCtApiTests : IAsyncLifetime
{
    private const string SubjectConfig = """
        startIndex: 0
        monitoredValues:
          subjects:
            - ^alice@example\.com$
        """;

    private readonly CliRunner _cli = new();
    private FakeCtLog _log = null!;

    private string StatePath => _cli.PathOf("monitor-ct-state.json");

    public async Task InitializeAsync() => _log = await FakeCtLog.StartAsync();

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _cli.Dispose();
    }

    private Task<(int ExitCode, string Out, string Err)> OnceAsync() =>
        _cli.RunAsync(["monitor", "--config", SubjectConfig, "--url", _log.Url, "--log-kind", "ct", "--state", StatePath]);

    [Fact]
    public async Task Monitor_CtApiPagedByTheServer_EveryMatchOnceNotAgainAfterRestart()
    {
        _log.Append([.. Enumerable.Range(0, 40).Select(static i => i is 5 or 33 ? Bodies.CtLeaf(i, Alice) : Bodies.CtLeaf(i))]);

        var first = await OnceAsync();
        var second = await OnceAsync();
        _log.Append(Bodies.CtLeaf(40), Bodies.CtLeaf(41, Alice));
        var third = await OnceAsync();

        Assert.True(first.ExitCode == 5, first.Err);
        Assert.Contains("serves no tiles", first.Err, StringComparison.Ordinal);
        Assert.Equal([5L, 33L], Events(first.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
        Assert.True(_log.GetEntriesRequests >= 6, $"{_log.GetEntriesRequests} get-entries for 40 entries 7 at a time");
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Empty(Events(second.Out));
        Assert.True(third.ExitCode == 5, third.Err);
        Assert.Equal([41L], Events(third.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
    }

    [Fact]
    public async Task Monitor_CtApiForkedSth_ExitsFourLogForkAndKeepsTheState()
    {
        _log.Append([.. Enumerable.Range(0, 10).Select(static i => Bodies.CtLeaf(i))]);
        Assert.Equal(0, (await OnceAsync()).ExitCode);
        var saved = await File.ReadAllTextAsync(StatePath);

        _log.ForkedRoot = Rfc6962.HashLeaf([1, 2, 3]);
        var result = await OnceAsync();

        Assert.True(result.ExitCode == 4, result.Err);
        var alert = Assert.Single(Events(result.Out));
        Assert.Equal("log_fork", alert.GetProperty("type").GetString());
        Assert.Equal(saved, await File.ReadAllTextAsync(StatePath));
    }

    [Fact]
    public async Task Monitor_CtApiGrownForkedSth_ConsistencyProofFailsExitsFour()
    {
        _log.Append([.. Enumerable.Range(0, 10).Select(static i => Bodies.CtLeaf(i))]);
        Assert.Equal(0, (await OnceAsync()).ExitCode);

        _log.Append(Bodies.CtLeaf(10, Alice));
        _log.ForkedRoot = Rfc6962.HashLeaf([1, 2, 3]);
        var result = await OnceAsync();

        Assert.True(result.ExitCode == 4, result.Err);
        Assert.Equal(["log_inconsistent"], Events(result.Out).Select(static e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Monitor_CtApiShrunkLog_ExitsFour()
    {
        _log.Append([.. Enumerable.Range(0, 10).Select(static i => Bodies.CtLeaf(i))]);
        Assert.Equal(0, (await OnceAsync()).ExitCode);

        _log.Truncate(4);
        var result = await OnceAsync();

        Assert.True(result.ExitCode == 4, result.Err);
        Assert.Equal("log_shrink", Assert.Single(Events(result.Out)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Monitor_CtApiBadSthSignature_ExitsFourNothingSaved()
    {
        _log.Append(Bodies.CtLeaf(0, Alice));
        _log.BreakSignature = true;

        var result = await OnceAsync();

        Assert.True(result.ExitCode == 4, result.Err);
        Assert.Equal("checkpoint_signature", Assert.Single(Events(result.Out)).GetProperty("type").GetString());
        Assert.False(File.Exists(StatePath));
    }
}
