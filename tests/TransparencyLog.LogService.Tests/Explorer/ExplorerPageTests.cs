using System.Net;
using System.Text.RegularExpressions;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.LogService.Tests.Explorer;

/// <summary>The explorer's pages over HTTP against a real service and database: paging, bad input, downloads, proofs.</summary>
public sealed partial class ExplorerPageTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task Search_KeyWithMoreEntriesThanAPage_PagesNewestFirstWithoutOverlap()
    {
        // Every proposal of a fixture's Entries is signed with the same key: one search key, many entries.
        var appended = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            appended.Add((await log.AppendAsync(log.Entries.NewHashedRekord().Json)).LogIndex);
        }

        var first = await GetHtmlAsync($"/explorer/search?q={Uri.EscapeDataString(PublicKeyPem())}&type=key");
        var page1 = EntryIndices(first);
        var next = NextPage().Match(first);
        Assert.True(next.Success, "no next-page link");
        var page2 = EntryIndices(await GetHtmlAsync(WebUtility.HtmlDecode(next.Groups[1].Value)));

        Assert.Equal(25, page1.Count);
        Assert.Equal(page1.OrderDescending(), page1);
        Assert.Empty(page1.Intersect(page2));
        Assert.Subset(page1.Concat(page2).ToHashSet(), appended.ToHashSet());
        Assert.True(page2.Max() < page1.Min());
    }

    [Theory]
    [InlineData("/explorer/search?q=sha256:xyz&type=hash", HttpStatusCode.BadRequest, "an artifact digest is")]
    [InlineData("/explorer/search?q=abc&type=bogus", HttpStatusCode.BadRequest, "unknown search type")]
    [InlineData("/explorer/search?q=x&after=not-a-cursor", HttpStatusCode.BadRequest, "page position")]
    [InlineData("/explorer/entries/rekor-v1/abc", HttpStatusCode.BadRequest, "non-negative integer")]
    [InlineData("/explorer/entries/rekor-v1/999999999", HttpStatusCode.NotFound, "has no entry at index 999999999")]
    [InlineData("/explorer/entries/no-such-log/1", HttpStatusCode.NotFound, "no log by that name")]
    [InlineData("/explorer/logs/rekor-v1?range=1y", HttpStatusCode.BadRequest, "48h or 30d")]
    public async Task Pages_BadInput_ClearErrorPage(string path, HttpStatusCode status, string message)
    {
        using var response = await log.Client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(message, WebUtility.HtmlDecode(html), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthPage_AfterAppends_ShowsAppendRateLatencyAndWitnessStatus()
    {
        for (var i = 0; i < 3; i++)
        {
            await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        }

        var html = await GetHtmlAsync("/explorer/health");

        Assert.Contains("<th scope=\"col\">Appends/s, last 5 min</th>", html, StringComparison.Ordinal);
        var latency = LatencyLine().Match(WebUtility.HtmlDecode(html));
        Assert.True(latency.Success, html);
        Assert.True(int.Parse(latency.Groups[1].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture) >= 3);
        Assert.True(double.Parse(latency.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) <= double.Parse(latency.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("Witnessing is not configured", html, StringComparison.Ordinal);
        Assert.Contains("Monitor alerts", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_QueryLongerThanLimit_400()
    {
        using var response = await log.Client.GetAsync($"/explorer/search?q={new string('a', 6001)}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task BundleDownload_HashedRekord_IsABundleWhoseProofVerifies()
    {
        var entry = await log.AppendAsync(log.Entries.NewHashedRekord().Json);

        var bundle = Bundle.Parse(await log.Client.GetStringAsync($"/explorer/entries/rekor-v1/{entry.LogIndex}/bundle.json"));

        var tlog = Assert.Single(bundle.VerificationMaterial.TlogEntries);
        Assert.Equal(entry.LogIndex, tlog.LogIndex);
        Assert.Equal(Convert.FromBase64String(entry.BodyBase64), tlog.CanonicalizedBody);
        Assert.Equal(entry.Set, tlog.InclusionPromise);
        var proof = tlog.InclusionProof!;
        Assert.True(ProofVerifier.VerifyInclusion(
            entry.LogIndex, proof.TreeSize, Rfc6962.HashLeaf(tlog.CanonicalizedBody), [.. proof.Hashes.Select(h => Hash.FromBytes(h))], Hash.FromBytes(proof.RootHash)));
        Assert.NotNull(bundle.MessageSignature);
        Assert.Equal("", bundle.VerificationMaterial.PublicKeyHint);
    }

    [Fact]
    public async Task LogPage_ConsistencyBetweenSizes_ShowsConsistentVerdict()
    {
        await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        var size = (await log.AppendAsync(log.Entries.NewHashedRekord().Json)).LogIndex + 1;

        var html = WebUtility.HtmlDecode(await GetHtmlAsync($"/explorer/logs/rekor-v1?first=1&second={size}"));

        Assert.Contains("<strong>Consistent</strong>", html, StringComparison.Ordinal);
        Assert.Contains("both roots are the ones the log signed", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExplorerRoutes_Post_MethodNotAllowed()
    {
        using var response = await log.PostAsync("/explorer/search", "{}");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private async Task<string> GetHtmlAsync(string path)
    {
        using var response = await log.Client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}\n{html}");
        return html;
    }

    private string PublicKeyPem() => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(log.Entries.PublicKeyPemBase64));

    private static List<long> EntryIndices(string html) =>
        [.. EntryLink().Matches(html).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    [GeneratedRegex("<td><a href=\"/explorer/entries/rekor-v1/([0-9]+)\">")]
    private static partial Regex EntryLink();

    [GeneratedRegex("<a href=\"([^\"]*after=[^\"]*)\" rel=\"next\">")]
    private static partial Regex NextPage();

    [GeneratedRegex(@"last ([\d,]+) appends, from the sequencer's queue to the answer \(commit and proof included\): p50 ([\d.]+) ms, p99 ([\d.]+) ms")]
    private static partial Regex LatencyLine();
}
