using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Integrity;

/// <summary>The storage check the service runs at start-up and on a schedule. Section <c>Integrity</c>.</summary>
internal sealed class IntegrityOptions
{
    public const string Section = "Integrity";

    /// <summary>How many of each log's latest entries (rounded to whole tiles) the bounded check re-derives.</summary>
    [Range(0, long.MaxValue)]
    public long CheckEntries { get; set; } = 65_536;

    /// <summary>How many of each log's latest stored checkpoints the bounded check verifies.</summary>
    [Range(0, 1_000_000)]
    public int CheckCheckpoints { get; set; } = 100;

    /// <summary>Seconds between scheduled checks; 0 checks only at start-up.</summary>
    [Range(0, 7 * 86_400)]
    public int IntervalSeconds { get; set; } = 3600;
}
