using System.Text.Json;
using Npgsql;
using TransparencyLog.Testing;
using static TransparencyLog.Cli.Tests.Monitoring.MonitorWatch;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>
/// <c>tlog monitor --state-db</c>: the position and the alerts in a real PostgreSQL database with the schema from
/// migrations/ (applied by the log service's migrate step), written as the service role, as <c>./run.sh</c> would.
/// </summary>
public sealed class MonitorDatabaseStateTests : IAsyncLifetime
{
    private readonly CliRunner _cli = new();
    private FakeTileLog _log = null!;
    private TestDatabase? _database;
    private string _admin = "";
    private string _appWithoutPassword = "";
    private string _passwordFile = "";
    private string _password = "";

    public async Task InitializeAsync()
    {
        _log = await FakeTileLog.StartAsync();
        _database = await PostgresServer.CreateDatabaseAsync("monitor");
        (_admin, var app) = _database;
        var builder = new NpgsqlConnectionStringBuilder(app);
        _password = builder.Password ?? "";
        builder.Password = null;
        _appWithoutPassword = builder.ConnectionString;
        _passwordFile = _cli.WriteFile("db-password", _password + "\n");
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _cli.Dispose();

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private Task<(int ExitCode, string Out, string Err)> OnceAsync(string config = AliceConfig, params string[] extra) =>
        _cli.RunAsync(["monitor", "--config", config, "--url", _log.Url, "--vkey", _log.VerifierKey,
            "--state-db", _appWithoutPassword, "--state-db-password-file", _passwordFile, .. extra]);

    [Fact]
    public async Task Monitor_StateDb_IdentityMatchAlertsOnceAndNotAgainAfterRestart()
    {
        _log.Append(Bodies.Plain(0), Bodies.Keyless(1, "bob@example.com", Issuer), Bodies.Keyless(2, Alice, Issuer));

        var first = await OnceAsync();
        var second = await OnceAsync();
        _log.Append(Bodies.Plain(3), Bodies.Keyless(4, Alice, Issuer));
        var third = await OnceAsync();

        Assert.True(first.ExitCode == 5, first.Err);
        Assert.Equal([2L], Events(first.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Empty(Events(second.Out));
        Assert.True(third.ExitCode == 5, third.Err);
        Assert.Equal([4L], Events(third.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
        var alerts = await QueryAsync("SELECT log_index, type, severity, summary, delivered_at IS NOT NULL FROM monitor_alert ORDER BY log_index");
        Assert.Equal(2, alerts.Count);
        Assert.Equal([2L, 4L], alerts.Select(static a => (long)a[0]));
        Assert.All(alerts, static a => Assert.Equal(("identity_match", "info", true), ((string)a[1], (string)a[2], (bool)a[4])));
        Assert.Contains(Alice, (string)alerts[0][3], StringComparison.Ordinal);
        var position = Assert.Single(await QueryAsync("SELECT tree_size, log_url FROM monitor_position"));
        Assert.Equal(5L, position[0]);
        Assert.Equal(_log.Url, position[1]);
        Assert.DoesNotContain(_password, first.Out + first.Err + third.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitor_StateDbAlertRecordedButNotDelivered_SentAgainOnlyThatOne()
    {
        _log.Append(Bodies.Keyless(0, Alice, Issuer), Bodies.Plain(1), Bodies.Keyless(2, Alice, Issuer));
        Assert.Equal(5, (await OnceAsync()).ExitCode);

        // As if the monitor stopped after recording alert 2 and before sending it: the position was never saved.
        await ExecuteAsync("DELETE FROM monitor_position; UPDATE monitor_alert SET delivered_at = NULL WHERE log_index = 2");
        var restarted = await OnceAsync();

        Assert.True(restarted.ExitCode == 5, restarted.Err);
        Assert.Equal([2L], Events(restarted.Out).Select(static e => e.GetProperty("logIndex").GetInt64()));
        Assert.Equal(2L, Assert.Single(await QueryAsync("SELECT count(*) FROM monitor_alert WHERE delivered_at IS NOT NULL"))[0]);
        Assert.Equal(3L, Assert.Single(await QueryAsync("SELECT tree_size FROM monitor_position"))[0]);
    }

    [Fact]
    public async Task Monitor_StateDbForkedLog_ExitsFourRecordsOneCriticalAlertKeepsPosition()
    {
        _log.Append(Bodies.Plain(0), Bodies.Plain(1), Bodies.Plain(2));
        Assert.Equal(0, (await OnceAsync()).ExitCode);
        var saved = Assert.Single(await QueryAsync("SELECT tree_size, root_hash, checkpoint FROM monitor_position"));

        _log.Replace(2, Bodies.Plain(99));
        var first = await OnceAsync();
        var again = await OnceAsync();

        Assert.True(first.ExitCode == 4, first.Err);
        Assert.Equal("log_fork", Assert.Single(Events(first.Out)).GetProperty("type").GetString());
        Assert.True(again.ExitCode == 4, again.Err);
        Assert.Empty(Events(again.Out));
        var alert = Assert.Single(await QueryAsync("SELECT type, severity, summary, body FROM monitor_alert"));
        Assert.Equal(("log_fork", "critical"), ((string)alert[0], (string)alert[1]));
        Assert.StartsWith("LOG FORKED", (string)alert[2], StringComparison.Ordinal);
        using var body = JsonDocument.Parse((string)alert[3]);
        Assert.Equal(saved[2], body.RootElement.GetProperty("previousCheckpoint").GetString());
        Assert.Equal(saved, Assert.Single(await QueryAsync("SELECT tree_size, root_hash, checkpoint FROM monitor_position")));
    }

    [Fact]
    public async Task MonitorPosition_RollbackOrOtherRoot_RefusedByTheDatabase()
    {
        _log.Append(Bodies.Plain(0), Bodies.Plain(1));
        Assert.Equal(0, (await OnceAsync()).ExitCode);

        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_appWithoutPassword) { Password = _password }.ConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            "UPDATE monitor_position SET tree_size = 1",
            $"UPDATE monitor_position SET root_hash = '{new string('0', 64)}'",
            "UPDATE monitor_alert SET summary = 'x'",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            if (sql.Contains("alert", StringComparison.Ordinal))
            {
                await ExecuteAsync($"INSERT INTO monitor_alert (event_id, log_url, origin, type, severity, summary, body, raised_at) VALUES ('{new string('a', 32)}', 'u', 'o', 't', 'info', 's', '{{}}', now())");
            }

            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        }

        Assert.Equal(2L, Assert.Single(await QueryAsync("SELECT tree_size FROM monitor_position"))[0]);
    }

    [Fact]
    public async Task Monitor_StateDbUnreachableOrBad_ClearErrorWithoutPasswordNothingPrinted()
    {
        _log.Append(Bodies.Keyless(0, Alice, Issuer));
        var unreachable = new NpgsqlConnectionStringBuilder(_appWithoutPassword) { Port = 1, Timeout = 2 }.ConnectionString;

        var down = await _cli.RunAsync(["monitor", "--config", AliceConfig, "--url", _log.Url, "--vkey", _log.VerifierKey, "--state-db", unreachable, "--state-db-password-file", _passwordFile]);
        var garbage = await _cli.RunAsync(["monitor", "--config", AliceConfig, "--url", _log.Url, "--state-db", "this is not=a;connection string=at all;Bogus Key=1"]);
        var both = await OnceAsync(AliceConfig, "--state", _cli.PathOf("state.json"));

        Assert.True(down.ExitCode == 1, down.Err);
        Assert.Contains("the state database cannot be used", down.Err, StringComparison.Ordinal);
        Assert.Empty(down.Out);
        Assert.DoesNotContain(_password, down.Err, StringComparison.Ordinal);
        Assert.True(garbage.ExitCode == 2, garbage.Err);
        Assert.Contains("--state-db is not a PostgreSQL connection string", garbage.Err, StringComparison.Ordinal);
        Assert.True(both.ExitCode == 2, both.Err);
        Assert.Empty(await QueryAsync("SELECT 1 FROM monitor_alert"));
    }

    private async Task<List<object[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
