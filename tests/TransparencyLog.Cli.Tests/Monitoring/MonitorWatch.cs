using System.Text.Json;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>
/// What the <c>tlog monitor</c> tests share (imported with <c>using static</c>): the watched identity (alice@example.com
/// issued for https://issuer.example), its rekor-monitor configuration from index 0, and the events read back from stdout.
/// </summary>
internal static class MonitorWatch
{
    public const string Alice = "alice@example.com";
    public const string Issuer = "https://issuer.example";

    public const string AliceConfig = """
        startIndex: 0
        monitoredValues:
          certIdentities:
            - certSubject: alice@example\.com
              issuers:
                - https://issuer\.example
        """;

    /// <summary>The monitor's JSON lines, one event each.</summary>
    public static List<JsonElement> Events(string stdout) =>
        [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => JsonDocument.Parse(l).RootElement.Clone())];

    /// <summary>The log index of each event, in the order printed.</summary>
    public static List<long> Indexes(string stdout) => [.. Events(stdout).Select(static e => e.GetProperty("logIndex").GetInt64())];
}
