using System.Globalization;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Witnessing;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// The logs' health: sizes, how fresh each checkpoint is, recent growth and append rate (from storage, so every
/// process agrees), this process's recent append latencies, each log's witness cosigning status, and the latest alerts
/// of monitors that keep their state in this database.
/// </summary>
internal static class HealthPage
{
    public static async Task<IResult> RenderAsync(
        LogRegistry registry, LogHeads heads, ExplorerStore store, Sequencers sequencers, CheckpointWitnessing witnessing, MonitorAlerts alerts,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var html = Layout.Begin("Health", registry, "health");
        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Log health"), ("tabindex", "0"))
            .Open("table", ("class", "health")).Open("thead").Open("tr");
        foreach (var column in new[] { "Log", "Tree size", "Checkpoint signed", "Checkpoint age", "Status", "Appends/s, last 5 min", "Added last hour", "Added last 24 h" })
        {
            html.Element("th", column, ("scope", "col"));
        }

        html.Close("tr").Close("thead").Open("tbody");
        foreach (var log in registry.All.OrderBy(static l => l.Kind))
        {
            var head = await heads.GetAsync(log.Id, fresh: true, cancellationToken);
            var sizes = await store.SizesAtAsync(log.Id, [now - TimeSpan.FromDays(1), now - TimeSpan.FromHours(1), now - TimeSpan.FromMinutes(5)], cancellationToken);
            var age = now - head.SignedAt;
            // The refresher re-signs a quiet log every CheckpointRefreshSeconds: twice that without a new signature
            // means no process is keeping the log's checkpoint alive.
            var stale = age > TimeSpan.FromSeconds(2 * log.Options.CheckpointRefreshSeconds + 5);
            html.Open("tr")
                .Open("th", ("scope", "row")).Link($"{Layout.Root}/logs/{Layout.Slug(log)}", Layout.LogTitle(log)).Close("th")
                .Element("td", head.Size.ToString("N0", CultureInfo.InvariantCulture))
                .Element("td", Layout.Time(head.SignedAt))
                .Element("td", LogPage.Age(age))
                .Element("td", stale ? $"stale: not re-signed within {2 * log.Options.CheckpointRefreshSeconds} s" : "fresh", ("class", stale ? "bad" : "ok"))
                .Element("td", (Math.Max(0, head.Size - sizes[2]) / 300.0).ToString("N1", CultureInfo.InvariantCulture))
                .Element("td", Math.Max(0, head.Size - sizes[1]).ToString("N0", CultureInfo.InvariantCulture))
                .Element("td", Math.Max(0, head.Size - sizes[0]).ToString("N0", CultureInfo.InvariantCulture))
                .Close("tr");
        }

        html.Close("tbody").Close("table").Close("div");
        Latency(html, sequencers.Latencies);
        await WitnessesAsync(html, registry, heads, witnessing, cancellationToken);
        await alerts.RenderAsync(html, registry, cancellationToken);
        return ExplorerEndpoints.Page(Layout.End(html));
    }

    private static void Latency(Html html, AppendLatencies latencies)
    {
        html.Open("section", ("aria-labelledby", "latency-heading")).Element("h2", "Append latency", ("id", "latency-heading"));
        if (latencies.Percentiles() is { } p)
        {
            html.Element("p", string.Create(CultureInfo.InvariantCulture,
                $"This process's last {p.Count:N0} appends, from the sequencer's queue to the answer (commit and proof included): p50 {p.P50:F1} ms, p99 {p.P99:F1} ms."));
        }
        else
        {
            html.Element("p", "This process has not appended an entry since it started.");
        }

        html.Close("section");
    }

    private static async Task WitnessesAsync(Html html, LogRegistry registry, LogHeads heads, CheckpointWitnessing witnessing, CancellationToken cancellationToken)
    {
        html.Open("section", ("aria-labelledby", "witness-heading")).Element("h2", "Witnesses", ("id", "witness-heading"));
        if (!witnessing.Enabled)
        {
            html.Element("p", "Witnessing is not configured (Witnessing:PolicyFile): checkpoints are signed by the log alone.")
                .Close("section");
            return;
        }

        html.Element("p", witnessing.Mode == WitnessingMode.FailClosed
            ? "Fail-closed: appends are acknowledged only once the witness quorum cosigned their checkpoint."
            : "Fail-open: appends are acknowledged at once; cosignatures are collected in the background.");
        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Witness status"), ("tabindex", "0"))
            .Open("table", ("class", "health")).Open("thead").Open("tr");
        foreach (var column in new[] { "Log", "Latest cosigned size", "Behind the head", "Cosigned by", "Status" })
        {
            html.Element("th", column, ("scope", "col"));
        }

        html.Close("tr").Close("thead").Open("tbody");
        foreach (var log in registry.All.OrderBy(static l => l.Kind))
        {
            var head = await heads.GetAsync(log.Id, fresh: false, cancellationToken);
            var cosigned = await witnessing.LatestCosignedAsync(log.Id, cancellationToken);
            html.Open("tr").Element("th", Layout.LogTitle(log), ("scope", "row"));
            if (cosigned is { } found)
            {
                var behind = Math.Max(0, head.Size - found.Size);
                var cosigners = Cosigners(found.Note, log.Name);
                html.Element("td", found.Size.ToString("N0", CultureInfo.InvariantCulture))
                    .Element("td", behind.ToString("N0", CultureInfo.InvariantCulture))
                    .Element("td", cosigners.Count == 0 ? "—" : string.Join(", ", cosigners))
                    .Element("td", behind == 0 ? "current" : "behind", ("class", behind == 0 ? "ok" : "bad"));
            }
            else
            {
                html.Element("td", "—").Element("td", head.Size.ToString("N0", CultureInfo.InvariantCulture)).Element("td", "—")
                    .Element("td", "never cosigned", ("class", "bad"));
            }

            html.Close("tr");
        }

        html.Close("tbody").Close("table").Close("div").Close("section");
    }

    /// <summary>The key names of a signed note's signature lines (<c>— name signature</c>) other than the log's own.</summary>
    internal static IReadOnlyList<string> Cosigners(string note, string logName)
    {
        var blank = note.IndexOf("\n\n", StringComparison.Ordinal);
        if (blank < 0)
        {
            return [];
        }

        return [.. note[(blank + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(static line => line.StartsWith("\u2014 ", StringComparison.Ordinal))
            .Select(static line => line[2..].Split(' ')[0])
            .Where(name => !string.Equals(name, logName, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)];
    }
}
