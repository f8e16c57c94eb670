using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Integrity;

/// <summary>The service checks its storage at start-up and on a schedule, and signs nothing on top of a bad head.</summary>
public sealed class ServiceIntegrityTests
{
    [Fact]
    public async Task Startup_HeadRootDoesNotVerify_RefusesAppendsWith503AndSignsNothing()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("startup");
        var (admin, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        using var entries = new Entries();
        await using (var first = await LogServiceProcess.StartAsync(app, keys))
        {
            for (var i = 0; i < 5; i++)
            {
                using var created = await PostAsync(first, entries.NewHashedRekord().Json);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
        }

        // A root the tiles do not give, as someone with superuser rights could leave behind.
        await ExecuteAsync(admin, "SET session_replication_role = replica; UPDATE logs SET root_hash = sha256(root_hash) WHERE kind = 'rekor-v1'");
        var before = await ReadHeadAsync(admin);

        await using var restarted = await LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["Logs__Rekor__CheckpointRefreshSeconds"] = "1",
        });
        using var refused = await PostAsync(restarted, entries.NewHashedRekord().Json);
        var body = await refused.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        using (var error = JsonDocument.Parse(body))
        {
            Assert.Contains("integrity check", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("STORAGE FAILED ITS INTEGRITY CHECK (logs row (head) root_hash", restarted.Output, StringComparison.Ordinal);

        // Longer than the refresh interval: the quiet log's checkpoint would have been re-signed by now.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(before, await ReadHeadAsync(admin));
        Directory.Delete(keys, recursive: true);
    }

    [Fact]
    public async Task Schedule_EntryDamagedWhileRunning_SuspendsAppends()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("schedule");
        var (admin, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        using var entries = new Entries();
        await using var service = await LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["Integrity__IntervalSeconds"] = "1",
        });
        for (var i = 0; i < 5; i++)
        {
            using var created = await PostAsync(service, entries.NewHashedRekord().Json);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await ExecuteAsync(admin, "SET session_replication_role = replica; UPDATE entries SET body = body || '\\x20'::bytea WHERE idx = 2");

        // Appends go on until the next scheduled check finds the damage; from then on they are refused.
        var status = HttpStatusCode.Created;
        for (var attempt = 0; attempt < 300 && status == HttpStatusCode.Created; attempt++)
        {
            await Task.Delay(200);
            using var response = await PostAsync(service, entries.NewHashedRekord().Json);
            status = response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("entries row idx 2 leaf_hash", service.Output, StringComparison.Ordinal);
        Directory.Delete(keys, recursive: true);
    }

    private static Task<HttpResponseMessage> PostAsync(LogServiceProcess service, string json) =>
        service.Client.PostAsync("/api/v1/log/entries", new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(long Size, string Checkpoint, long Checkpoints)> ReadHeadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT tree_size, checkpoint, (SELECT count(*) FROM checkpoints) FROM logs WHERE kind = 'rekor-v1'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2));
    }
}
