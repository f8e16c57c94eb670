using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace TransparencyLog.CaService.Identity;

/// <summary>A configured issuer after validation: its type parsed, its pattern compiled, its static keys loaded.</summary>
internal sealed record TrustedIssuer(
    IssuerOptions Options,
    IssuerType Type,
    Regex? Pattern,
    IReadOnlyList<string> ConfiguredAlgorithms,
    JsonWebKeySet? StaticKeys);

/// <summary>
/// The allow-list of issuers (Fulcio's issuer pool): an exact <c>iss</c> match first, then anchored wildcard
/// patterns in configuration order.
/// </summary>
internal sealed class IssuerPool
{
    /// <summary>What one <c>*</c> of a wildcard issuer matches: one segment, never <c>/ ? # @ . :</c>.</summary>
    public const string WildcardSegment = "[-_a-zA-Z0-9]+";

    /// <summary>Asymmetric JWS algorithms Microsoft.IdentityModel verifies; <c>none</c> and HS* are never here.</summary>
    public static readonly IReadOnlySet<string> SupportedAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    };

    private readonly Dictionary<string, TrustedIssuer> _exact = new(StringComparer.Ordinal);
    private readonly List<TrustedIssuer> _wildcards = [];

    public IssuerPool(IOptions<IdentityOptions> options)
    {
        var (issuers, errors) = Load(options.Value);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(IdentityOptions.SectionName, typeof(IdentityOptions), errors);
        }

        foreach (var issuer in issuers)
        {
            if (issuer.Pattern is null)
            {
                _exact[issuer.Options.IssuerUrl ?? ""] = issuer;
            }
            else
            {
                _wildcards.Add(issuer);
            }
        }

        All = issuers;
    }

    public IReadOnlyList<TrustedIssuer> All { get; }

    public TrustedIssuer? Match(string iss)
    {
        if (_exact.TryGetValue(iss, out var exact))
        {
            return exact;
        }

        foreach (var wildcard in _wildcards)
        {
            if (wildcard.Pattern?.IsMatch(iss) == true)
            {
                return wildcard;
            }
        }

        return null;
    }

    /// <summary>Builds the anchored regular expression of a wildcard issuer URL.</summary>
    public static Regex CompileWildcard(string pattern)
    {
        // \A and \z, not ^ and $: "$" also matches before a trailing newline.
        var body = string.Join(WildcardSegment, pattern.Split('*').Select(Regex.Escape));
        return new Regex(@"\A" + body + @"\z", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Reads <see cref="IdentityOptions.IssuersFile"/> and validates every issuer; returns all errors at once.</summary>
    public static (List<TrustedIssuer> Issuers, List<string> Errors) Load(IdentityOptions options)
    {
        var errors = new List<string>();
        var configured = new List<IssuerOptions>(options.Issuers);
        if (!string.IsNullOrWhiteSpace(options.IssuersFile))
        {
            try
            {
                var file = JsonSerializer.Deserialize<IssuersFile>(File.ReadAllText(options.IssuersFile), IssuersFile.JsonOptions);
                // A relative JwksFile in an issuer file is relative to that file, so the two can travel together.
                var directory = Path.GetDirectoryName(Path.GetFullPath(options.IssuersFile)) ?? "";
                foreach (var issuer in file?.Issuers ?? [])
                {
                    if (issuer.JwksFile is { } jwks && !Path.IsPathRooted(jwks))
                    {
                        issuer.JwksFile = Path.Combine(directory, jwks);
                    }

                    configured.Add(issuer);
                }
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                errors.Add($"Identity:IssuersFile '{options.IssuersFile}' could not be read: {e.Message}");
            }
        }

        if (configured.Count == 0)
        {
            errors.Add("Identity:Issuers is empty: configure at least one trusted OIDC issuer");
        }

        var issuers = new List<TrustedIssuer>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var issuer in configured)
        {
            var before = errors.Count;
            var trusted = Validate(issuer, errors);
            if (trusted is not null && !seen.Add(issuer.Name))
            {
                errors.Add($"issuer '{issuer.Name}' is configured twice");
            }

            if (trusted is not null && errors.Count == before)
            {
                issuers.Add(trusted);
            }
        }

        return (issuers, errors);
    }

    private static TrustedIssuer? Validate(IssuerOptions issuer, List<string> errors)
    {
        var name = issuer.Name;
        if ((issuer.IssuerUrl is null) == (issuer.WildcardIssuerUrl is null))
        {
            errors.Add($"issuer '{name}': set exactly one of IssuerUrl and WildcardIssuerUrl");
            return null;
        }

        // A wildcard is validated as a URL with each "*" replaced by a plausible segment.
        var url = issuer.IssuerUrl ?? issuer.WildcardIssuerUrl?.Replace("*", "0", StringComparison.Ordinal) ?? "";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add($"issuer '{name}': the issuer URL must be an absolute https URL without query, fragment or user info");
            return null;
        }

        if (uri.Scheme == "http" && !IsLoopback(uri))
        {
            errors.Add($"issuer '{name}': plain http is accepted only for loopback issuers (development)");
        }

        if (issuer.WildcardIssuerUrl is not null && issuer.WildcardIssuerUrl.AsSpan(0, uri.Scheme.Length + 3).Contains('*'))
        {
            errors.Add($"issuer '{name}': a wildcard may not appear in the URL scheme");
        }

        if (string.IsNullOrWhiteSpace(issuer.Audience))
        {
            errors.Add($"issuer '{name}': Audience must not be empty");
        }

        if (!IssuerTypeNames.TryParse(issuer.Type, out var type))
        {
            errors.Add($"issuer '{name}': Type '{issuer.Type}' is not one of email, github-workflow, gitlab-pipeline, "
                + "buildkite-job, kubernetes, spiffe, uri, username, ci-provider");
            return null;
        }

        foreach (var alg in issuer.AllowedAlgorithms)
        {
            if (!SupportedAlgorithms.Contains(alg))
            {
                errors.Add($"issuer '{name}': algorithm '{alg}' is not accepted (allowed: {string.Join(", ", SupportedAlgorithms)})");
            }
        }

        ValidateType(issuer, type, uri, errors);
        var keys = issuer.JwksFile is null ? null : LoadJwks(issuer, errors);
        var pattern = issuer.WildcardIssuerUrl is null ? null : CompileWildcard(issuer.WildcardIssuerUrl);
        return new TrustedIssuer(issuer, type, pattern, [.. issuer.AllowedAlgorithms], keys);
    }

    private static void ValidateType(IssuerOptions issuer, IssuerType type, Uri issuerUri, List<string> errors)
    {
        var name = issuer.Name;
        switch (type)
        {
            case IssuerType.Spiffe when string.IsNullOrWhiteSpace(issuer.SpiffeTrustDomain):
                errors.Add($"issuer '{name}': spiffe issuers need SpiffeTrustDomain");
                break;
            case IssuerType.Uri:
                if (!Uri.TryCreate(issuer.SubjectDomain, UriKind.Absolute, out var domain) || domain.Scheme.Length == 0)
                {
                    errors.Add($"issuer '{name}': uri issuers need SubjectDomain with a scheme (https://example.com)");
                }
                else if (!SameRegistrableDomain(domain.Host, issuerUri.Host))
                {
                    errors.Add($"issuer '{name}': SubjectDomain '{issuer.SubjectDomain}' is not in the issuer's domain");
                }

                break;
            case IssuerType.Username:
                if (string.IsNullOrWhiteSpace(issuer.SubjectDomain) || issuer.SubjectDomain.Contains("://", StringComparison.Ordinal))
                {
                    errors.Add($"issuer '{name}': username issuers need SubjectDomain without a scheme (example.com)");
                }
                else if (!SameRegistrableDomain(issuer.SubjectDomain, issuerUri.Host))
                {
                    errors.Add($"issuer '{name}': SubjectDomain '{issuer.SubjectDomain}' is not in the issuer's domain");
                }

                break;
            case IssuerType.CiProvider when string.IsNullOrWhiteSpace(issuer.CiProvider?.SubjectAlternativeNameTemplate):
                errors.Add($"issuer '{name}': ci-provider issuers need CiProvider.SubjectAlternativeNameTemplate");
                break;
            case IssuerType.CiProvider:
                foreach (var key in issuer.CiProvider?.ExtensionTemplates.Keys ?? Enumerable.Empty<string>())
                {
                    if (FulcioExtensions.Resolve(key) is null)
                    {
                        errors.Add($"issuer '{name}': extension '{key}' is not a Fulcio extension name or OID 1.3.6.1.4.1.57264.1.2-23");
                    }
                }

                break;
        }
    }

    private static JsonWebKeySet? LoadJwks(IssuerOptions issuer, List<string> errors)
    {
        try
        {
            var set = new JsonWebKeySet(File.ReadAllText(issuer.JwksFile ?? ""));
            if (!set.Keys.Any(key => key.Kty is "RSA" or "EC"))
            {
                errors.Add($"issuer '{issuer.Name}': JwksFile '{issuer.JwksFile}' holds no RSA or EC key");
            }

            return set;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            errors.Add($"issuer '{issuer.Name}': JwksFile '{issuer.JwksFile}' could not be read: {e.Message}");
            return null;
        }
    }

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>
    /// Fulcio requires uri/username subject domains to share the issuer's eTLD+1. Without a public suffix list this
    /// approximates it by the last two labels, which is stricter or equal for every name under a one-label suffix.
    /// </summary>
    internal static bool SameRegistrableDomain(string a, string b)
    {
        static string LastTwo(string host)
        {
            var labels = host.TrimEnd('.').ToLowerInvariant().Split('.');
            return labels.Length <= 2 || IPAddress.TryParse(host, out _) ? host.ToLowerInvariant() : string.Join('.', labels[^2..]);
        }

        return LastTwo(a) == LastTwo(b);
    }

    private sealed class IssuersFile
    {
        public static readonly JsonSerializerOptions JsonOptions = new()
        {
            PropertyNameCaseInsensitive = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        };

        public List<IssuerOptions> Issuers { get; init; } = [];
    }
}
