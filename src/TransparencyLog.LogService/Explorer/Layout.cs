using TransparencyLog.LogService.Logs;

namespace TransparencyLog.LogService.Explorer;

/// <summary>The frame every explorer page shares: head, navigation, main landmark.</summary>
internal static class Layout
{
    public const string Root = "/explorer";

    /// <summary>Starts a page; the caller writes the contents of <c>main</c> and calls <see cref="End"/>.</summary>
    public static Html Begin(string title, LogRegistry registry, string current)
    {
        var html = new Html().Doctype();
        html.Open("html", ("lang", "en")).Open("head")
            .Void("meta", ("charset", "utf-8"))
            .Void("meta", ("name", "viewport"), ("content", "width=device-width, initial-scale=1"))
            .Void("meta", ("name", "color-scheme"), ("content", "light dark"))
            .Element("title", title + " · Transparency log explorer")
            .Void("link", ("rel", "stylesheet"), ("href", $"{Root}/assets/explorer.css"))
            .Void("link", ("rel", "icon"), ("href", $"{Root}/assets/favicon.svg"), ("type", "image/svg+xml"))
            .Open("script", ("src", $"{Root}/assets/explorer.js"), ("defer", "")).Close("script")
            .Close("head");
        html.Open("body")
            .Link("#main", "Skip to content", ("class", "skip"))
            .Open("header")
            .Link(Root, "Transparency log explorer", ("class", "brand"))
            .Open("nav", ("aria-label", "Explorer"))
            .Open("ul");
        NavItem(html, Root, "Search", current == "search");
        // Frozen Rekor v1 shards are not here: the Rekor v1 log's page lists them.
        foreach (var log in registry.All.OrderBy(static l => l.Kind).ThenBy(static l => Slug(l), StringComparer.Ordinal))
        {
            var slug = Slug(log);
            NavItem(html, $"{Root}/logs/{slug}", LogTitle(log), current == slug);
        }

        NavItem(html, $"{Root}/health", "Health", current == "health");
        html.Close("ul").Close("nav").Close("header");
        return html.Open("main", ("id", "main")).Element("h1", title);
    }

    public static string End(Html html) =>
        html.Close("main")
            .Open("footer").Text("Read-only view of this service's logs. Every verdict on these pages was computed by the server from stored data when the page was rendered.").Close("footer")
            .Close("body").Close("html").ToString();

    public static string LogTitle(LogKind kind) => kind switch
    {
        LogKind.RekorV1 => "Rekor v1 log",
        LogKind.RekorV2 => "Rekor v2 log",
        LogKind.CertificateTransparency => "CT log",
        _ => kind.ToString(),
    };

    /// <summary>A log's name in explorer URLs: its kind, or for a Rekor v2 period log and a frozen Rekor v1 shard, which one.</summary>
    public static string Slug(LogInstance log) => log switch
    {
        { PeriodPath: { } path } => "rekor-v2-" + path,
        { Kind: LogKind.RekorV1, FrozenAt: not null } => "rekor-v1-shard-" + log.TreeId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => LogInstance.KindName(log.Kind),
    };

    public static string LogTitle(LogInstance log) => log switch
    {
        { PeriodPath: { } path } => $"Rekor v2 log {path}" + (log.Options.ReadOnly ? " (frozen)" : ""),
        { Kind: LogKind.RekorV1, FrozenAt: not null } => $"Rekor v1 shard {log.TreeId.ToString(System.Globalization.CultureInfo.InvariantCulture)} (frozen)",
        _ => LogTitle(log.Kind),
    };

    /// <summary>The index people and clients know an entry by: global across Rekor v1 shards, else its index in its log.</summary>
    public static long ShownIndex(LogInstance log, long index) => log.Kind == LogKind.RekorV1 ? log.ShardStart + index : index;

    /// <summary>An entry's page. Rekor v1 entries of every shard are addressed by global index under <c>rekor-v1</c>.</summary>
    public static string EntryHref(LogInstance log, long index) => log.Kind == LogKind.RekorV1
        ? $"{Root}/entries/rekor-v1/{ShownIndex(log, index)}"
        : $"{Root}/entries/{Slug(log)}/{index}";

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    public static string UnixTime(long seconds) => seconds > 0 ? Time(DateTimeOffset.FromUnixTimeSeconds(seconds)) : "—";

    private static void NavItem(Html html, string href, string text, bool current)
    {
        html.Open("li").Open("a", ("href", href), ("aria-current", current ? "page" : null)).Text(text).Close("a").Close("li");
    }
}
