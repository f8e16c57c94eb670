using System.Reflection;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// The log explorer: server-rendered, read-only HTML pages under <c>/explorer</c> (search, entry, log, health) for
/// people who would rather look than read JSON. GET only; a strict Content-Security-Policy (scripts and styles only
/// from this service's own assets, nothing inline); excluded from the OpenAPI description.
/// </summary>
internal static class ExplorerEndpoints
{
    /// <summary>Scripts and styles from this service only, no inline code, no framing, forms submit only here.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'";

    private static readonly Dictionary<string, (string Resource, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["explorer.css"] = ("TransparencyLog.LogService.Explorer.Assets.explorer.css", "text/css; charset=utf-8"),
        ["explorer.js"] = ("TransparencyLog.LogService.Explorer.Assets.explorer.js", "text/javascript; charset=utf-8"),
        ["favicon.svg"] = ("TransparencyLog.LogService.Explorer.Assets.favicon.svg", "image/svg+xml"),
    };

    public static IHostApplicationBuilder AddExplorer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ExplorerStore>();
        MonitorAlerts.AddTo(builder);
        return builder;
    }

    public static IEndpointRouteBuilder MapExplorer(this IEndpointRouteBuilder app)
    {
        var explorer = app.MapGroup(Layout.Root).ExcludeFromDescription();
        explorer.AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            return await next(context);
        });

        // PostgreSQL unreachable (at start-up or later): a 503 page in the explorer's frame with Retry-After, not a 500.
        var registry = app.ServiceProvider.GetRequiredService<LogRegistry>();
        explorer.AnswerStorageOutage((status, message) => Problem(registry, status, "Temporarily unavailable", message));
        explorer.MapGet("/", SearchPage.RenderAsync);
        explorer.MapGet("/search", SearchPage.RenderAsync);
        explorer.MapGet("/entries/{log}/{index}", EntryPage.RenderAsync);
        explorer.MapGet("/entries/{log}/{index}/entry.json", EntryPage.EntryJsonAsync);
        explorer.MapGet("/entries/{log}/{index}/bundle.json", EntryPage.BundleJsonAsync);
        explorer.MapGet("/logs/{log}", LogPage.RenderAsync);
        explorer.MapGet("/health", HealthPage.RenderAsync);
        explorer.MapGet("/assets/{name}", GetAsset);
        return app;
    }

    /// <summary>A page as a response: HTML with the status the page chose.</summary>
    public static IResult Page(string html, int status = StatusCodes.Status200OK) =>
        TypedResults.Content(html, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);

    /// <summary>
    /// Resolves a log by its explorer name (<c>rekor-v1</c>, <c>rekor-v2</c>, <c>ct</c>, <c>rekor-v2-PATH</c>,
    /// <c>rekor-v1-shard-TREEID</c>) among the logs served here, frozen Rekor v1 shards included.
    /// </summary>
    public static LogInstance? FindLog(LogRegistry registry, string slug) =>
        registry.All.Concat(registry.FrozenRekorShards.Select(static s => s.Log)).FirstOrDefault(l => Layout.Slug(l) == slug);

    /// <summary>A page saying what was not found or not understood, in the explorer's frame.</summary>
    public static IResult Problem(LogRegistry registry, int status, string title, string message)
    {
        var html = Layout.Begin(title, registry, "");
        html.Element("p", message, ("class", "notice"));
        return Page(Layout.End(html), status);
    }

    private static IResult GetAsset(string name, HttpContext context)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return TypedResults.NotFound();
        }

        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(asset.Resource)
            ?? throw new InvalidOperationException($"missing embedded asset {asset.Resource}");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Bytes(buffer.ToArray(), asset.ContentType);
    }
}
