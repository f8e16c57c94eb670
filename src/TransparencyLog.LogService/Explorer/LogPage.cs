using System.Globalization;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// One log: its signed tree head and who signed it, its growth over time, a consistency check between two sizes on
/// request, the verifier key, and its newest entries (paged).
/// </summary>
internal static class LogPage
{
    private const int LatestPageSize = 20;

    public static async Task<IResult> RenderAsync(
        string log, string? range, string? first, string? second, string? before,
        LogRegistry registry, LogHeads heads, ExplorerStore store, ProofService proofs, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ExplorerEndpoints.FindLog(registry, log) is not { } instance)
        {
            return ExplorerEndpoints.Problem(registry, StatusCodes.Status404NotFound, "No such log", "This service has no log by that name; see the navigation for the logs it serves.");
        }

        range ??= "48h";
        if (!GrowthChart.Ranges.ContainsKey(range))
        {
            return ExplorerEndpoints.Problem(registry, StatusCodes.Status400BadRequest, "Unknown range", "The chart's range is 48h or 30d.");
        }

        long? beforeIndex = null;
        if (before is not null)
        {
            if (before.Length > 19 || !long.TryParse(before, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ExplorerEndpoints.Problem(registry, StatusCodes.Status400BadRequest, "Not an entry index", "The page position (before) is a non-negative integer.");
            }

            beforeIndex = parsed;
        }

        var head = await heads.GetAsync(instance.Id, fresh: true, cancellationToken);
        var slug = Layout.Slug(instance);
        var html = Layout.Begin(Layout.LogTitle(instance), registry, slug);
        WriteHead(html, instance, head, time.GetUtcNow());
        WriteCheckpoint(html, instance, head);
        if (instance.Kind == LogKind.RekorV1)
        {
            await WriteShardsAsync(html, registry, heads, cancellationToken);
        }

        html.Open("section", ("aria-labelledby", "growth-heading")).Element("h2", "Growth", ("id", "growth-heading"));
        html.Open("p", ("class", "switch"));
        foreach (var (key, (_, _, label)) in GrowthChart.Ranges)
        {
            html.Open("a", ("href", $"{Layout.Root}/logs/{slug}?range={key}"), ("aria-current", key == range ? "true" : null)).Text(label).Close("a").Text(" ");
        }

        html.Close("p");
        var boundaries = GrowthChart.BoundariesFor(range, time.GetUtcNow());
        var sizes = await store.SizesAtAsync(instance.Id, boundaries, cancellationToken);
        new GrowthChart(range, boundaries, sizes).Write(html);
        html.Close("section");

        await WriteConsistencyAsync(html, instance, head, first, second, store, proofs, cancellationToken);
        WriteKeys(html, instance);
        if (instance.Kind != LogKind.CertificateTransparency)
        {
            await WriteLatestAsync(html, instance, head, beforeIndex, store, cancellationToken);
        }

        return ExplorerEndpoints.Page(Layout.End(html));
    }

    private static void WriteHead(Html html, LogInstance log, TreeHead head, DateTimeOffset now)
    {
        html.Open("dl", ("class", "facts"))
            .Row("Name", log.Name, "mono")
            .Row("Checkpoint origin", log.Origin, "mono")
            .Row("Tree size", head.Size.ToString("N0", CultureInfo.InvariantCulture), "tree-size")
            .Row("Root hash", head.Root.ToString(), "mono");
        if (log.Kind == LogKind.RekorV1)
        {
            html.Row("Tree ID", log.TreeId.ToString(CultureInfo.InvariantCulture), "mono");
        }

        html.Row("Log ID (SHA-256 of the key)", log.Signer.LogIdHex, "mono")
            .Row("Checkpoint signed", $"{Layout.Time(head.SignedAt)} ({Age(now - head.SignedAt)} ago)")
            .Close("dl");
    }

    private static void WriteCheckpoint(Html html, LogInstance log, TreeHead head)
    {
        html.Open("section", ("aria-labelledby", "checkpoint-heading")).Element("h2", "Signed checkpoint", ("id", "checkpoint-heading"))
            .Element("pre", head.Checkpoint, ("class", "wrap checkpoint"));
        if (!SignedNote.TryParse(head.Checkpoint, out _, out var signatures))
        {
            html.Element("p", "The checkpoint is not a well-formed signed note.", ("class", "notice error")).Close("section");
            return;
        }

        var logVerifies = new NoteVerifier(log.VerifierKey).Verify(head.Checkpoint);
        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Checkpoint signatures"), ("tabindex", "0"))
            .Open("table").Open("thead").Open("tr")
            .Element("th", "Signer", ("scope", "col")).Element("th", "Key hint", ("scope", "col")).Element("th", "Role", ("scope", "col"))
            .Close("tr").Close("thead").Open("tbody");
        foreach (var signature in signatures)
        {
            var isLog = signature.Name == log.Name && signature.KeyId.AsSpan().SequenceEqual(log.CheckpointKeyId);
            var role = isLog
                ? logVerifies ? "this log: signature verified with its key" : "this log: signature does NOT verify"
                : "cosigner (witness keys are not configured here yet, so not verified)";
            html.Open("tr").Element("td", signature.Name, ("class", "mono")).Element("td", Convert.ToHexStringLower(signature.KeyId), ("class", "mono"))
                .Element("td", role, ("class", isLog ? (logVerifies ? "ok" : "bad") : null)).Close("tr");
        }

        html.Close("tbody").Close("table").Close("div").Close("section");
    }

