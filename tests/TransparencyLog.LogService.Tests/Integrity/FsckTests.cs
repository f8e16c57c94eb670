using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Integrity;

/// <summary>
/// A template database holding one log of each kind (Rekor v1, Rekor v2, CT), 300 entries each in batches of 7, 50
/// and 243 (checkpoints at sizes 7, 57 and 300; two tile levels). Each test damages its own copy.
/// </summary>
public sealed class FsckFixture : IAsyncLifetime
{
    internal string Template { get; private set; } = "";

    internal Dictionary<string, int> Ids { get; } = [];

    private TestDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("fsck");
        var (admin, app) = _database;
        Template = new NpgsqlConnectionStringBuilder(admin).Database!;
        var unpooled = new NpgsqlConnectionStringBuilder(app) { Pooling = false }.ConnectionString;
        foreach (var (label, kind) in new[] { ("V1", LogKind.RekorV1), ("V2", LogKind.RekorV2), ("CT", LogKind.CertificateTransparency) })
        {
            using var log = await DirectLog.CreateAsync(unpooled, $"{label.ToLowerInvariant()}.fsck.test", kind);
            await log.AppendAsync(300, 7, 50, 243);
            Ids[label] = log.Id;
        }

        // A template may have no open connections when it is copied.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(admin));
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    /// <summary>A copy of the template, dropped when disposed: (superuser, service role) connection strings.</summary>
    internal Task<TestDatabase> CopyAsync() => PostgresServer.CreateDatabaseAsync("fsck_copy", Template);
}

public sealed class FsckTests(FsckFixture fixture) : IClassFixture<FsckFixture>
{
    [Fact]
    public async Task Check_UndamagedLogsOfEveryKind_AreConsistent()
    {
        await using var copy = await fixture.CopyAsync();
        var (_, app) = copy;
        foreach (var scope in new[] { CheckScope.Full, new CheckScope(44, 2) })
        {
            var results = await CheckAsync(app, scope);
            Assert.Equal(3, results.Count);
            Assert.All(results, r => Assert.True(r.Consistent, r.ToString()));
            Assert.Equal(scope == CheckScope.Full ? 300 : 300 - 256, results[0].Entries);
        }
    }

    [Theory]
    [InlineData("V1", "UPDATE entries SET body = body || '\\x00'::bytea WHERE log_id = {V1} AND idx = 77", "entries row idx 77 leaf_hash")]
    [InlineData("V2", "UPDATE entries SET body = '\\x666f72676564'::bytea, leaf_hash = sha256('\\x00666f72676564'::bytea) WHERE log_id = {V2} AND idx = 5", "tiles row 0/0, hash 5")]
    [InlineData("CT", "DELETE FROM entries WHERE log_id = {CT} AND idx = 100", "entries row idx 100")]
    [InlineData("V1", "INSERT INTO entries (log_id, idx, leaf_hash, body, integrated_time, kind, api_version) VALUES ({V1}, 300, sha256('\\x0078'::bytea), '\\x78'::bytea, 0, 'k', 'v')", "entries row idx 300")]
    [InlineData("V2", "UPDATE tiles SET hashes = overlay(hashes placing decode(repeat('00', 32), 'hex') from 1 for 32) WHERE log_id = {V2} AND level = 0 AND idx = 1", "tiles row 0/1, hash 0")]
    [InlineData("CT", "UPDATE tiles SET hashes = sha256(hashes) WHERE log_id = {CT} AND level = 1 AND idx = 0", "tiles row 1/0, hash 0")]
    [InlineData("V1", "UPDATE tiles SET hashes = hashes || decode(repeat('00', 32), 'hex') WHERE log_id = {V1} AND level = 0 AND idx = 1", "tiles row 0/1")]
    [InlineData("V2", "DELETE FROM tiles WHERE log_id = {V2} AND level = 0 AND idx = 0", "tiles row 0/0")]
    [InlineData("CT", "INSERT INTO tiles (log_id, level, idx, hashes) VALUES ({CT}, 0, 5, decode(repeat('00', 32), 'hex'))", "tiles row 0/5")]
    [InlineData("V1", "UPDATE logs SET root_hash = sha256(root_hash) WHERE id = {V1}", "logs row (head) root_hash")]
    [InlineData("V2", "UPDATE logs SET tree_size = tree_size + 1 WHERE id = {V2}", "entries row idx 300")]
    [InlineData("CT", "UPDATE logs SET tree_size = 299 WHERE id = {CT}", "entries row idx 299")]
    [InlineData("V1", "UPDATE logs SET checkpoint = (SELECT note FROM checkpoints WHERE log_id = {V1} AND tree_size = 57) WHERE id = {V1}", "logs row (head) checkpoint")]
    [InlineData("V2", "UPDATE logs SET checkpoint = overlay(checkpoint placing 'AAAA' from length(checkpoint) - 10 for 4) WHERE id = {V2}", "logs row (head) checkpoint")]
    [InlineData("CT", "UPDATE checkpoints SET root_hash = sha256(root_hash) WHERE log_id = {CT} AND tree_size = 57", "checkpoints row tree_size 57 root_hash")]
    [InlineData("V1", "UPDATE checkpoints SET note = overlay(note placing 'AAAA' from length(note) - 10 for 4) WHERE log_id = {V1} AND tree_size = 57", "checkpoints row tree_size 57 note")]
    [InlineData("V2", "INSERT INTO checkpoints SELECT log_id, 1000, root_hash, note, signed_at FROM checkpoints WHERE log_id = {V2} AND tree_size = 300", "checkpoints row tree_size 1000")]
    [InlineData("CT", "UPDATE logs SET public_key = (SELECT public_key FROM logs WHERE id = {V1}) WHERE id = {CT}", "logs row (head) checkpoint")]
    public async Task Check_OneRowDamaged_NamesItsLogAndRow(string log, string damage, string row)
    {
        await using var copy = await fixture.CopyAsync();
        var (admin, app) = copy;
        await DamageAsync(admin, damage);

        var results = await CheckAsync(app, CheckScope.Full);

        var damaged = results.Single(r => r.Name == $"{log.ToLowerInvariant()}.fsck.test");
        Assert.False(damaged.Consistent);
        Assert.StartsWith(row, damaged.Divergence!.Row, StringComparison.Ordinal);
        Assert.All(results.Where(r => r != damaged), r => Assert.True(r.Consistent, r.ToString()));
    }

