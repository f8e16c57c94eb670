using System.Globalization;
using System.Text;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// Search across the logs by signer identity, artifact digest, public key or certificate, log index or entry UUID.
/// Identity, digest and key searches are one walk of the search index's primary key per page (keyset paging,
/// newest first); index and UUID lookups are primary-key and leaf-hash lookups. Every search is a deep link.
/// </summary>
internal static class SearchPage
{
    public const int PageSize = 25;

    /// <summary>Longest query accepted: a pasted certificate chain fits, and so does Kestrel's request line.</summary>
    public const int MaxQueryLength = 6000;

    private static readonly string[] Types = ["auto", "identity", "hash", "key", "index", "uuid"];

    public static async Task<IResult> RenderAsync(
        string? q, string? type, string? after, LogRegistry registry, ExplorerStore store, CancellationToken cancellationToken)
    {
        q = q?.Trim() ?? "";
        type = string.IsNullOrEmpty(type) ? "auto" : type;
        var html = Layout.Begin("Search", registry, "search");
        WriteForms(html, q.Length <= 256 && !q.Contains('\n', StringComparison.Ordinal) ? q : "", type);
        if (q.Length == 0)
        {
            html.Element("p", "Search the Rekor v1 and v2 logs: an email address or other signer identity (a URI subject), an artifact's SHA-256 digest, a public key or certificate (PEM), a log index, or an entry UUID.");
            return ExplorerEndpoints.Page(Layout.End(html));
        }

        if (!Types.Contains(type, StringComparer.Ordinal))
        {
            return Fail(html, $"unknown search type; use one of {string.Join(", ", Types)}");
        }

        if (q.Length > MaxQueryLength)
        {
            return Fail(html, $"the query is longer than {MaxQueryLength} characters");
        }

        SearchCursor? cursor = null;
        if (after is not null)
        {
            if (!SearchCursor.TryParse(after, out var parsed))
            {
                return Fail(html, "the page position (after) is not valid");
            }

            cursor = parsed;
        }

        // Frozen Rekor v1 shards too: their entries stay findable by UUID, entry ID and index.
        var logs = registry.All.Concat(registry.FrozenRekorShards.Select(static s => s.Log)).ToList();
        var kind = type == "auto" ? Detect(q) : type;
        List<(LogInstance Log, ExplorerEntry Entry)> results = [];
        string? keyForPaging = null;
        string described;
        switch (kind)
        {
            case "index":
                if (!long.TryParse(q, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    return Fail(html, "a log index is a non-negative integer");
                }

                described = $"log index {index}";
                foreach (var log in logs.Where(static l => l.Kind != LogKind.RekorV1))
                {
                    if (await store.GetAsync(log.Id, index, cancellationToken) is { } entry)
                    {
                        results.Add((log, entry));
                    }
                }

                // Rekor v1: the index is global; the shard holding it answers.
                if (registry.TryGet(LogKind.RekorV1, out _) && registry.ShardOf(index) is { } shard
                    && await store.GetAsync(shard.Log.Id, shard.LocalIndex, cancellationToken) is { } v1Entry)
                {
                    results.Insert(0, (shard.Log, v1Entry));
                }

                break;

            case "uuid":
                if (!TryLeafHash(q, logs, out var leafHash, out var onlyLog))
                {
                    return Fail(html, "an entry UUID is 64 hex digits, or 80 with the Rekor v1 tree ID in front");
                }

                described = $"entry UUID {leafHash}";
                foreach (var log in logs.Where(l => onlyLog is null || l == onlyLog))
                {
                    if (await store.GetByLeafHashAsync(log.Id, leafHash, cancellationToken) is { } entry)
                    {
                        results.Add((log, entry));
                    }
                }

                break;

            case "hash-or-uuid":
                // 64 hex digits: an artifact's SHA-256 or an entry UUID. Both are index lookups; show both.
                described = $"artifact digest or entry UUID {q.ToLowerInvariant()}";
                keyForPaging = $"hash:sha256:{q.ToLowerInvariant()}";
                if (cursor is null)
                {
                    foreach (var log in logs)
                    {
                        if (await store.GetByLeafHashAsync(log.Id, Hash.FromHex(q), cancellationToken) is { } entry)
                        {
                            results.Add((log, entry));
                        }
                    }
                }

                break;

            case "hash":
                if (!SearchKeys.TryArtifactHash(q, out var hashKey))
                {
                    return Fail(html, "an artifact digest is sha256:<64 hex digits> (or sha384/sha512), or 64 bare hex digits");
                }

                described = $"artifact digest {hashKey["hash:".Length..]}";
                keyForPaging = hashKey;
                break;

            case "key":
                string keyKey;
                if (q.Length == 64 && q.All(char.IsAsciiHexDigit))
                {
                    keyKey = "key:" + q.ToLowerInvariant();
                }
                else if (!SearchKeys.TryPublicKey(Convert.ToBase64String(Encoding.UTF8.GetBytes(q)), out keyKey))
                {
                    return Fail(html, "paste a PEM public key or certificate, or give the SHA-256 of a key's SubjectPublicKeyInfo in hex");
                }

                described = $"public key with SPKI SHA-256 {keyKey["key:".Length..]}";
                keyForPaging = keyKey;
                q = keyKey["key:".Length..];
                type = "key";
                break;

            default:
                if (q.Length > 4096)
                {
                    return Fail(html, "an identity is at most 4096 characters");
                }

                described = $"identity {q}";
                keyForPaging = SearchKeys.Identity(q);
                kind = "identity";
                type = type == "auto" ? "auto" : "identity";
                break;
        }

        SearchCursor? next = null;
        if (keyForPaging is not null)
        {
            var page = await store.SearchAsync(keyForPaging, [.. logs.Select(static l => l.Id)], cursor, PageSize + 1, cancellationToken);
            if (page.Count > PageSize)
            {
                page.RemoveAt(PageSize);
                next = new SearchCursor(page[^1].LogId, page[^1].Index);
            }

            results.AddRange(page.Select(e => (logs.First(l => l.Id == e.LogId), e)));
        }

        html.Open("section", ("aria-labelledby", "results-heading"));
        html.Element("h2", $"Results for {described}", ("id", "results-heading"));
        var self = SearchHref(q, type, null);
        html.Open("p", ("class", "permalink")).Text("Link to this search: ").Link(self, "permalink").Close("p");
        if (results.Count == 0)
        {
            html.Element("p", cursor is null ? "No entries found." : "No more entries.", ("class", "notice"));
        }
        else
        {
            WriteResults(html, results);
        }

        html.Open("nav", ("aria-label", "Result pages"), ("class", "pager"));
        if (cursor is not null)
        {
            html.Link(self, "First page");
        }

        if (next is not null)
        {
            html.Link(SearchHref(q, type, next.ToString()), "Next page", ("rel", "next"));
        }

        html.Close("nav").Close("section");
        return ExplorerEndpoints.Page(Layout.End(html));
    }

    public static string SearchHref(string q, string type, string? after) =>
        $"{Layout.Root}/search?q={Uri.EscapeDataString(q)}&type={Uri.EscapeDataString(type)}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");

