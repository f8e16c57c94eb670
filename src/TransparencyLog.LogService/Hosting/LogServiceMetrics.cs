using System.Collections.Concurrent;
using Prometheus;
using TransparencyLog.LogService.Logs;

namespace TransparencyLog.LogService.Hosting;

/// <summary>
/// The log service's Prometheus series (docs/operations.md lists them all). Names follow Rekor's where Rekor has one
/// (<c>rekor_new_entries</c>, <c>rekor_qps_by_api</c>, <c>rekor_api_latency</c>); the rest are ours, prefixed
/// <c>tlog_</c>. The <c>log</c> label is the log's name (its checkpoint origin), so Rekor v1, v2 and the CT log are
/// told apart.
/// </summary>
internal static class LogServiceMetrics
{
    private static readonly ConcurrentDictionary<int, string> _logNames = new();

    // The request series by route pattern, method and status, each looked up once (finite: routes and methods are
    // fixed sets, statuses are the service's own).
    private static readonly ConcurrentDictionary<(string Path, string Method, int Code), (Counter.Child Requests, Histogram.Child Latency)> _apiSeries = new();

    public static readonly Counter StandbyReads = Metrics.CreateCounter(
        "tlog_standby_reads_total", "Reads sent to the PostgreSQL hot standby, by who answered (standby, or primary_fallback when it had not replayed them yet).", "source");

    public static readonly Histogram EntryLookupBatchSize = Metrics.CreateHistogram(
        "tlog_entry_lookup_batch_size", "Entries looked up by index in one statement for inclusion-proof reads (more than 1: reads that arrived while other lookups were in flight, coalesced).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 7) });

    public static readonly Counter EntryTileReads = Metrics.CreateCounter(
        "tlog_entry_tile_reads_total", "Entry lookups for inclusion-proof reads that read part of the entry's level-0 tile with it: the whole tile (its summary not held, or not full yet), or only the entry's group of 16 leaves.", "part");

    public static readonly Gauge TileSummaryWarmupRunning = Metrics.CreateGauge(
        "tlog_tile_summary_warmup_running", "1 while the start-up pass computes the summaries of the stored full level-0 tiles (Storage:TileSummaryWarmup), else 0.");

    public static readonly Counter NewEntries = Metrics.CreateCounter(
        "rekor_new_entries", "Entries durably appended to a log.", "log");

    public static readonly Counter Duplicates = Metrics.CreateCounter(
        "tlog_duplicate_entries_total", "Submissions of an entry already in the log (nothing written; answered with the existing entry).", "log");

    public static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "tlog_sequencer_batch_size", "Submissions committed together in one sequencer transaction.",
        new HistogramConfiguration { LabelNames = ["log"], Buckets = Histogram.ExponentialBuckets(1, 2, 11) });

    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "tlog_sequencer_queue_depth", "Submissions waiting for the sequencer (503 when Sequencer:MaxPending is reached).", "log");

    public static readonly Histogram QueueWait = Metrics.CreateHistogram(
        "tlog_sequencer_wait_seconds", "Time a submission waited in the sequencer queue before its batch started to commit.",
        new HistogramConfiguration { LabelNames = ["log"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static readonly Histogram CommitDuration = Metrics.CreateHistogram(
        "tlog_commit_duration_seconds", "Time to commit one batch: lock the head, write entries, tiles and the signed checkpoint, fsync.",
        new HistogramConfiguration { LabelNames = ["log"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static readonly Gauge TreeSize = Metrics.CreateGauge(
        "tlog_tree_size", "Size of the latest signed tree head this process has seen.", "log");

    public static readonly Counter ProofsServed = Metrics.CreateCounter(
        "tlog_proofs_served_total", "Inclusion and consistency proofs returned to clients.", "log", "kind");

    public static readonly Counter Timestamps = Metrics.CreateCounter(
        "tlog_timestamps_total", "RFC 3161 timestamp requests: issued, or rejected with a 4xx.", "outcome");

    public static readonly Counter QpsByApi = Metrics.CreateCounter(
        "rekor_qps_by_api", "Requests by route, method and response code.", "path", "method", "code");

    public static readonly Histogram ApiLatency = Metrics.CreateHistogram(
        "rekor_api_latency", "Request latency in seconds by route and response code.",
        new HistogramConfiguration { LabelNames = ["path", "code"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 13) });

    /// <summary>Remembers a log's name for the series labelled by log, and publishes its current size.</summary>
    public static void Register(LogInstance log, long treeSize)
    {
        _logNames[log.Id] = log.Name;
        TreeSize.WithLabels(log.Name).Set(treeSize);
    }

    /// <summary>The <c>log</c> label of a log id (the id itself for a log this process never opened).</summary>
    public static string LogLabel(int logId) =>
        _logNames.TryGetValue(logId, out var name) ? name : logId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Counts every request under its route pattern (<c>rekor_qps_by_api</c>, <c>rekor_api_latency</c>).</summary>
    public static IApplicationBuilder UseRekorApiMetrics(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // Unmatched paths share one label: a route pattern, never the raw path, so clients cannot add series.
            var path = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route } ? route : "unmatched";
            var method = HttpMethods.IsGet(context.Request.Method) ? HttpMethods.Get
                : HttpMethods.IsPost(context.Request.Method) ? HttpMethods.Post
                : HttpMethods.IsHead(context.Request.Method) ? HttpMethods.Head
                : "other";
            var (requests, latency) = _apiSeries.GetOrAdd((path, method, context.Response.StatusCode), static key =>
            {
                var code = key.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return (QpsByApi.WithLabels(key.Path, key.Method, code), ApiLatency.WithLabels(key.Path, code));
            });
            requests.Inc();
            latency.Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    });
}
