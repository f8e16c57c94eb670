using System.Globalization;
using TransparencyLog.LogService.Logs;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// What can be said about the logs' health from storage alone: sizes, how fresh each checkpoint is, and recent
/// growth. Append latency, witness status and monitor alerts come with the metrics and witness work.
/// </summary>
internal static class HealthPage
{
    public static async Task<IResult> RenderAsync(LogRegistry registry, LogHeads heads, ExplorerStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var html = Layout.Begin("Health", registry, "health");
        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Log health"), ("tabindex", "0"))
            .Open("table", ("class", "health")).Open("thead").Open("tr");
        foreach (var column in new[] { "Log", "Tree size", "Checkpoint signed", "Checkpoint age", "Status", "Added last hour", "Added last 24 h" })
        {
            html.Element("th", column, ("scope", "col"));
        }

        html.Close("tr").Close("thead").Open("tbody");
        foreach (var log in registry.All.OrderBy(static l => l.Kind))
        {
            var head = await heads.GetAsync(log.Id, fresh: true, cancellationToken);
            var sizes = await store.SizesAtAsync(log.Id, [now - TimeSpan.FromDays(1), now - TimeSpan.FromHours(1)], cancellationToken);
            var age = now - head.SignedAt;
            // The refresher re-signs a quiet log every CheckpointRefreshSeconds: twice that without a new signature
            // means no process is keeping the log's checkpoint alive.
            var stale = age > TimeSpan.FromSeconds(2 * log.Options.CheckpointRefreshSeconds + 5);
            html.Open("tr")
                .Open("th", ("scope", "row")).Link($"{Layout.Root}/logs/{LogInstance.KindName(log.Kind)}", Layout.LogTitle(log.Kind)).Close("th")
                .Element("td", head.Size.ToString("N0", CultureInfo.InvariantCulture))
                .Element("td", Layout.Time(head.SignedAt))
                .Element("td", LogPage.Age(age))
                .Element("td", stale ? $"stale: not re-signed within {2 * log.Options.CheckpointRefreshSeconds} s" : "fresh", ("class", stale ? "bad" : "ok"))
                .Element("td", Math.Max(0, head.Size - sizes[1]).ToString("N0", CultureInfo.InvariantCulture))
                .Element("td", Math.Max(0, head.Size - sizes[0]).ToString("N0", CultureInfo.InvariantCulture))
                .Close("tr");
        }

        html.Close("tbody").Close("table").Close("div");
        html.Open("section", ("aria-labelledby", "pending-heading")).Element("h2", "Not shown yet", ("id", "pending-heading"))
            .Element("p", "Append rate and latency percentiles, witness cosigning status and monitor alerts will appear here once the service exports metrics and witnesses are configured; until then this page shows only what storage records.")
            .Close("section");
        return ExplorerEndpoints.Page(Layout.End(html));
    }
}
