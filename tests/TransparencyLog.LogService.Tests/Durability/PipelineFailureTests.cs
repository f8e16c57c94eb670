using System.Net;
using System.Text;
using Npgsql;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.Durability;

/// <summary>
/// The pipelined sequencer sends batch N+1 (predicted from N) while N is still in PostgreSQL. These tests make N fail
/// while N+1 waits behind it and check what every client was told against what the log holds.
/// </summary>
public sealed class PipelineFailureTests
{
    [Fact]
    public async Task BatchConnectionKilledWhileNextBatchWaits_NextIsWrittenAgainAndEveryAnswerMatchesTheLog()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("pipeline");
        var (admin, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        using var entries = new Entries();
        await using var service = await LogServiceProcess.StartAsync(app, keys);
        var key = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));
        var database = new NpgsqlConnectionStringBuilder(app).Database!;

        // One entry first: the sequencer then holds an edge, and the next batches are sent predicted.
        var first = await PostAsync(service, entries.NewHashedRekord().Json);
        Assert.Equal(HttpStatusCode.Created, first.Status);

        // Hold the head row locked, so the batches the service sends queue behind it in PostgreSQL.
        await using var holder = new NpgsqlConnection(admin);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockHead = new NpgsqlCommand("SELECT 1 FROM logs WHERE kind = 'rekor-v1' FOR UPDATE", holder, hold))
        {
            await lockHead.ExecuteNonQueryAsync();
        }

        // Batch N: its head lock waits. Then N+1, sent while N is still in flight: a second backend waits too.
        var bodiesN = Enumerable.Range(0, 8).Select(_ => entries.NewHashedRekord().Json).ToArray();
        var answersN = bodiesN.Select(body => PostAsync(service, body)).ToArray();
        await WaitForWaitingAppendsAsync(admin, database, 1);
        var bodiesNext = Enumerable.Range(0, 8).Select(_ => entries.NewHashedRekord().Json).ToArray();
        var answersNext = bodiesNext.Select(body => PostAsync(service, body)).ToArray();
        var waiting = await WaitForWaitingAppendsAsync(admin, database, 2);

        // N fails: its connection is killed before it could write. Then the lock is released.
        await using (var kill = new NpgsqlConnection(admin))
        {
            await kill.OpenAsync();
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend($1)", kill);
            terminate.Parameters.AddWithValue(waiting[0]);
            Assert.True((bool)(await terminate.ExecuteScalarAsync())!);
        }

        await hold.RollbackAsync();
        var resultsN = await Task.WhenAll(answersN);
        var resultsNext = await Task.WhenAll(answersNext);

        // N's clients were told it failed (or, for entries of a later batch that N's wave filled, that it succeeded);
        // nobody was answered with an index the log does not hold. N+1's prediction rested on N, so N+1 wrote nothing
        // then, and was written again: every one of its clients has its entry.
        Assert.All(resultsN, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Created, HttpStatusCode.ServiceUnavailable, HttpStatusCode.InternalServerError }));
        Assert.Contains(resultsN, r => r.Status != HttpStatusCode.Created);
        Assert.All(resultsNext, r => Assert.Equal(HttpStatusCode.Created, r.Status));

        var acknowledged = resultsN.Concat(resultsNext).Append(first).Where(r => r.Status == HttpStatusCode.Created).Select(r => r.Entry!).ToList();
        var (size, _, _) = await StorageAudit.AssertConsistentAsync(app);
        Assert.Equal(acknowledged.Count, size);
        Assert.Equal(acknowledged.Count, acknowledged.Select(e => e.LogIndex).Distinct().Count());
        foreach (var entry in acknowledged)
        {
            var read = RekorEntry.Parse(await service.Client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}"));
            Assert.Equal(entry.BodyBase64, read.BodyBase64);
            entry.AssertVerifies(key, service.LogName);
        }

        // The failed ones were not added: sent again, each is appended now, after the entries already there.
        var failed = bodiesN.Where((_, i) => resultsN[i].Status != HttpStatusCode.Created).ToArray();
        foreach (var body in failed)
        {
            var again = await PostAsync(service, body);
            Assert.Equal(HttpStatusCode.Created, again.Status);
            Assert.True(again.Entry!.LogIndex >= size);
            again.Entry.AssertVerifies(key, service.LogName);
        }

        var (sizeAfter, _, _) = await StorageAudit.AssertConsistentAsync(app);
        Assert.Equal(size + failed.Length, sizeAfter);
        Directory.Delete(keys, recursive: true);
    }

    private static async Task<(HttpStatusCode Status, RekorEntry? Entry)> PostAsync(LogServiceProcess service, string json)
    {
        using var response = await service.Client.PostAsync("/api/v1/log/entries", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, response.StatusCode == HttpStatusCode.Created ? RekorEntry.Parse(await response.Content.ReadAsStringAsync()) : null);
    }

    /// <summary>The backends of the service waiting for the head lock, oldest first, once there are at least <paramref name="count"/>.</summary>
    private static async Task<int[]> WaitForWaitingAppendsAsync(string admin, string database, int count)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await using var command = new NpgsqlCommand("""
                SELECT pid FROM pg_stat_activity
                WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%log_lock_head%'
                ORDER BY query_start, pid
                """, connection);
            command.Parameters.AddWithValue(database);
            var pids = new List<int>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    pids.Add(reader.GetInt32(0));
                }
            }

            if (pids.Count >= count)
            {
                return pids.ToArray();
            }

            Assert.True(DateTime.UtcNow < deadline, $"{count} appends never waited for the head lock (saw {pids.Count})");
            await Task.Delay(20);
        }
    }
}
