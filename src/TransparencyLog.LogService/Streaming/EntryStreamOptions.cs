using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Streaming;

/// <summary>Limits of <c>GET /api/v1/log/stream</c> (section <c>EntryStream</c>).</summary>
internal sealed class EntryStreamOptions
{
    public const string Section = "EntryStream";

    /// <summary>Concurrent streams; one more is answered 503 with Retry-After.</summary>
    [Range(1, 100_000)]
    public int MaxSubscribers { get; set; } = 256;

    /// <summary>How often the log's head is looked at while anyone is subscribed (milliseconds).</summary>
    [Range(5, 10_000)]
    public int PollMilliseconds { get; set; } = 25;

    /// <summary>Entries read from storage per query while a subscriber catches up.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 256;

    /// <summary>An idle stream gets an SSE comment this often, so proxies and clients see it is alive (seconds).</summary>
    [Range(1, 3600)]
    public int HeartbeatSeconds { get; set; } = 15;
}
