using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.Tuf;

/// <summary>
/// Chooses services from a signing config as sigstore-go does: among the API versions tlog speaks (CA and TSA 1,
/// Rekor 1 and 2), highest first, the services whose <c>validFor</c> holds now (a future start hides an entry until
/// then), the newest start first. Rekor and TSA honour the selector over the newest service per operator: ANY is the
/// newest one, ALL is every one, EXACT(n) is n of them chosen at random (sigstore-go's choice, which spreads load), an
/// error when fewer than n are valid. The signer then records the signature in every chosen log and asks every chosen
/// TSA, and the bundle carries all of the entries and timestamps.
/// </summary>
internal static class SigningServiceSelection
{
    public static ServiceEndpoint? One(IReadOnlyList<ServiceEndpoint> services, IReadOnlyList<int> versions, DateTimeOffset now) =>
        Candidates(services, versions, now).FirstOrDefault();

    /// <exception cref="CliException">The selector is not ANY, ALL or EXACT, or EXACT asks for more services than are valid now.</exception>
    public static IReadOnlyList<ServiceEndpoint> Selected(IReadOnlyList<ServiceEndpoint> services, ServiceSelector selector, IReadOnlyList<int> versions, DateTimeOffset now, string what) =>
        Selected(services, selector, versions, now, what, Random.Shared);

    /// <inheritdoc cref="Selected(IReadOnlyList{ServiceEndpoint}, ServiceSelector, IReadOnlyList{int}, DateTimeOffset, string)"/>
    public static IReadOnlyList<ServiceEndpoint> Selected(
        IReadOnlyList<ServiceEndpoint> services, ServiceSelector selector, IReadOnlyList<int> versions, DateTimeOffset now, string what, Random random)
    {
        // Newest entry per operator, as sigstore-go groups them.
        var candidates = Candidates(services, versions, now).GroupBy(static s => s.Operator ?? s.Url).Select(static g => g.First()).ToList();
        if (candidates.Count == 0)
        {
            return [];
        }

        return selector.Selector switch
        {
            "ANY" => [candidates[0]],
            "ALL" => candidates,
            "EXACT" when selector.Count > 0 && selector.Count <= candidates.Count =>
                [.. candidates.OrderBy(_ => random.Next()).Take(selector.Count).OrderBy(candidates.IndexOf)],
            "EXACT" => throw new CliException(ExitCodes.Error, $"the signing config asks for exactly {selector.Count} {what}(s); {candidates.Count} are valid now"),
            _ => throw new CliException(ExitCodes.Error, $"the signing config's {what} selector '{selector.Selector}' is not ANY, ALL or EXACT"),
        };
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
