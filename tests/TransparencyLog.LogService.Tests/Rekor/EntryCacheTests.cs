using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Rekor;

/// <summary>
/// Inclusion-proof reads answered from the cache of committed entries: the same answer the database gives, and a cache
/// that stays within its bytes.
/// </summary>
public sealed class EntryCacheTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task GetEntryByIndex_CachedAndFromStorage_SameEntryAndBothVerify()
    {
        var appended = new List<RekorEntry>();
        for (var i = 0; i < 5; i++)
        {
            appended.Add(await log.AppendAsync(log.Entries.NewHashedRekord().Json));
        }

        // This process cached each entry when its batch committed; a second process with the cache off reads storage.
        await using var uncached = await LogServiceProcess.StartAsync(
            log.AppConnectionString, log.KeyDirectory, settings: new Dictionary<string, string> { ["Storage__EntryCacheBytes"] = "0" });
        foreach (var entry in appended)
        {
            var cached = RekorEntry.Parse(await log.Client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}"));
            var stored = RekorEntry.Parse(await uncached.Client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}"));
            cached.AssertVerifies(log.PublicKey, log.Service.LogName);
            stored.AssertVerifies(log.PublicKey, log.Service.LogName);
            foreach (var read in new[] { cached, stored })
            {
                Assert.Equal(entry.Uuid, read.Uuid);
                Assert.Equal(entry.BodyBase64, read.BodyBase64);
                Assert.Equal(entry.IntegratedTime, read.IntegratedTime);
                Assert.Equal(entry.LogIndex, read.LogIndex);
                Assert.Equal(entry.Set, read.Set);
            }
        }
    }

    [Fact]
    public async Task GetEntryByIndex_ManyConcurrentUncachedReads_CoalescedAndEachTheRightEntry()
    {
        var appended = new List<RekorEntry>();
        for (var i = 0; i < 12; i++)
        {
            appended.Add(await log.AppendAsync(log.Entries.NewHashedRekord().Json));
        }

        // No entry cache and one lookup statement at a time: reads that arrive while it runs wait and go in one batch.
        await using var uncached = await LogServiceProcess.StartAsync(
            log.AppConnectionString, log.KeyDirectory, settings: new Dictionary<string, string>
            {
                ["Storage__EntryCacheBytes"] = "0",
                ["Storage__EntryLookupsInFlight"] = "1",
            });
        var beyond = appended.Max(e => e.LogIndex) + 1_000_000;
        for (var round = 0; round < 5; round++)
        {
            // Each entry several times (a batch can hold one index twice), and an index no head covers (404).
            var indices = Enumerable.Range(0, 120).Select(i => i % 13 == 12 ? beyond : appended[i % 13 % appended.Count].LogIndex).ToArray();
            var answers = await Task.WhenAll(indices.Select(async index =>
            {
                using var response = await uncached.Client.GetAsync($"/api/v1/log/entries?logIndex={index}");
                return (index, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));
            foreach (var (index, status, body) in answers)
            {
                if (index == beyond)
                {
                    Assert.Equal(System.Net.HttpStatusCode.NotFound, status);
                    continue;
                }

                Assert.Equal(System.Net.HttpStatusCode.OK, status);
                var read = RekorEntry.Parse(body);
                var entry = appended.Single(e => e.LogIndex == index);
                Assert.Equal(entry.Uuid, read.Uuid);
                Assert.Equal(entry.BodyBase64, read.BodyBase64);
                Assert.Equal(entry.Set, read.Set);
                read.AssertVerifies(log.PublicKey, log.Service.LogName);
            }

            var scrape = await PrometheusScrape.GetAsync(uncached.Client);
            if (scrape.Sum("tlog_entry_lookup_batch_size_sum") > scrape.Sum("tlog_entry_lookup_batch_size_count"))
            {
                return;
            }
        }

        Assert.Fail("600 concurrent reads of uncached entries never shared a lookup statement");
    }

    [Fact]
    public async Task GetEntryByIndex_TilesNotCached_GroupUnderSummarySameProofAsWholeTile()
    {
        // 300 entries: at least one full level-0 tile among them.
        var appended = new List<RekorEntry>();
        for (var round = 0; round < 10; round++)
        {
            appended.AddRange(await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => log.AppendAsync(log.Entries.NewHashedRekord().Json))));
        }

        // The first process caches neither tiles nor entries: each read fetches its entry's group of 16 leaves with the
        // tile's stored summary (migration 0015), nothing held in memory. The second has room in its tile cache and reads
        // whole tiles (then proofs from the cached tile).
        var uncached = new Dictionary<string, string> { ["Storage__EntryCacheBytes"] = "0", ["Storage__TileCacheBytes"] = "0" };
        await using var grouped = await LogServiceProcess.StartAsync(log.AppConnectionString, log.KeyDirectory, settings: uncached);
        await using var whole = await LogServiceProcess.StartAsync(
            log.AppConnectionString, log.KeyDirectory, settings: new Dictionary<string, string> { ["Storage__EntryCacheBytes"] = "0" });
        var indices = appended.Select(e => e.LogIndex).Where(i => i % 5 == 0).ToList();
        for (var round = 0; round < 2; round++)
        {
            foreach (var index in indices)
            {
                var fromGroup = RekorEntry.Parse(await grouped.Client.GetStringAsync($"/api/v1/log/entries?logIndex={index}"));
                var fromWhole = RekorEntry.Parse(await whole.Client.GetStringAsync($"/api/v1/log/entries?logIndex={index}"));
                fromGroup.AssertVerifies(log.PublicKey, log.Service.LogName);
                fromWhole.AssertVerifies(log.PublicKey, log.Service.LogName);
                Assert.Equal(index, fromGroup.LogIndex);
                Assert.Equal(fromWhole.Uuid, fromGroup.Uuid);
                Assert.Equal(fromWhole.TreeSize, fromGroup.TreeSize);
                Assert.Equal(fromWhole.RootHash, fromGroup.RootHash);
                Assert.Equal(fromWhole.Hashes, fromGroup.Hashes);
            }
        }

        var groupedScrape = await PrometheusScrape.GetAsync(grouped.Client);
        var wholeScrape = await PrometheusScrape.GetAsync(whole.Client);
        // The first process holds no summary in memory (Storage:TileSummaryCacheBytes is 0 by default): its group reads
        // were served by the stored summaries alone.
        Assert.True(groupedScrape.Sum("tlog_entry_tile_reads_total", ("part", "group")) > 0);
        Assert.Equal(0, wholeScrape.Sum("tlog_entry_tile_reads_total", ("part", "group")));
        Assert.True(wholeScrape.Sum("tlog_entry_tile_reads_total", ("part", "whole")) > 0);
    }

    [Fact]
    public void Add_MoreThanItsBytes_HoldsAtMostItsBytes()
    {
        const int Limit = 64 * 1024;
        var cache = new EntryCache(Options.Create(new StorageOptions { EntryCacheBytes = Limit }));
        var body = new byte[1024];
        for (var i = 0; i < 1000; i++)
        {
            cache.Add(1, new StoredEntry(i, body, 0, new byte[72], Rfc6962.HashLeaf(BitConverter.GetBytes(i))));
        }

        var held = Enumerable.Range(0, 1000).Count(i => cache.TryGet(1, i, out _));
        Assert.InRange(held, 1, Limit / body.Length);
    }

    [Fact]
    public void TryGet_OtherLogOrIndex_Misses()
    {
        var cache = new EntryCache(Options.Create(new StorageOptions()));
        var entry = new StoredEntry(7, [1, 2, 3], 42, null, Rfc6962.HashLeaf([1, 2, 3]));
        cache.Add(1, entry);

        Assert.True(cache.TryGet(1, 7, out var found));
        Assert.Same(entry, found);
        Assert.False(cache.TryGet(2, 7, out _));
        Assert.False(cache.TryGet(1, 8, out _));
    }

    [Fact]
    public void Add_CacheTurnedOff_HoldsNothing()
    {
        var cache = new EntryCache(Options.Create(new StorageOptions { EntryCacheBytes = 0 }));
        cache.Add(1, new StoredEntry(0, [1], 0, null, Rfc6962.HashLeaf([1])));
        Assert.False(cache.TryGet(1, 0, out _));
    }
}
