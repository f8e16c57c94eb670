using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;
using Prometheus;

namespace TransparencyLog.Hosting;

/// <summary>
/// What every TransparencyLog host shares, from one place: Serilog logging and request logs, Prometheus metrics at
/// <c>/metrics</c>, liveness at <c>/healthz</c>, readiness at <c>/readyz</c> and the OpenAPI document at
/// <c>/openapi/v1.json</c>.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>Health checks with this tag decide <c>/readyz</c> (and the CA's gRPC health service).</summary>
    public const string ReadyTag = "ready";

    private static readonly HashSet<string> PerRequestMeters = new(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Routing",
    };

    /// <summary>The Prometheus text exposition format, version 0.0.4.</summary>
    private const string PrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// Logging, health checks (add readiness checks to the returned builder with <see cref="ReadyTag"/>), and the
    /// OpenAPI document titled <paramref name="title"/>.
    /// </summary>
    public static IHealthChecksBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string title, string description)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceLogging();
        // prometheus-net republishes every .NET meter, ASP.NET Core's per-request hosting and routing instruments
        // too: measurements on every request, each a label lookup in the adapter (with Kestrel's, 8 % of the log
        // service's CPU per proof read in a profile), for series that repeat http_request_duration_seconds and
        // http_requests_in_progress. Kestrel's (per connection: active, queued and rejected connections), the
        // runtime's, Npgsql's and the other meters stay.
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = instrument => !PerRequestMeters.Contains(instrument.Meter.Name));
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = title, Description = description, Version = "v1" };
                return Task.CompletedTask;
            });
            ApiDescriptions.Configure(options);
        });
        return builder.Services.AddHealthChecks();
    }

    /// <summary>
    /// Request logging and HTTP metrics for every request, then the operational endpoints. Call it first after
    /// <c>Build()</c>, so the request log and the metrics see every request. Returns the group of the operational
    /// endpoints, for a host to add conventions (the CA answers them on its REST port only).
    /// </summary>
    public static RouteGroupBuilder MapServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseServiceRequestLogging();
        // Routing runs first (WebApplication adds it), so each request is counted under its route pattern. No
        // exemplars: /metrics writes the text format (0.0.4), which has none, so the trace-id exemplar the middleware
        // records on every request by default is never published (1.2 % of the CA's CPU in a profile).
        app.UseHttpMetrics(options => options.ConfigureMeasurements(measurement => measurement.ExemplarPredicate = _ => false));

        var operational = app.MapGroup("").WithTags("operations");
        operational.MapGet(OperationalEndpoints.Health, () => TypedResults.Text("ok"))
            .WithName("healthz")
            .WithSummary("Liveness")
            .WithDescription("`ok` while the process serves requests; checks nothing else (see /readyz).");
        operational.MapGet(OperationalEndpoints.Ready, ReadyAsync)
            .WithName("readyz")
            .WithSummary("Readiness")
            .WithDescription("200 when every dependency the service needs answers (PostgreSQL, loaded keys, the CT log for the CA); 503 with the failing checks otherwise.")
            .Produces<ReadinessReport>(StatusCodes.Status503ServiceUnavailable);
        operational.MapGet(OperationalEndpoints.Metrics, (Func<HttpContext, Task>)ExportMetricsAsync)
            .WithName("metrics")
            .WithSummary("Prometheus metrics")
            .WithDescription("Every series in the Prometheus text exposition format; docs/operations.md lists them.")
            .Produces<string>(StatusCodes.Status200OK, PrometheusTextContentType);
        operational.MapOpenApi();
        return operational;
    }

    /// <summary>Runs the checks tagged <see cref="ReadyTag"/>; each check's description, never exception text, is reported.</summary>
    private static async Task<Results<Ok<ReadinessReport>, JsonHttpResult<ReadinessReport>>> ReadyAsync(
        HealthCheckService health, HttpContext context, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        var body = new ReadinessReport(
            report.Status.ToString(),
            report.Entries.ToDictionary(entry => entry.Key, entry => new ReadinessCheck(entry.Value.Status.ToString(), entry.Value.Description)));
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Ok(body)
            : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task ExportMetricsAsync(HttpContext context)
    {
        context.Response.ContentType = PrometheusTextContentType;
        context.Response.Headers.CacheControl = "no-store";
        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>The body of <c>/readyz</c>: overall status and each check's status and description.</summary>
    public sealed record ReadinessReport(string Status, IReadOnlyDictionary<string, ReadinessCheck> Checks);

    /// <summary>One check in a <see cref="ReadinessReport"/>.</summary>
    public sealed record ReadinessCheck(string Status, string? Description);
}

/// <summary>The paths every host serves for operators.</summary>
public static class OperationalEndpoints
{
    public const string Health = "/healthz";
    public const string Ready = "/readyz";
    public const string Metrics = "/metrics";
    public const string OpenApi = "/openapi/v1.json";

    /// <summary>Whether <paramref name="path"/> is one of the operational endpoints (probed often, logged quietly).</summary>
    public static bool IsOperational(PathString path) =>
        path == Health || path == Ready || path == Metrics || path == OpenApi;
}
