using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.Tuf;

/// <summary>
/// Chooses services from a signing config as sigstore-go does: among the API versions tlog speaks (CA and TSA 1,
/// Rekor 1 and 2), highest first, the services whose <c>validFor</c> holds now (a future start hides an entry until
/// then), the newest start first. Rekor and TSA honour the ANY/EXACT/ALL selector; tlog records each signature in one
/// log and asks one TSA, so ALL or EXACT of more than one candidate is refused rather than silently narrowed.
/// </summary>
internal static class SigningServiceSelection
{
    public static ServiceEndpoint? One(IReadOnlyList<ServiceEndpoint> services, IReadOnlyList<int> versions, DateTimeOffset now) =>
        Candidates(services, versions, now).FirstOrDefault();

    /// <exception cref="CliException">The selector asks for more services than tlog uses, or for more than exist.</exception>
    public static ServiceEndpoint? Selected(IReadOnlyList<ServiceEndpoint> services, ServiceSelector selector, IReadOnlyList<int> versions, DateTimeOffset now, string what)
    {
        // Newest entry per operator, as sigstore-go groups them.
        var candidates = Candidates(services, versions, now).GroupBy(static s => s.Operator ?? s.Url).Select(static g => g.First()).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var wanted = selector.Selector switch
        {
            "ANY" => 1,
            "ALL" => candidates.Count,
            "EXACT" when selector.Count > 0 && selector.Count <= candidates.Count => selector.Count,
            "EXACT" => throw new CliException(ExitCodes.Error, $"the signing config asks for exactly {selector.Count} {what}(s); {candidates.Count} are valid now"),
            _ => throw new CliException(ExitCodes.Error, $"the signing config's {what} selector '{selector.Selector}' is not ANY, ALL or EXACT"),
        };
        return wanted == 1
            ? candidates[0]
            : throw new CliException(ExitCodes.Error, $"the signing config asks for {wanted} {what}s; tlog uses one (pass --{what}-url to choose)");
    }

    private static IEnumerable<ServiceEndpoint> Candidates(IReadOnlyList<ServiceEndpoint> services, IReadOnlyList<int> versions, DateTimeOffset now)
    {
        foreach (var version in versions.OrderDescending())
        {
            var valid = services.Where(s => s.MajorApiVersion == version && s.ValidFor.Contains(now))
                .OrderByDescending(static s => s.ValidFor.Start ?? DateTimeOffset.MinValue)
                .ToList();
            if (valid.Count > 0)
            {
                return valid;
            }
        }

        return [];
    }
}
