using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.LogService.Tests.Logs;
using TransparencyLog.LogService.Tests.RekorV2;

namespace TransparencyLog.LogService.Tests.Explorer;

/// <summary>
/// The explorer after a Rekor v1 shard rotation and with a Rekor v2 period log: the Rekor v1 page lists every shard
/// with its global indices, size, state and checkpoint; a frozen shard has a page of its own; entries are reached by
/// global index on both sides of the boundary; period logs are in the navigation with pages and entries of their own.
/// </summary>
public sealed partial class ExplorerShardTests() : ShardedLogTest("explorershards", new Dictionary<string, string>
{
    ["Logs__RekorV2Periods__2026a__Name"] = "explorer.test/2026a",
    ["Logs__RekorV2Periods__2026a__StateDirectory"] = "{keys}",
})
{
    [Fact]
    public async Task Explorer_AfterShardRotation_ListsShardsAndReachesEntriesByGlobalIndexAcrossTheBoundary()
    {
        var oldShard = new List<RekorEntry>();
        for (var i = 0; i < 3; i++)
        {
            oldShard.Add(await AppendAsync(Entries.NewHashedRekord().Json));
        }

        var oldTree = (await InfoAsync()).GetProperty("treeID").GetString()!;
        Assert.Equal(0, await RotateAsync());
        var newShard = new[] { await AppendAsync(Entries.NewHashedRekord().Json), await AppendAsync(Entries.NewHashedRekord().Json) };
        var info = await InfoAsync();
        var newTree = info.GetProperty("treeID").GetString()!;
        var frozenCheckpoint = (await InfoAsync($"?treeID={oldTree}")).GetProperty("signedTreeHead").GetString()!;
        Assert.Equal([3L, 4L], newShard.Select(e => e.LogIndex));

        // The Rekor v1 page: both shards, oldest first, with their global index ranges, sizes, state and checkpoints.
        var page = await GetHtmlAsync("/explorer/logs/rekor-v1");
        var rows = ShardRow().Matches(page).Select(m => m.Value).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains($">{oldTree}</a>", rows[0], StringComparison.Ordinal);
        Assert.Contains("0 to 2", rows[0], StringComparison.Ordinal);
        Assert.Contains("frozen ", rows[0], StringComparison.Ordinal);
        Assert.Contains(frozenCheckpoint, rows[0], StringComparison.Ordinal);
        Assert.Contains($">{newTree}</a>", rows[1], StringComparison.Ordinal);
        Assert.Contains("3 to 4", rows[1], StringComparison.Ordinal);
        Assert.Contains("active", rows[1], StringComparison.Ordinal);

        // Entries by global index on both sides of the boundary, each in its own shard; beyond the end, 404.
        foreach (var (entry, tree, local) in new[] { (oldShard[2], oldTree, 2), (newShard[0], newTree, 0) })
        {
            var entryPage = await GetHtmlAsync($"/explorer/entries/rekor-v1/{entry.LogIndex}");
            Assert.Contains($"Entry {entry.LogIndex} of the Rekor v1", entryPage, StringComparison.Ordinal);
            Assert.Contains(entry.Uuid[^64..], entryPage, StringComparison.Ordinal);
            Assert.Contains($"tree {tree}, index {local} in it", entryPage, StringComparison.Ordinal);
            Assert.Contains("verified", entryPage, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Service.Client.GetAsync("/explorer/entries/rekor-v1/5")).StatusCode);
        var search = await GetHtmlAsync("/explorer/search?q=3&type=index");
        Assert.Contains("/explorer/entries/rekor-v1/3", search, StringComparison.Ordinal);
        Assert.Contains("/explorer/entries/rekor-v1/1\"", await GetHtmlAsync($"/explorer/search?q={oldShard[1].Uuid[^64..]}"), StringComparison.Ordinal);

        // The frozen shard's own page: its final size and checkpoint, its entries linked by global index.
        var shardPage = await GetHtmlAsync($"/explorer/logs/rekor-v1-shard-{oldTree}");
        Assert.Contains($"Rekor v1 shard {oldTree} (frozen)", shardPage, StringComparison.Ordinal);
        Assert.Contains(frozenCheckpoint, shardPage, StringComparison.Ordinal);
        Assert.Equal(["/explorer/entries/rekor-v1/0", "/explorer/entries/rekor-v1/1", "/explorer/entries/rekor-v1/2"],
            EntryLink().Matches(shardPage).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Explorer_RekorV2PeriodLog_InNavigationWithItsPageAndEntries()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var appended = await Service.Client.PostAsync(
            "/2026a/api/v2/log/entries", new StringContent(V2Requests.EcdsaHashedRekord(key).Json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, appended.StatusCode);

        var search = await GetHtmlAsync("/explorer/");
        Assert.Contains("href=\"/explorer/logs/rekor-v2-2026a\"", search, StringComparison.Ordinal);
        Assert.Contains("Rekor v2 log 2026a", search, StringComparison.Ordinal);
        var page = await GetHtmlAsync("/explorer/logs/rekor-v2-2026a");
        Assert.Contains("explorer.test/2026a", page, StringComparison.Ordinal);
        Assert.Equal(["/explorer/entries/rekor-v2-2026a/0"], EntryLink().Matches(page).Select(m => m.Groups[1].Value));
        var entry = await GetHtmlAsync("/explorer/entries/rekor-v2-2026a/0");
        Assert.Contains("Entry 0 of the Rekor v2 log 2026a", entry, StringComparison.Ordinal);
        Assert.Contains("verified", entry, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await Service.Client.GetAsync("/explorer/entries/rekor-v2-2026a/1")).StatusCode);
    }

    private async Task<string> GetHtmlAsync(string path)
    {
        using var response = await Service.Client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode}\n{html}");
        return WebUtility.HtmlDecode(html);
    }

    [GeneratedRegex("<tr class=\"shard\">.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex ShardRow();

    [GeneratedRegex("href=\"(/explorer/entries/[^\"]+/[0-9]+)\"")]
    private static partial Regex EntryLink();
}