    /// <summary>What an unqualified query most likely is.</summary>
    internal static string Detect(string q)
    {
        if (q.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            return "key";
        }

        if (q.All(char.IsAsciiDigit))
        {
            return "index";
        }

        if (q.All(char.IsAsciiHexDigit))
        {
            return q.Length switch { 64 => "hash-or-uuid", 80 => "uuid", _ => "identity" };
        }

        return q.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) || q.StartsWith("sha384:", StringComparison.OrdinalIgnoreCase)
            || q.StartsWith("sha512:", StringComparison.OrdinalIgnoreCase)
            ? "hash"
            : "identity";
    }

    private static bool TryLeafHash(string q, List<LogInstance> logs, out Hash leafHash, out LogInstance? onlyLog)
    {
        onlyLog = null;
        leafHash = default;
        if (q.Length == 80)
        {
            // Rekor v1 entry IDs carry the tree ID in front: only that log can hold it.
            onlyLog = logs.FirstOrDefault(l => l.Kind == LogKind.RekorV1 && string.Equals(q[..16], l.TreeId.ToString("x16", CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase));
            q = q[16..];
            if (onlyLog is null)
            {
                return false;
            }
        }

        return q.Length == 64 && Hash.TryFromHex(q, out leafHash);
    }

    private static void WriteForms(Html html, string q, string type)
    {
        html.Open("form", ("method", "get"), ("action", $"{Layout.Root}/search"), ("class", "search"), ("role", "search"), ("aria-label", "Search the logs"))
            .Element("label", "Identity, digest, key fingerprint, log index or entry UUID", ("for", "q"))
            .Open("div", ("class", "search-row"))
            .Void("input", ("type", "search"), ("id", "q"), ("name", "q"), ("value", q), ("maxlength", "4096"), ("autocomplete", "off"), ("spellcheck", "false"))
            .Element("label", "Search as", ("for", "type"), ("class", "visually-hidden"))
            .Open("select", ("id", "type"), ("name", "type"));
        foreach (var (value, text) in new[] { ("auto", "detect"), ("identity", "identity (email or subject)"), ("hash", "artifact digest"), ("key", "key fingerprint"), ("index", "log index"), ("uuid", "entry UUID") })
        {
            html.Open("option", ("value", value), ("selected", value == type ? "" : null)).Text(text).Close("option");
        }

        html.Close("select")
            .Element("button", "Search", ("type", "submit"))
            .Close("div").Close("form");

        html.Open("details", ("class", "key-search"))
            .Element("summary", "Search by public key or certificate (paste or upload)")
            .Open("form", ("method", "get"), ("action", $"{Layout.Root}/search"), ("aria-label", "Search by public key or certificate"))
            .Void("input", ("type", "hidden"), ("name", "type"), ("value", "key"))
            .Element("label", "PEM public key or certificate", ("for", "pem"))
            .Open("textarea", ("id", "pem"), ("name", "q"), ("rows", "6"), ("maxlength", MaxQueryLength.ToString(CultureInfo.InvariantCulture)), ("spellcheck", "false")).Close("textarea")
            .Open("div", ("class", "upload"), ("hidden", ""))
            .Element("label", "or choose a PEM file", ("for", "pem-file"))
            .Void("input", ("type", "file"), ("id", "pem-file"), ("accept", ".pem,.crt,.cer,.pub,text/plain"), ("data-fills", "pem"))
            .Close("div")
            .Element("button", "Search by key", ("type", "submit"))
            .Close("form").Close("details");
    }

    private static void WriteResults(Html html, List<(LogInstance Log, ExplorerEntry Entry)> results)
    {
        html.Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Search results"), ("tabindex", "0"))
            .Open("table", ("class", "results"))
            .Open("thead").Open("tr");
        foreach (var column in new[] { "Entry", "Time (UTC)", "Identity", "Issuer", "Kind", "Log" })
        {
            html.Element("th", column, ("scope", "col"));
        }

        html.Close("tr").Close("thead").Open("tbody");
        foreach (var (log, entry) in results)
        {
            var decoded = DecodedEntry.Decode(entry.Body, entry.Kind, entry.ApiVersion);
            var certificate = decoded.Leaf is { } leaf ? CertificateDescription.Describe(leaf) : null;
            html.Open("tr")
                .Open("td").Link(Layout.EntryHref(log, entry.Index), $"#{Layout.ShownIndex(log, entry.Index)}").Close("td")
                .Element("td", Layout.UnixTime(entry.IntegratedTime))
                .Element("td", certificate?.Identity ?? (decoded.PublicKeyPem is not null ? "(public key)" : "—"), ("class", "identity"))
                .Element("td", certificate?.OidcIssuer ?? "—", ("class", "identity"))
                .Element("td", $"{entry.Kind} {entry.ApiVersion}")
                .Element("td", Layout.Slug(log))
                .Close("tr");
        }

        html.Close("tbody").Close("table").Close("div");
    }

    private static IResult Fail(Html html, string message)
    {
        html.Element("p", message, ("class", "notice error"), ("role", "alert"));
        return ExplorerEndpoints.Page(Layout.End(html), StatusCodes.Status400BadRequest);
    }
}
