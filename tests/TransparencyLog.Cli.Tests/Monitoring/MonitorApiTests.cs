using System.Text.Json;
using TransparencyLog.Tests.Shared;
using static TransparencyLog.Cli.Tests.Monitoring.MonitorWatch;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>
/// <c>tlog monitor</c> over a Rekor v1 log that serves no tiles (as public Rekor): the API follower, chosen because the
/// tiles answer 404, proves every new size consistent with the log's proof and reads entries ten at a time.
/// </summary>
public sealed class MonitorApiTests : IAsyncLifetime
{
    private readonly CliRunner _cli = new();
    private FakeTileLog _log = null!;

    private string StatePath => _cli.PathOf("monitor-api-state.json");

    public async Task InitializeAsync()
    {
        _log = await FakeTileLog.StartAsync();
        _log.ServeTiles = false;
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _cli.Dispose();
    }

    private Task<(int ExitCode, string Out, string Err)> OnceAsync(string config, params string[] extra) =>
        _cli.RunAsync(["monitor", "--config", config, "--url", _log.Url, "--state", StatePath, "--vkey", _log.VerifierKey, .. extra]);

    [Fact]
    public async Task Monitor_LogWithoutTiles_FollowsTheApiAndAlertsOnceNotAgainAfterRestart()
    {
        var entries = Enumerable.Range(0, 45).Select(i => i is 3 or 37 ? Bodies.Keyless(i, Alice, Issuer) : Bodies.Plain(i)).ToArray();
        _log.Append(entries);

        var first = await OnceAsync(AliceConfig);
        var second = await OnceAsync(AliceConfig);
        _log.Append(Bodies.Plain(45), Bodies.Keyless(46, Alice, "https://other.example"), Bodies.Keyless(47, Alice, Issuer));
        var third = await OnceAsync(AliceConfig);

        Assert.True(first.ExitCode == 5, first.Err);
        Assert.Contains("serves no tiles", first.Err, StringComparison.Ordinal);
        Assert.Equal([3L, 37L], Indexes(first.Out));
        Assert.Equal(Alice, Events(first.Out)[0].GetProperty("value").GetString());
        Assert.True(_log.RetrieveRequests >= 5, $"{_log.RetrieveRequests} retrieve requests for 45 entries");
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Empty(Events(second.Out));
        Assert.True(third.ExitCode == 5, third.Err);
        Assert.Equal([47L], Indexes(third.Out));
        using var state = JsonDocument.Parse(await File.ReadAllTextAsync(StatePath));
        Assert.Equal(48, state.RootElement.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task Monitor_ApiForcedOnALogWithTiles_ReadsNoTilesAndFindsTheMatch()
    {
        _log.ServeTiles = true;
        _log.Append(Bodies.Plain(0), Bodies.Keyless(1, Alice, Issuer));

        var result = await OnceAsync(AliceConfig, "--log-source", "api");

        Assert.True(result.ExitCode == 5, result.Err);
        Assert.Equal([1L], Indexes(result.Out));
        Assert.True(_log.RetrieveRequests > 0);
    }

    [Fact]
    public async Task Monitor_ApiRewrittenHistoryThatGrew_ConsistencyProofFailsExitsFourNoMatch()
    {
        _log.Append(Bodies.Plain(0), Bodies.Plain(1), Bodies.Plain(2));
        Assert.Equal(0, (await OnceAsync(AliceConfig)).ExitCode);

        _log.Replace(0, Bodies.Plain(42));
        _log.Append(Bodies.Keyless(3, Alice, Issuer));
        var result = await OnceAsync(AliceConfig);

        Assert.True(result.ExitCode == 4, result.Err);
        var alert = Assert.Single(Events(result.Out));
        Assert.Equal("log_inconsistent", alert.GetProperty("type").GetString());
        Assert.Contains("consistency proof", alert.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_ApiServesAnEntryTheTreeDoesNotHold_ExitsFourNoMatchNothingSaved()
    {
        _log.Append(Bodies.Plain(0), Bodies.Plain(1), Bodies.Plain(2));
        Assert.Equal(0, (await OnceAsync(AliceConfig)).ExitCode);
        var saved = await File.ReadAllTextAsync(StatePath);

        _log.Append(Bodies.Plain(3), Bodies.Plain(4));
        _log.ServeInstead = (4, Bodies.Keyless(4, Alice, Issuer));
        var result = await OnceAsync(AliceConfig);

        Assert.True(result.ExitCode == 4, result.Err);
        Assert.Equal(["log_inconsistent"], Events(result.Out).Select(static e => e.GetProperty("type").GetString()));
        Assert.Equal(saved, await File.ReadAllTextAsync(StatePath));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(256)]
    [InlineData(300)]
    public async Task Monitor_ApiWithoutStateFromStartIndex_MatchesFromThereAndFollowsOn(int startIndex)
    {
        var entries = Enumerable.Range(0, 600).Select(i => i % 100 == 50 || i == 1 || i == 256 ? Bodies.Keyless(i, Alice, Issuer) : Bodies.Plain(i)).ToArray();
        _log.Append(entries);
        var config = AliceConfig.Replace("startIndex: 0", $"startIndex: {startIndex}", StringComparison.Ordinal);

        var first = await OnceAsync(config);
        _log.Append(Bodies.Keyless(600, Alice, Issuer));
        var second = await OnceAsync(config);

        long[] all = [1, 50, 150, 250, 256, 350, 450, 550];
        Assert.True(first.ExitCode == 5, first.Err);
        Assert.Equal(all.Where(i => i >= startIndex), Indexes(first.Out));
        Assert.True(second.ExitCode == 5, second.Err);
        Assert.Equal([600L], Indexes(second.Out));
    }

    [Fact]
    public async Task Monitor_ApiNoStateNoStartIndex_StartsAtTheLatestSizeThenProvesTheNext()
    {
        _log.Append(Bodies.Keyless(0, Alice, Issuer), Bodies.Plain(1), Bodies.Plain(2), Bodies.Plain(3));
        var config = AliceConfig.Replace("startIndex: 0\n", "", StringComparison.Ordinal);

        var first = await OnceAsync(config);
        _log.Append(Bodies.Keyless(4, Alice, Issuer));
        var second = await OnceAsync(config);

        Assert.True(first.ExitCode == 0, first.Err);
        Assert.True(second.ExitCode == 5, second.Err);
        Assert.Equal([4L], Indexes(second.Out));
    }

    [Fact]
    public async Task Monitor_BadLogSource_ExitsTwo()
    {
        var result = await OnceAsync(AliceConfig, "--log-source", "ftp");
        var v2 = await OnceAsync(AliceConfig, "--log-source", "api", "--log-kind", "rekor-v2");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--log-source", result.Err, StringComparison.Ordinal);
        Assert.Equal(2, v2.ExitCode);
        Assert.False(File.Exists(StatePath));
    }
}
