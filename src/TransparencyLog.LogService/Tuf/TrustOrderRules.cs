using System.Diagnostics.CodeAnalysis;
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
    /// R1: a transparency log new in the signing config is already trusted: the trusted root has a log at the same base
    /// URL (scheme, host, port and path; see <see cref="SameBaseUrl"/>) whose <c>validFor.start</c> is at or before the
    /// moment signers may start using it. Two logs behind one host (<c>https://logs.example/2026</c> and
    /// <c>https://logs.example/2027</c>) are different logs.
    /// </summary>
    public static void RequireNewLogsTrusted(SigningConfig config, TrustedRoot root, IReadOnlySet<(string Url, int Version)> known)
    {
        foreach (var log in config.RekorTlogUrls.Where(s => !known.Contains((s.Url, s.MajorApiVersion))))
        {
            var start = Start(log);
            if (!root.Tlogs.Any(t => SameBaseUrl(t.BaseUrl, log.Url) && (t.PublicKey.ValidFor.Start ?? DateTimeOffset.MaxValue) <= start))
            {
                throw new TufException(
                    TufError.BadTarget,
                    $"signing_config.v0.2.json: the log {log.Url} starts {TufMetadata.FormatExpires(start)}, but trusted_root.json has no log at {log.Url} " +
                    "valid from then (R1: publish the log in the trusted root before signers use it)");
            }
        }
    }

    /// <summary>
    /// Whether a trusted-root <c>baseUrl</c> and a signing-config <c>url</c> name the same log: host compared without
    /// case, port (explicit or the scheme's default), path without its trailing slash, and the scheme when both carry
    /// one (a trusted root may write the base URL as the scheme-less checkpoint origin).
    /// </summary>
    internal static bool SameBaseUrl(string trustedRootUrl, string signingConfigUrl)
    {
        var schemeA = SchemeOf(trustedRootUrl);
        var schemeB = SchemeOf(signingConfigUrl);
        if (schemeA is not null && schemeB is not null && !string.Equals(schemeA, schemeB, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // A scheme-less base URL is read with the other side's scheme, so its default port is that scheme's.
        var scheme = schemeA ?? schemeB ?? "https";
        if (!TryParse(trustedRootUrl, scheme, out var a) || !TryParse(signingConfigUrl, scheme, out var b))
        {
            return string.Equals(trustedRootUrl.TrimEnd('/'), signingConfigUrl.TrimEnd('/'), StringComparison.Ordinal);
        }

        return string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
            && a.Port == b.Port
            && string.Equals(a.AbsolutePath.TrimEnd('/'), b.AbsolutePath.TrimEnd('/'), StringComparison.Ordinal);
    }

    private static string? SchemeOf(string url)
    {
        var separator = url.IndexOf("://", StringComparison.Ordinal);
        return separator > 0 ? url[..separator] : null;
    }

    private static bool TryParse(string url, string fallbackScheme, [NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : $"{fallbackScheme}://{url}", UriKind.Absolute, out uri) && uri.Host.Length > 0;

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
}
