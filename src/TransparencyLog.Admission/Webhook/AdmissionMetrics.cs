using Prometheus;

namespace TransparencyLog.Admission.Webhook;

/// <summary>The webhook's series (docs/admission.md lists them), labelled by endpoint and verdict.</summary>
internal static class AdmissionMetrics
{
    public static readonly Counter Reviews = Metrics.CreateCounter(
        "imagepolicy_reviews_total", "AdmissionReviews answered, by endpoint (validate, mutate) and verdict.", "endpoint", "verdict");

    public static readonly Histogram ReviewDuration = Metrics.CreateHistogram(
        "imagepolicy_review_duration_seconds", "Time to answer one AdmissionReview, by endpoint and verdict.",
        new HistogramConfiguration
        {
            LabelNames = ["endpoint", "verdict"],
            Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    public static readonly Counter MalformedReviews = Metrics.CreateCounter(
        "imagepolicy_malformed_reviews_total", "Requests refused with 400 or 413 (not an AdmissionReview, too large).");

    public static readonly Counter PolicyReloads = Metrics.CreateCounter(
        "imagepolicy_policy_reloads_total", "Policy directory loads, by result (loaded, refused).", "result");

    public static readonly Gauge CacheEntries = Metrics.CreateGauge("imagepolicy_cache_entries", "Policy outcomes cached.");
}
