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
        foreach (var log in registry.All.OrderBy(static l => l.Kind))
        {
            var slug = LogInstance.KindName(log.Kind);
            NavItem(html, $"{Root}/logs/{slug}", LogTitle(log.Kind), current == slug);
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

    public static string EntryHref(LogInstance log, long index) => $"{Root}/entries/{LogInstance.KindName(log.Kind)}/{index}";

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    public static string UnixTime(long seconds) => seconds > 0 ? Time(DateTimeOffset.FromUnixTimeSeconds(seconds)) : "—";

    private static void NavItem(Html html, string href, string text, bool current)
    {
        html.Open("li").Open("a", ("href", href), ("aria-current", current ? "page" : null)).Text(text).Close("a").Close("li");
    }
}
