using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Prometheus;
using TransparencyLog.CaService.Errors;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// The CA's Prometheus series (docs/operations.md lists them all). <c>fulcio_new_certs</c> and
/// <c>fulcio_api_latency</c> are Fulcio's names; the rest are ours, prefixed <c>tlog_</c>.
/// </summary>
internal static class CaMetrics
{
    public static readonly Counter NewCertificates = Metrics.CreateCounter(
        "fulcio_new_certs", "Certificates issued.");

    public static readonly Counter Certificates = Metrics.CreateCounter(
        "tlog_certificates_total", "Signing-certificate requests by issuer type and outcome (issued, or the error code).", "issuer_type", "outcome");

    public static readonly Counter TokenVerificationFailures = Metrics.CreateCounter(
        "tlog_token_verification_failures_total", "Identity tokens refused, by reason (the CA error code, or missing).", "reason");

    public static readonly Counter IssuerReloads = Metrics.CreateCounter(
        "tlog_ca_issuer_reloads_total", "Re-reads of changed issuer files, by outcome (reloaded, or failed: the last good issuers stay).", "outcome");

    public static readonly Gauge TrustedIssuers = Metrics.CreateGauge(
        "tlog_ca_trusted_issuers", "OIDC issuers (exact and wildcard entries) the CA trusts now.");

    public static readonly Histogram CtSubmissionDuration = Metrics.CreateHistogram(
        "tlog_ct_submission_duration_seconds", "Time to obtain an SCT from the CT log, by endpoint and outcome.",
        new HistogramConfiguration { LabelNames = ["endpoint", "outcome"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 13) });

    public static readonly Histogram ApiLatency = Metrics.CreateHistogram(
        "fulcio_api_latency", "Request latency in seconds by response code (the gRPC status on gRPC) and method (route).",
        new HistogramConfiguration { LabelNames = ["code", "method"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 13) });

    /// <summary>The label of an error code: <c>InvalidIdentityToken</c> becomes <c>invalid_identity_token</c>.</summary>
    public static string Label(CaErrorCode code) => JsonNamingPolicy.SnakeCaseLower.ConvertName(code.ToString());

    /// <summary>Times an SCT request to the CT log under <paramref name="endpoint"/>.</summary>
    public static async Task<T> TimeCtSubmissionAsync<T>(string endpoint, Task<T> submission)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "failed";
        try
        {
            var result = await submission;
            outcome = "ok";
            return result;
        }
        finally
        {
            CtSubmissionDuration.WithLabels(endpoint, outcome).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>Observes <c>fulcio_api_latency</c> for every request to a Fulcio route (REST or gRPC).</summary>
    public static IApplicationBuilder UseFulcioApiMetrics(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route } && IsFulcioRoute(route))
            {
                ApiLatency.WithLabels(StatusOf(context), route).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
    });

    private static bool IsFulcioRoute(string route) =>
        route.StartsWith("/api/", StringComparison.Ordinal) || route.StartsWith("/dev.sigstore.fulcio.", StringComparison.Ordinal);

    /// <summary>The gRPC status (trailer, or header of a trailers-only answer) on gRPC, else the HTTP status.</summary>
    private static string StatusOf(HttpContext context)
    {
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        if (trailers is not null && trailers.TryGetValue("grpc-status", out var fromTrailer) && fromTrailer.Count > 0)
        {
            return fromTrailer.ToString();
        }

        return context.Response.Headers.TryGetValue("grpc-status", out var fromHeader) && fromHeader.Count > 0
            ? fromHeader.ToString()
            : context.Response.StatusCode.ToString(CultureInfo.InvariantCulture);
    }
}
