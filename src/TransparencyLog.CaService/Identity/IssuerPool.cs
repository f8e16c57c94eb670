using System.Net;
using System.Security.Cryptography;
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

/// <summary>What reading the issuer configuration found: the issuers (when <see cref="Errors"/> is empty) and a
/// fingerprint of the content of every file read, so a re-read can tell whether anything changed.</summary>
internal sealed record IssuerConfiguration(List<TrustedIssuer> Issuers, List<string> Errors, string Fingerprint);

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

    /// <summary>An issuer file larger than this is refused before it is parsed.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>At most this many <c>*.json</c> files are read from the issuers directory.</summary>
    public const int MaxDirectoryFiles = 1000;

    // One immutable view, swapped whole on reload: a request matches against either the old or the new set, never a mix.
    private volatile Snapshot _current;

    public IssuerPool(IOptions<IdentityOptions> options)
    {
        var loaded = Read(options.Value);
        if (loaded.Errors.Count > 0)
        {
            throw new OptionsValidationException(IdentityOptions.SectionName, typeof(IdentityOptions), loaded.Errors);
        }

        _current = new Snapshot(loaded.Issuers);
        Fingerprint = loaded.Fingerprint;
    }

    /// <summary>The fingerprint of the files the issuers in force were read from (see <see cref="Read"/>).</summary>
    public string Fingerprint { get; private set; }

    /// <summary>The issuers trusted now, in configuration order.</summary>
    public IReadOnlyList<TrustedIssuer> All => _current.All;

    public TrustedIssuer? Match(string iss) => _current.Match(iss);

    /// <summary>Replaces the trusted issuers (a reload that validated); requests in flight keep the set they matched.</summary>
    public void Replace(IssuerConfiguration configuration)
    {
        _current = new Snapshot(configuration.Issuers);
        Fingerprint = configuration.Fingerprint;
    }

    private sealed class Snapshot
    {
        private readonly Dictionary<string, TrustedIssuer> _exact = new(StringComparer.Ordinal);
        private readonly List<TrustedIssuer> _wildcards = [];

        public Snapshot(IReadOnlyList<TrustedIssuer> issuers)
        {
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
    }

    /// <summary>Builds the anchored regular expression of a wildcard issuer URL.</summary>
    public static Regex CompileWildcard(string pattern)
    {
        // \A and \z, not ^ and $: "$" also matches before a trailing newline.
        var body = string.Join(WildcardSegment, pattern.Split('*').Select(Regex.Escape));
        return new Regex(@"\A" + body + @"\z", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>
    /// The files an issuer configuration is read from: <see cref="IdentityOptions.IssuersFile"/> and every
    /// <c>*.json</c> of <see cref="IdentityOptions.IssuersDirectory"/> (not hidden ones, in ordinal name order).
    /// </summary>
    private static List<string> SourceFiles(IdentityOptions options, List<string> errors)
    {
        var files = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.IssuersFile))
        {
            files.Add(options.IssuersFile);
        }

        if (!string.IsNullOrWhiteSpace(options.IssuersDirectory))
        {
            try
            {
                // Hidden entries are skipped: editors' swap files, and the ..data links of a Kubernetes ConfigMap mount.
                var found = Directory.EnumerateFiles(options.IssuersDirectory, "*.json", SearchOption.TopDirectoryOnly)
                    .Where(path => !Path.GetFileName(path).StartsWith('.'))
                    .Take(MaxDirectoryFiles + 1)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count > MaxDirectoryFiles)
                {
                    errors.Add($"Identity:IssuersDirectory '{options.IssuersDirectory}' holds more than {MaxDirectoryFiles} issuer files");
                }
                else
                {
                    files.AddRange(found);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"Identity:IssuersDirectory '{options.IssuersDirectory}' could not be read: {e.Message}");
            }
        }

        return files;
    }

    /// <summary>
    /// Reads <see cref="IdentityOptions.IssuersFile"/> and the issuers directory and validates every issuer; returns
    /// all errors at once, each naming the file it comes from.
    /// </summary>
    public static (List<TrustedIssuer> Issuers, List<string> Errors) Load(IdentityOptions options)
    {
        var loaded = Read(options);
        return (loaded.Issuers, loaded.Errors);
    }

    /// <summary><see cref="Load"/>, with a fingerprint of every file it read (issuer files and JWKS files).</summary>
    public static IssuerConfiguration Read(IdentityOptions options)
    {
        var errors = new List<string>();
        using var files = new FileFingerprint();
        var configured = new List<IssuerOptions>(options.Issuers);
        foreach (var path in SourceFiles(options, errors))
        {
            configured.AddRange(ReadIssuerFile(path, files, errors));
        }

        // With a directory, issuers may arrive later (a file dropped in at run time); without one, no issuer is a mistake.
        if (configured.Count == 0 && string.IsNullOrWhiteSpace(options.IssuersDirectory))
        {
            errors.Add("Identity:Issuers is empty: configure at least one trusted OIDC issuer");
        }

        var issuers = new List<TrustedIssuer>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var issuer in configured)
        {
            var before = errors.Count;
            var trusted = Validate(issuer, files, errors);
            if (trusted is not null && !seen.Add(issuer.Name))
            {
                errors.Add($"issuer '{issuer.Name}' is configured twice");
            }

            for (var i = before; issuer.Source is not null && i < errors.Count; i++)
            {
                errors[i] = $"issuer file '{issuer.Source}': {errors[i]}";
            }

            if (trusted is not null && errors.Count == before)
            {
                issuers.Add(trusted);
            }
        }

        return new IssuerConfiguration(issuers, errors, files.Complete());
    }

    /// <summary>One <c>{"issuers": [...]}</c> file; a relative <c>jwksFile</c> is relative to it, so the two travel together.</summary>
    private static List<IssuerOptions> ReadIssuerFile(string path, FileFingerprint files, List<string> errors)
    {
        try
        {
            var bytes = files.Read(path);
            if (bytes is null)
            {
                errors.Add($"issuer file '{path}' is larger than {MaxFileBytes} bytes");
                return [];
            }

            var file = JsonSerializer.Deserialize<IssuersFile>(bytes, IssuersFile.JsonOptions);
            var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "";
            var issuers = new List<IssuerOptions>();
            foreach (var issuer in file?.Issuers ?? [])
            {
                if (issuer is null)
                {
                    errors.Add($"issuer file '{path}': an entry of \"issuers\" is null");
                    continue;
                }

                if (issuer.JwksFile is { } jwks && !Path.IsPathRooted(jwks))
                {
                    issuer.JwksFile = Path.Combine(directory, jwks);
                }

                issuer.Source = path;
                issuers.Add(issuer);
            }

            return issuers;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            errors.Add($"issuer file '{path}' could not be read: {e.Message}");
            return [];
        }
    }

    private static TrustedIssuer? Validate(IssuerOptions issuer, FileFingerprint files, List<string> errors)
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
        var keys = issuer.JwksFile is null ? null : LoadJwks(issuer, files, errors);
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

    private static JsonWebKeySet? LoadJwks(IssuerOptions issuer, FileFingerprint files, List<string> errors)
    {
        try
        {
            if (files.Read(issuer.JwksFile ?? "") is not { } bytes)
            {
                errors.Add($"issuer '{issuer.Name}': JwksFile '{issuer.JwksFile}' is larger than {MaxFileBytes} bytes");
                return null;
            }

            var set = new JsonWebKeySet(System.Text.Encoding.UTF8.GetString(bytes));
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

    /// <summary>Reads files (bounded by <see cref="MaxFileBytes"/>) and hashes each path with its content.</summary>
    private sealed class FileFingerprint : IDisposable
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        /// <summary>The file's bytes, or null when it is larger than the limit; throws what reading throws.</summary>
        public byte[]? Read(string path)
        {
            _hash.AppendData(System.Text.Encoding.UTF8.GetBytes(path + "\n"));
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (stream.Length > MaxFileBytes)
                {
                    _hash.AppendData(BitConverter.GetBytes(stream.Length));
                    return null;
                }

                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var bytes = buffer.ToArray();
                _hash.AppendData(SHA256.HashData(bytes));
                return bytes;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A missing or unreadable file is part of what was seen: its reappearance is a change.
                _hash.AppendData(System.Text.Encoding.UTF8.GetBytes("unreadable\n"));
                throw;
            }
        }

        public string Complete() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public void Dispose() => _hash.Dispose();
    }

    private sealed class IssuersFile
    {
        public static readonly JsonSerializerOptions JsonOptions = new()
        {
            PropertyNameCaseInsensitive = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        };

        public List<IssuerOptions?> Issuers { get; init; } = [];
    }
}
