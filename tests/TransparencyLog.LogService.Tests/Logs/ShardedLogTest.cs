using System.Net;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Logs;

/// <summary>
/// What every Rekor v1 shard test starts from: a fresh database and a running log service per test (xUnit makes one
/// instance per test, so no test sees another's shards), with the state directory `shard rotate` writes the new
/// shard's development key to, and the reads and writes those tests share. <c>{keys}</c> in a setting's value is that
/// directory.
/// </summary>
public abstract class ShardedLogTest(string databaseLabel, IReadOnlyDictionary<string, string>? settings = null) : IAsyncLifetime
{
    private LogServiceProcess? _service;

    private TestDatabase? _database;

    internal string KeyDirectory { get; } = Directory.CreateTempSubdirectory("tlog-shards-").FullName;

    internal Entries Entries { get; } = new();

    /// <summary>The migrate role's connection: the one `shard rotate` needs.</summary>
    internal string Admin { get; private set; } = "";

    internal LogServiceProcess Service => _service ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        string app;
        _database = await PostgresServer.CreateDatabaseAsync(databaseLabel);
        (Admin, app) = _database;
        _service = await LogServiceProcess.StartAsync(app, KeyDirectory, settings: settings?.ToDictionary(
            static s => s.Key, s => s.Value.Replace("{keys}", KeyDirectory, StringComparison.Ordinal), StringComparer.Ordinal));
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Entries.Dispose();
        Directory.Delete(KeyDirectory, recursive: true);
    }

    /// <summary>`shard rotate` of the service's log with a development key, as an operator runs it.</summary>
    internal Task<int> RotateAsync(TextWriter? output = null, TextWriter? error = null) => ShardCommand.RunAsync(
        ["rotate", "--connection", Admin, "--name", Service.LogName, "--state-directory", KeyDirectory], output ?? TextWriter.Null, error ?? TextWriter.Null);

    /// <summary><c>GET /api/v1/log</c> with an optional query (<c>?treeID=</c>).</summary>
    internal async Task<JsonElement> InfoAsync(string query = "") =>
        JsonDocument.Parse(await Service.Client.GetStringAsync("/api/v1/log" + query)).RootElement.Clone();

    internal async Task<RekorEntry> AppendAsync(string proposal)
    {
        using var response = await Service.Client.PostAsync("/api/v1/log/entries", Json(proposal));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {body}");
        return RekorEntry.Parse(body);
    }

    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