    [Fact]
    public async Task Check_DamageOlderThanTheBoundedWindow_OnlyFullCheckFindsIt()
    {
        await using var copy = await fixture.CopyAsync();
        var (admin, app) = copy;
        await DamageAsync(admin, "UPDATE entries SET body = body || '\\x00'::bytea WHERE log_id = {V2} AND idx = 5");

        // The last 44 entries start at index 256: entry 5 lies outside the window.
        Assert.All(await CheckAsync(app, new CheckScope(44, 1)), r => Assert.True(r.Consistent, r.ToString()));
        Assert.Contains(await CheckAsync(app, CheckScope.Full), r => r.Divergence?.Row == "entries row idx 5 leaf_hash");
    }

    [Fact]
    public async Task FsckCommand_ConsistentThenDamaged_ExitsZeroThenOneNamingTheRow()
    {
        await using var copy = await fixture.CopyAsync();
        var (admin, app) = copy;
        var clean = await RunFsckAsync("--connection", app, "--full");
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.Contains("fsck: 3 log(s) consistent", clean.Output, StringComparison.Ordinal);

        await DamageAsync(admin, "UPDATE tiles SET hashes = overlay(hashes placing decode(repeat('00', 32), 'hex') from 33 for 32) WHERE log_id = {CT} AND level = 0 AND idx = 0");
        var damaged = await RunFsckAsync("--connection", app);
        Assert.True(damaged.ExitCode == 1, damaged.Output);
        Assert.Contains("FAIL  log ct.fsck.test (ct): tiles row 0/0, hash 1: expected ", damaged.Output, StringComparison.Ordinal);
        Assert.Contains("fsck: 1 of 3 log(s) diverge", damaged.Output, StringComparison.Ordinal);

        var usage = await RunFsckAsync("--connection", app, "--entries", "many");
        Assert.Equal(2, usage.ExitCode);
    }

    private async Task DamageAsync(string admin, string sql)
    {
        foreach (var (label, id) in fixture.Ids)
        {
            sql = sql.Replace("{" + label + "}", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        // As a superuser with triggers off: the only way past migration 0001's triggers and 0003's grants.
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SET session_replication_role = replica; " + sql, connection);
        Assert.True(await command.ExecuteNonQueryAsync() >= 1, "the damage changed no row");
    }

    private static async Task<IReadOnlyList<LogCheckResult>> CheckAsync(string app, CheckScope scope)
    {
        await using var dataSource = NpgsqlDataSource.Create(app);
        return await new LogChecker(dataSource).CheckAllAsync(scope, CancellationToken.None);
    }

    private static async Task<(int ExitCode, string Output)> RunFsckAsync(params string[] args)
    {
        var dll = RepositoryPaths.ProjectOutput("TransparencyLog.LogService");
        var start = new ProcessStartInfo("dotnet", [dll, "fsck", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start fsck");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
