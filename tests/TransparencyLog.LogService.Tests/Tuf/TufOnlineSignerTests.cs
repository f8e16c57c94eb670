using System.Net;
using Npgsql;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.LogService.Tests.Tuf;

/// <summary>The service keeps timestamp.json fresh, also with two replicas on one database.</summary>
public sealed class TufOnlineSignerTests
{
    [Fact]
    public async Task OnlineSigner_TwoReplicasResigning_OneConsecutiveHistoryClientsAccept()
    {
        // A timestamp that is always "close to expiry": every check re-signs it, in both processes.
        var settings = new Dictionary<string, string>
        {
            ["Tuf__TimestampExpiryDays"] = "1",
            ["Tuf__TimestampResignBeforeSeconds"] = (2 * 24 * 3600).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Tuf__CheckIntervalSeconds"] = "1",
        };
        await using var first = await TufService.StartAsync(settings);
        await using var second = await TufService.StartAsync(settings, replicaOf: first);
        using var keys = new TufTestRepository(first.Online);
        var files = TufTestRepository.SigstoreTargets();
        using (var response = await TufTestRepository.PublishAsync(second.Client, second.Token, TufTestRepository.Request(
            TufTestRepository.Signed(keys.BuildRoot(1), keys.RootKeys), TufTestRepository.Signed(TufTestRepository.BuildTargets(1, files), keys.TargetsKeys), files)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        long version = 0;
        for (var attempt = 0; attempt < 300 && version < 6; attempt++)
        {
            await Task.Delay(200);
            version = TufMetadata.Parse(await first.Client.GetByteArrayAsync("/tuf/timestamp.json"), TufMetadata.Timestamp).Version;
        }

        Assert.True(version >= 6, $"the timestamp was re-signed only up to v{version}");

        // Every version exists once, none skipped, each signed by the online key: no two writers minted one version.
        await using var connection = new NpgsqlConnection(first.AppConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM tuf_metadata WHERE role = 'timestamp' ORDER BY version", connection);
        var versions = new List<long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                versions.Add(reader.GetInt64(0));
            }
        }

        Assert.Equal(Enumerable.Range(1, versions.Count).Select(static v => (long)v), versions);

        var cache = Path.Combine(first.Directory, "client");
        TufUpdater.Bootstrap(cache, await first.Client.GetByteArrayAsync("/tuf/1.root.json"));
        var state = await new TufUpdater(second.Client, new Uri(second.Client.BaseAddress!, "/tuf/"), cache).RefreshAsync(DateTimeOffset.UtcNow);
        Assert.True(state.Timestamp.Version >= 6);
        Assert.True(state.Timestamp.Expires > DateTimeOffset.UtcNow.AddHours(23));
    }
}
