using System.Net;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>
/// A primary and a real hot standby of it (<c>scripts/pg.sh standby</c>: <c>pg_basebackup -R</c>, streaming replication),
/// private to this class: the log service appends to the primary and reads from the standby.
/// </summary>
public sealed class ReplicaCluster : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("tlog-replica-").FullName;
    private PrivateCluster? _primary;
    private PrivateCluster? _standby;

    public string PrimaryApp { get; private set; } = "";

    public string StandbyApp { get; private set; } = "";

    public string StandbyAdmin { get; private set; } = "";

    /// <summary>One key for every service process of the class (they serve one log), removed with the clusters.</summary>
    public string KeyDirectory => Directory.CreateDirectory(Path.Combine(_root, "keys")).FullName;

    public async Task InitializeAsync()
    {
        _primary = new PrivateCluster(Path.Combine(_root, "primary"));
        _primary.Start();
        PrimaryApp = await _primary.CreateMigratedDatabaseAsync("replica", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

        // The standby is a copy of the migrated primary that keeps replaying it.
        _standby = new PrivateCluster(Path.Combine(_root, "standby"));
        _standby.StartAsStandbyOf(_primary);
        StandbyApp = new NpgsqlConnectionStringBuilder(PrimaryApp) { Port = _standby.Port }.ConnectionString;
        StandbyAdmin = new NpgsqlConnectionStringBuilder(_primary.Admin) { Port = _standby.Port, Database = "replica" }.ConnectionString;
    }

    public Task DisposeAsync()
    {
        _standby?.Dispose();
        _primary?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return Task.CompletedTask;
    }

    /// <summary>Runs SQL on the standby as superuser (pausing and resuming WAL replay) and returns the first value.</summary>
    public async Task<object?> OnStandbyAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(StandbyAdmin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Waits until the standby has replayed the log to at least <paramref name="size"/> entries.</summary>
    public async Task WaitReplayedAsync(long size)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (await OnStandbyAsync("SELECT coalesce(max(tree_size), 0) FROM logs") is long replayed && replayed >= size)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the standby did not replay the log to size {size}");
    }
}

public sealed class ReadReplicaTests(ReplicaCluster cluster) : IClassFixture<ReplicaCluster>
{
    [Fact]
    public async Task Reads_StandbyCaughtUp_ServedByStandbyWithProofsThatVerify()
    {
        await using var service = await StartAsync();
        var key = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));
        var appended = await AppendAsync(service, 20);
        await cluster.WaitReplayedAsync(appended.Max(e => e.LogIndex) + 1);

        // A second process reads: the appending one answers its own recent entries from memory (the entry cache).
        await using var reader = await StartAsync();
        var before = await StandbyReadsAsync(reader, "standby");
        foreach (var entry in appended)
        {
            RekorEntry.Parse(await reader.Client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}")).AssertVerifies(key, reader.LogName);
        }

        Assert.True(await StandbyReadsAsync(reader, "standby") >= before + appended.Length, "the standby answered fewer reads than were made");
    }

    [Fact]
    public async Task Reads_StandbyReplayPaused_AnsweredFromPrimaryWithProofsAgainstServedCheckpoint()
    {
        await using var service = await StartAsync();
        var key = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));
        await AppendAsync(service, 3);
        await cluster.OnStandbyAsync("SELECT pg_wal_replay_pause()");
        try
        {
            var standbySize = (long)(await cluster.OnStandbyAsync("SELECT tree_size FROM logs"))!;

            // A second process that never appends: its only knowledge of the head comes from reads.
            await using var reader = await StartAsync();
            var late = await AppendAsync(service, 5);
            Assert.All(late, e => Assert.True(e.LogIndex >= standbySize));

            var before = await StandbyReadsAsync(reader, "primary_fallback");
            foreach (var entry in late)
            {
                using var response = await reader.Client.GetAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var served = RekorEntry.Parse(await response.Content.ReadAsStringAsync());
                served.AssertVerifies(key, reader.LogName);
                Assert.True(served.TreeSize > entry.LogIndex);
            }

            Assert.True(await StandbyReadsAsync(reader, "primary_fallback") > before, "no read fell back to the primary");

            // The tile holding the late entries exists on the primary only: served, never a 404 or a short tile.
            var size = late.Max(e => e.LogIndex) + 1;
            using var tile = await reader.Client.GetAsync($"/tile/0/000.p/{size}");
            Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
            Assert.Equal((int)size * 32, (await tile.Content.ReadAsByteArrayAsync()).Length);

            // A tile no head covers yet is still a 404.
            using var beyond = await reader.Client.GetAsync("/tile/0/001");
            Assert.Equal(HttpStatusCode.NotFound, beyond.StatusCode);
        }
        finally
        {
            await cluster.OnStandbyAsync("SELECT pg_wal_replay_resume()");
        }
    }

    private Task<LogServiceProcess> StartAsync() => LogServiceProcess.StartAsync(
        cluster.PrimaryApp,
        cluster.KeyDirectory,
        settings: new Dictionary<string, string> { ["Storage__StandbyConnectionString"] = cluster.StandbyApp });

    private static async Task<RekorEntry[]> AppendAsync(LogServiceProcess service, int count)
    {
        using var entries = new Entries();
        var appended = new List<RekorEntry>();
        for (var i = 0; i < count; i++)
        {
            using var response = await service.Client.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            appended.Add(RekorEntry.Parse(await response.Content.ReadAsStringAsync()));
        }

        return [.. appended];
    }

    private static async Task<double> StandbyReadsAsync(LogServiceProcess service, string source) =>
        (await PrometheusScrape.GetAsync(service.Client)).Sum("tlog_standby_reads_total", ("source", source));
}
