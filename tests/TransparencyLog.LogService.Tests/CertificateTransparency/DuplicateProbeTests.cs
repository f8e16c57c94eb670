using Npgsql;
using TransparencyLog.LogService.CertificateTransparency;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.CertificateTransparency;

/// <summary>
/// Concurrent duplicate probes share queries, and each still gets what a query of its own would give: the smallest
/// index holding its key in its own log, or none.
/// </summary>
public sealed class DuplicateProbeTests
{
    [Fact]
    public async Task FindAsync_ManyConcurrentProbes_EachGetsTheEarliestIndexOfItsKeyInItsLog()
    {
        var (admin, app) = await PostgresServer.CreateDatabaseAsync("probe");
        // Search keys as log_append writes them: key 'ct:k{n}' at indices 10n+7 and 10n+3 for even n in log 1; log 2
        // holds every key at index 5000 + n, so a probe of log 1 must not see it.
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("""
                INSERT INTO search_index (log_id, key, idx)
                SELECT 1, 'ct:k' || n, 10 * n + d FROM generate_series(0, 598, 2) n, (VALUES (7), (3)) v(d)
                UNION ALL
                SELECT 2, 'ct:k' || n, 5000 + n FROM generate_series(0, 599) n
                """, connection);
            await insert.ExecuteNonQueryAsync();
        }

        await using var dataSource = NpgsqlDataSource.Create(app);
        await using var replica = new ReadReplica(dataSource, null);
        await using var probe = new DuplicateProbe(new EntryStore(dataSource, replica));

        // 600 keys (more than one query holds), each asked twice at once, in log 1; and a third of them in log 2.
        var asked = Enumerable.Range(0, 600).SelectMany(n => new[] { (Log: 1, N: n), (Log: 1, N: n) })
            .Concat(Enumerable.Range(0, 200).Select(n => (Log: 2, N: 3 * n)))
            .ToArray();
        var answers = await Task.WhenAll(asked.Select(a => Task.Run(() => probe.FindAsync(a.Log, "ct:k" + a.N, CancellationToken.None))));

        for (var i = 0; i < asked.Length; i++)
        {
            var (log, n) = asked[i];
            long? expected = log == 2 ? 5000 + n : n % 2 == 0 ? 10 * n + 3 : null;
            Assert.True(expected == answers[i], $"log {log}, key ct:k{n}: expected {expected?.ToString() ?? "none"}, got {answers[i]?.ToString() ?? "none"}");
        }
    }

    [Fact]
    public async Task FindAsync_AfterDispose_ThrowsLogStopping()
    {
        await using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        await using var replica = new ReadReplica(dataSource, null);
        var probe = new DuplicateProbe(new EntryStore(dataSource, replica));
        await probe.DisposeAsync();

        await Assert.ThrowsAsync<LogStoppingException>(() => probe.FindAsync(1, "ct:k0", CancellationToken.None));
    }
}