    private static async Task WriteConsistencyAsync(
        Html html, LogInstance log, TreeHead head, string? first, string? second, ExplorerStore store, ProofService proofs, CancellationToken cancellationToken)
    {
        html.Open("section", ("aria-labelledby", "consistency-heading")).Element("h2", "Consistency between two sizes", ("id", "consistency-heading"));
        html.Open("form", ("method", "get"), ("action", $"{Layout.Root}/logs/{Layout.Slug(log)}"), ("class", "consistency"), ("aria-label", "Check consistency"))
            .Element("label", "Older size", ("for", "first"))
            .Void("input", ("type", "number"), ("id", "first"), ("name", "first"), ("min", "1"), ("max", head.Size.ToString(CultureInfo.InvariantCulture)), ("value", first), ("inputmode", "numeric"))
            .Element("label", "Newer size", ("for", "second"))
            .Void("input", ("type", "number"), ("id", "second"), ("name", "second"), ("min", "1"), ("max", head.Size.ToString(CultureInfo.InvariantCulture)), ("value", second ?? head.Size.ToString(CultureInfo.InvariantCulture)), ("inputmode", "numeric"))
            .Element("button", "Check", ("type", "submit"))
            .Close("form");
        if (first is not null || second is not null)
        {
            if (!TryParseSize(first, out var size1) || !TryParseSize(second, out var size2) || size1 < 1 || size1 > size2 || size2 > head.Size)
            {
                html.Element("p", $"Give two sizes with 1 ≤ older ≤ newer ≤ {head.Size} (the current tree size).", ("class", "notice error"), ("role", "alert"));
            }
            else
            {
                var proof = await proofs.ConsistencyAsync(log.Id, size1, size2, cancellationToken);
                var root1 = await proofs.RootAsync(log.Id, size1, cancellationToken);
                var root2 = size2 == head.Size ? head.Root : await proofs.RootAsync(log.Id, size2, cancellationToken);
                var problems = new List<string>();
                if (!ProofVerifier.VerifyConsistency(size1, size2, proof, root1, root2))
                {
                    problems.Add("the consistency proof does not verify between the two roots");
                }

                await CheckSignedRootAsync(log, size1, root1, head, store, problems, cancellationToken);
                await CheckSignedRootAsync(log, size2, root2, head, store, problems, cancellationToken);
                html.Open("div", ("class", problems.Count == 0 ? "verdict ok" : "verdict bad"), ("role", "status"), ("id", "consistency-verdict"));
                if (problems.Count == 0)
                {
                    html.Element("strong", "Consistent").Text($": the tree of size {size2} extends the tree of size {size1}, and both roots are the ones the log signed.");
                }
                else
                {
                    html.Element("strong", "Failed").Open("ul");
                    foreach (var problem in problems)
                    {
                        html.Element("li", problem);
                    }

                    html.Close("ul");
                }

                html.Close("div").Open("dl", ("class", "facts"))
                    .Row($"Root at {size1}", root1.ToString(), "mono")
                    .Row($"Root at {size2}", root2.ToString(), "mono")
                    .Close("dl")
                    .Open("ol", ("class", "mono"), ("aria-label", "Consistency proof hashes"));
                foreach (var hash in proof)
                {
                    html.Element("li", hash.ToString());
                }

                html.Close("ol");
            }
        }

        html.Close("section");
    }

    /// <summary>A root is trusted when the log signed it: the current checkpoint, or the checkpoint kept when the log first reached that size.</summary>
    private static async Task CheckSignedRootAsync(
        LogInstance log, long size, Hash root, TreeHead head, ExplorerStore store, List<string> problems, CancellationToken cancellationToken)
    {
        if (size == head.Size)
        {
            if (root != head.Root)
            {
                problems.Add($"the root at {size} is not the current checkpoint's root");
            }

            return;
        }

        if (await store.CheckpointAtAsync(log.Id, size, cancellationToken) is { } signed && signed.Root != root)
        {
            problems.Add($"the root at {size} computed from the tiles is not the root the log signed at that size on {Layout.Time(signed.SignedAt)}");
        }
    }

