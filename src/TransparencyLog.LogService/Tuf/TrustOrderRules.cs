using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.LogService.Tuf;

/// <summary>
/// The rotation ordering rules of docs/trust-root.md that a publish can check from the files alone (R1 trust before
/// use, R3 close never delete, R4 order). Each refusal is <see cref="TufError.BadTarget"/> with the rule named in the
/// message, so a key holder learns which step of the runbook was skipped.
/// </summary>
internal static class TrustOrderRules
{
    /// <summary>R4: trusted-root entries are appended, so each list is sorted by <c>validFor.start</c>, oldest first.</summary>
    public static void RequireTrustedRootOrder(TrustedRoot root)
    {
        RequireAscending(root.Tlogs.Select(static l => (l.BaseUrl, l.PublicKey.ValidFor.Start)), "tlogs");
        RequireAscending(root.Ctlogs.Select(static l => (l.BaseUrl, l.PublicKey.ValidFor.Start)), "ctlogs");
        RequireAscending(root.CertificateAuthorities.Select(static a => (a.Uri ?? "a certificate authority", a.ValidFor.Start)), "certificateAuthorities");
        RequireAscending(root.TimestampAuthorities.Select(static a => (a.Uri ?? "a timestamp authority", a.ValidFor.Start)), "timestampAuthorities");
    }

    /// <summary>R4: signing-config entries are prepended, so each list is sorted by <c>validFor.start</c>, newest first.</summary>
    public static void RequireSigningConfigOrder(SigningConfig config)
    {
        foreach (var (name, services) in Lists(config))
        {
            for (var i = 1; i < services.Count; i++)
            {
                if (Start(services[i]) > Start(services[i - 1]))
                {
                    throw new TufException(
                        TufError.BadTarget,
                        $"signing_config.v0.2.json: {name} must list the newest service first (R4: prepend new entries); {services[i].Url} starts after {services[i - 1].Url}");
                }
            }
        }
    }

    /// <summary>
    /// R3: a service new in this version that replaces an older one of the same operator and API version closes it:
    /// the older entry's <c>end</c> is at or before the new <c>start</c>, so no client has two of them to choose from.
    /// </summary>
    public static void RequireReplacedServicesClosed(SigningConfig config, IReadOnlySet<(string Url, int Version)> known)
    {
        foreach (var (name, services) in Lists(config))
        {
            foreach (var added in services.Where(s => !known.Contains((s.Url, s.MajorApiVersion))))
            {
                var start = Start(added);
                foreach (var older in services.Where(o => !ReferenceEquals(o, added) && o.MajorApiVersion == added.MajorApiVersion
                    && string.Equals(o.Operator ?? o.Url, added.Operator ?? added.Url, StringComparison.Ordinal) && Start(o) < start))
                {
                    if (older.ValidFor.End is not { } end || end > start)
                    {
                        throw new TufException(
                            TufError.BadTarget,
                            $"signing_config.v0.2.json: {name}: {added.Url} replaces {older.Url} (same operator, API v{added.MajorApiVersion}) from " +
                            $"{TufMetadata.FormatExpires(start)}; end {older.Url}'s validFor at or before that moment (R3: close the old entry)");
                    }
                }
            }
        }
    }

    /// <summary>
    /// R1: a transparency log new in the signing config is already trusted: the trusted root has a log at the same host
    /// whose <c>validFor.start</c> is at or before the moment signers may start using it.
    /// </summary>
    public static void RequireNewLogsTrusted(SigningConfig config, TrustedRoot root, IReadOnlySet<(string Url, int Version)> known)
    {
        foreach (var log in config.RekorTlogUrls.Where(s => !known.Contains((s.Url, s.MajorApiVersion))))
        {
            var host = Authority(log.Url);
            var start = Start(log);
            if (!root.Tlogs.Any(t => string.Equals(Authority(t.BaseUrl), host, StringComparison.OrdinalIgnoreCase) && (t.PublicKey.ValidFor.Start ?? DateTimeOffset.MaxValue) <= start))
            {
                throw new TufException(
                    TufError.BadTarget,
                    $"signing_config.v0.2.json: the log {log.Url} starts {TufMetadata.FormatExpires(start)}, but trusted_root.json has no log at {host} " +
                    "valid from then (R1: publish the log in the trusted root before signers use it)");
            }
        }
    }

    private static void RequireAscending(IEnumerable<(string What, DateTimeOffset? Start)> entries, string list)
    {
        (string What, DateTimeOffset Start)? previous = null;
        foreach (var (what, start) in entries)
        {
            var at = start ?? DateTimeOffset.MinValue;
            if (previous is { } p && at < p.Start)
            {
                throw new TufException(
                    TufError.BadTarget,
                    $"trusted_root.json: {list} must be sorted by validFor.start, oldest first (R4: append new entries); {what} starts before {p.What}");
            }

            previous = (what, at);
        }
    }

    private static IEnumerable<(string Name, IReadOnlyList<ServiceEndpoint> Services)> Lists(SigningConfig config) =>
    [
        ("caUrls", config.CaUrls),
        ("oidcUrls", config.OidcUrls),
        ("rekorTlogUrls", config.RekorTlogUrls),
        ("tsaUrls", config.TsaUrls),
    ];

    private static DateTimeOffset Start(ServiceEndpoint service) => service.ValidFor.Start ?? DateTimeOffset.MinValue;

    /// <summary><c>host[:port]</c> of a URL or of a scheme-less base URL (trusted roots may omit the scheme).</summary>
    private static string Authority(string url)
    {
        var withScheme = url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) ? uri.Authority : url;
    }
}
