using System.Collections.Concurrent;
using System.Net;
using System.Text;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Durability;

public sealed class CrashTests
{
    [Fact]
    public async Task ServiceKilledDuringLoad_RestartsWithEveryAcknowledgedEntryAndAConsistentTree()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("crash");
        var (_, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        using var entries = new Entries();
        var service = await LogServiceProcess.StartAsync(app, keys);
        var port = service.Port;
        var key = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));

        // 16 clients append as fast as they can; the service is killed with SIGKILL in the middle of it.
        var acknowledged = new ConcurrentBag<RekorEntry>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = service.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await http.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, Encoding.UTF8, "application/json"));
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged.Add(RekorEntry.Parse(await response.Content.ReadAsStringAsync()));
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The connection died with the process: this entry was not acknowledged.
                }
            }
        })).ToArray();

        while (acknowledged.Count < 300)
        {
            await Task.Delay(20);
        }

        service.Kill();
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        await service.DisposeAsync();
        Assert.True(acknowledged.Count >= 300);

        // Storage alone is consistent: gap-free indices and a root over them equal to the signed head.
        var (size, root, checkpoint) = await StorageAudit.AssertConsistentAsync(app);
        Assert.True(new NoteVerifier(service.LogName, key).TryVerifyCheckpoint(checkpoint, out var parsed));
        Assert.Equal(size, parsed!.Size);
        Assert.Equal(root, Hash.FromBytes(parsed.RootHash));

        // Restart on the same port: every acknowledged entry is at its index and verifies against the new head, and
        // the log keeps growing from where it was.
        await using var restarted = await LogServiceProcess.StartAsync(app, keys, port: port);
        foreach (var entry in acknowledged)
        {
            var read = RekorEntry.Parse(await restarted.Client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}"));
            Assert.Equal(entry.BodyBase64, read.BodyBase64);
            Assert.Equal(entry.Uuid, read.Uuid);
            read.AssertVerifies(key, restarted.LogName);
        }

        using var more = await restarted.Client.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, more.StatusCode);
        var next = RekorEntry.Parse(await more.Content.ReadAsStringAsync());
        Assert.Equal(size, next.LogIndex);
        await StorageAudit.AssertConsistentAsync(app);
        Directory.Delete(keys, recursive: true);
    }
}