    private static void WriteKeys(Html html, LogInstance log)
    {
        html.Open("section", ("aria-labelledby", "key-heading")).Element("h2", "Verifier key", ("id", "key-heading"))
            .Element("p", "The C2SP verifier key checks this log's checkpoints with standard note tools (for example tlog log verify-consistency --vkey).")
            .Open("div", ("class", "copy-row"))
            .Element("label", "Verifier key", ("for", "vkey"), ("class", "visually-hidden"))
            .Void("input", ("type", "text"), ("id", "vkey"), ("readonly", ""), ("value", log.VerifierKey), ("class", "mono"))
            .Element("button", "Copy", ("type", "button"), ("data-copy", "vkey"), ("hidden", ""))
            .Close("div")
            .Open("details").Element("summary", "Public key (PEM)").Element("pre", log.Signer.PublicKeyPem, ("class", "wrap")).Close("details")
            .Close("section");
    }

    private static async Task WriteLatestAsync(Html html, LogInstance log, TreeHead head, long? before, ExplorerStore store, CancellationToken cancellationToken)
    {
        var upper = Math.Min(before ?? head.Size, head.Size);
        var entries = await store.LatestAsync(log.Id, upper, LatestPageSize, cancellationToken);
        html.Open("section", ("aria-labelledby", "latest-heading")).Element("h2", "Newest entries", ("id", "latest-heading"));
        if (entries.Count == 0)
        {
            html.Element("p", "No entries.", ("class", "notice")).Close("section");
            return;
        }

        html.Open("ul", ("class", "latest"));
        foreach (var entry in entries)
        {
            html.Open("li").Link(Layout.EntryHref(log, entry.Index), $"#{Layout.ShownIndex(log, entry.Index)}").Text($" {entry.Kind} {entry.ApiVersion}, {Layout.UnixTime(entry.IntegratedTime)}").Close("li");
        }

        html.Close("ul").Open("nav", ("aria-label", "Entry pages"), ("class", "pager"));
        var slug = Layout.Slug(log);
        if (before is not null)
        {
            html.Link($"{Layout.Root}/logs/{slug}", "Newest");
        }

        if (entries[^1].Index > 0)
        {
            html.Link($"{Layout.Root}/logs/{slug}?before={entries[^1].Index}", "Older", ("rel", "next"));
        }

        html.Close("nav").Close("section");
    }

    /// <summary>
    /// Every Rekor v1 shard, oldest first, the active one last: tree ID, the global indices it holds, its size, when it
    /// was frozen, and its final (or latest) checkpoint. Entries are reached by global index across the boundaries.
    /// </summary>
    private static async Task WriteShardsAsync(Html html, LogRegistry registry, LogHeads heads, CancellationToken cancellationToken)
    {
        var shards = registry.RekorShards;
        html.Open("section", ("aria-labelledby", "shards-heading")).Element("h2", "Shards", ("id", "shards-heading"));
        if (shards.Count == 1)
        {
            html.Element("p", "One shard: this log has never been rotated.").Close("section");
            return;
        }

        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Shards"), ("tabindex", "0"))
            .Open("table", ("class", "shards")).Open("thead").Open("tr")
            .Element("th", "Tree ID", ("scope", "col")).Element("th", "Global indices", ("scope", "col")).Element("th", "Size", ("scope", "col"))
            .Element("th", "State", ("scope", "col")).Element("th", "Checkpoint", ("scope", "col"))
            .Close("tr").Close("thead").Open("tbody");
        foreach (var shard in shards)
        {
            var head = await heads.GetAsync(shard.Id, fresh: shard.FrozenAt is null, cancellationToken);
            var treeId = shard.TreeId.ToString(CultureInfo.InvariantCulture);
            var indices = head.Size == 0
                ? "none yet"
                : $"{shard.ShardStart.ToString(CultureInfo.InvariantCulture)} to {(shard.ShardStart + head.Size - 1).ToString(CultureInfo.InvariantCulture)}";
            html.Open("tr", ("class", "shard"))
                .Open("th", ("scope", "row")).Link($"{Layout.Root}/logs/{Layout.Slug(shard)}", treeId).Close("th")
                .Element("td", indices, ("class", "indices"))
                .Element("td", head.Size.ToString("N0", CultureInfo.InvariantCulture), ("class", "tree-size"))
                .Element("td", shard.FrozenAt is { } frozen ? "frozen " + Layout.Time(frozen) : "active")
                .Open("td").Element("pre", head.Checkpoint, ("class", "wrap checkpoint")).Close("td")
                .Close("tr");
        }

        html.Close("tbody").Close("table").Close("div").Close("section");
    }

    private static bool TryParseSize(string? text, out long size) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size) && text!.Length <= 19;

    public static string Age(TimeSpan age) => age.TotalSeconds < 90
        ? $"{Math.Max(0, (int)age.TotalSeconds)} s"
        : age.TotalMinutes < 90 ? $"{(int)age.TotalMinutes} min" : age.TotalHours < 48 ? $"{(int)age.TotalHours} h" : $"{(int)age.TotalDays} days";
}
