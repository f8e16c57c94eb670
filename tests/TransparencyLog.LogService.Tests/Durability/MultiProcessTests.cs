using System.Net;
using System.Text;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.Durability;

public sealed class MultiProcessTests
{
    [Fact]
    public async Task TwoProcesses_AppendingConcurrently_ProduceOneGapFreeConsistentTree()
    {
        var (_, app) = await PostgresServer.CreateDatabaseAsync("multi");
        var keys = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        using var entries = new Entries();
        await using var a = await LogServiceProcess.StartAsync(app, keys);
        await using var b = await LogServiceProcess.StartAsync(app, keys);
        var key = LogPublicKey.FromPem(await a.Client.GetStringAsync("/api/v1/log/publicKey"));

        var acknowledged = await Task.WhenAll(Enumerable.Range(0, 400).Select(async i =>
        {
            var service = i % 2 == 0 ? a : b;
            using var response = await service.Client.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return RekorEntry.Parse(await response.Content.ReadAsStringAsync());
        }));

        var (size, root, _) = await StorageAudit.AssertConsistentAsync(app);
        Assert.Equal(400, size);
        Assert.Equal(400, acknowledged.Select(e => e.LogIndex).Distinct().Count());
        foreach (var entry in acknowledged)
        {
            entry.AssertVerifies(key, a.LogName);
        }

        // Both processes now report the same signed head, and serve each entry with a proof that verifies.
        foreach (var service in new[] { a, b })
        {
            using var info = System.Text.Json.JsonDocument.Parse(await service.Client.GetStringAsync("/api/v1/log"));
            Assert.Equal(size, info.RootElement.GetProperty("treeSize").GetInt64());
            Assert.Equal(root.ToString(), info.RootElement.GetProperty("rootHash").GetString());
            RekorEntry.Parse(await service.Client.GetStringAsync($"/api/v1/log/entries?logIndex={acknowledged[^1].LogIndex}")).AssertVerifies(key, service.LogName);
        }

        Directory.Delete(keys, recursive: true);
    }
}
