using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Witnessing;

/// <summary>Whether a checkpoint waits for its witness quorum before it is published and its appends acknowledged.</summary>
internal enum WitnessingMode
{
    /// <summary>Publish and acknowledge only once the quorum cosigned (Tessera's default).</summary>
    FailClosed,

    /// <summary>Publish and acknowledge at once; collect cosignatures in the background and serve them when they arrive.</summary>
    FailOpen,
}

/// <summary>Collecting witness cosignatures for the log's checkpoints. Section <c>Witnessing</c>; off without a policy file.</summary>
internal sealed class WitnessingOptions
{
    public const string Section = "Witnessing";

    /// <summary>A witness policy (<c>witness NAME VKEY URL</c>, <c>group</c>, <c>quorum</c>); every witness needs a URL.</summary>
    public string? PolicyFile { get; set; }

    public WitnessingMode Mode { get; set; } = WitnessingMode.FailClosed;

    /// <summary>How long one witness request may take (Tessera: 1 s).</summary>
    [Range(50, 60_000)]
    public int WitnessTimeoutMilliseconds { get; set; } = 1000;

    /// <summary>How long a checkpoint may wait for its quorum in total, retries included (Tessera: 5 s).</summary>
    [Range(50, 120_000)]
    public int BudgetMilliseconds { get; set; } = 5000;

    /// <summary>
    /// Fail-open only: the least time from the start of one cosigning round of a log to the start of the next. Appends
    /// do not wait for rounds there, so asking for every small batch's checkpoint only spends the witnesses' and the
    /// log's CPU (and a witness network's per-log daily quota): a round every interval asks for the newest checkpoint
    /// then, which covers every earlier one. 0 asks as soon as the previous round ends. Fail-closed rounds start at
    /// once (appends wait for them) and already coalesce, one in flight per log.
    /// </summary>
    [Range(0, 600_000)]
    public int FailOpenRoundIntervalMilliseconds { get; set; } = 1000;
}
