using System.Text.RegularExpressions;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// Section <c>Logs:RekorV2Periods</c>: the Rekor v2 logs of successive periods that one service hosts next to each
/// other (trust-lifecycle "Rekor v2: one log per period"). Each child's key is the path segment the log is served
/// under, <c>/{path}/api/v2/...</c>, so that a client given the base URL <c>http://HOST:PORT/{path}</c> (signing
/// config <c>url</c>, trusted root <c>baseUrl</c>) reaches it by appending <c>/api/v2/...</c>, as sigstore-js does. Its
/// value is a <see cref="LogOptions"/> (own name, key, tree); <c>ReadOnly</c> freezes the periods that are over.
/// </summary>
internal static partial class RekorV2PeriodConfiguration
{
    public const string Section = "Logs:RekorV2Periods";

    /// <summary>First path segments the service already serves; a period named like one would shadow it.</summary>
    private static readonly HashSet<string> s_reserved = new(StringComparer.Ordinal)
    {
        "api", "checkpoint", "tile", "shards", "ct", "tuf", "explorer", "healthz", "readyz", "metrics", "openapi",
    };

    /// <summary>The configured period paths, checked: a bad one stops start-up with the reason.</summary>
    public static IReadOnlyList<string> Paths(IConfiguration configuration)
    {
        var paths = new List<string>();
        foreach (var child in configuration.GetSection(Section).GetChildren())
        {
            if (!PathPattern().IsMatch(child.Key) || s_reserved.Contains(child.Key))
            {
                throw new InvalidOperationException(
                    $"{Section}:{child.Key}: a period log's path is 1-32 lower-case letters, digits and '-' (starting with a letter or digit), " +
                    $"and not one of the service's own path segments ({string.Join(", ", s_reserved.Order(StringComparer.Ordinal))})");
            }

            paths.Add(child.Key);
        }

        return paths;
    }

    /// <summary>The name of a period log's <see cref="LogOptions"/> instance.</summary>
    public static string OptionsName(string path) => "RekorV2Period:" + path;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();
}
