using Prometheus;

namespace TransparencyLog.LogService.Witnessing;

/// <summary>The log's witnessing series (docs/witness.md lists them).</summary>
internal static class WitnessingMetrics
{
    public static readonly Histogram CosignatureLatency = Metrics.CreateHistogram(
        "tlog_witness_cosignature_seconds", "Time from sending a checkpoint to a witness to receiving its verified cosignature.",
        new HistogramConfiguration { LabelNames = ["witness"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });

    public static readonly Counter Failures = Metrics.CreateCounter(
        "tlog_witness_failures_total", "Witness requests that gave no cosignature, by witness and reason (timeout, unreachable, status, bad_cosignature, ahead).", "witness", "reason");

    public static readonly Counter Conflicts = Metrics.CreateCounter(
        "tlog_witness_conflicts_total", "409 answers: the witness had another size, and the log retried with a proof from it.", "witness");

    public static readonly Histogram QuorumWait = Metrics.CreateHistogram(
        "tlog_witness_quorum_wait_seconds", "Time a new checkpoint waited for its witness quorum, by log and result (met, unmet).",
        new HistogramConfiguration { LabelNames = ["log", "result"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
}
