using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using TransparencyLog.CaService.Errors;

namespace TransparencyLog.CaService.Identity;

/// <summary>What verifying a token of one concrete issuer needs: its keys and the algorithms it announces.</summary>
internal sealed record IssuerKeySet(IReadOnlyList<SecurityKey> Keys, IReadOnlyList<string> AnnouncedAlgorithms);

/// <summary>
/// Signing keys per concrete issuer URL: OIDC discovery and JWKS through a cached
/// <see cref="ConfigurationManager{T}"/> (one per issuer, refreshed on an unknown <c>kid</c>), or the static JWKS
/// file of an air-gapped issuer.
/// </summary>
internal sealed class IssuerKeys(IHttpClientFactory httpClients, IOptions<IdentityOptions> options)
{
    public const string HttpClientName = "oidc-discovery";

    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _managers = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<JsonWebKeySet, IssuerKeySet> _staticKeySets = [];

    // Issuers matched by a wildcard are named by unverified tokens, so this cache is bounded and least recently used
    // entries make way: a flood of made-up issuers costs discovery fetches but cannot lock real issuers out.
    private readonly ConcurrentDictionary<string, WildcardManager> _wildcardManagers = new(StringComparer.Ordinal);
    private long _uses;

    public async Task<IssuerKeySet> GetAsync(TrustedIssuer issuer, string iss, bool refresh, CancellationToken ct)
    {
        if (issuer.StaticKeys is { } staticKeys)
        {
            // A JWKS file's keys are fixed until a reload replaces the issuer (and this set object): one key list per
            // set, so its key objects (and the crypto providers the token handler caches on them) last as long as the file's.
            return _staticKeySets.GetValue(staticKeys, static set => new IssuerKeySet(Usable(set.GetSigningKeys()), []));
        }

        var manager = Manager(issuer, iss);
        if (refresh)
        {
            // Blocking mode (set in AddIdentity): the next GetConfigurationAsync fetches, at most once per
            // MinimumKeyRefreshInterval, and concurrent callers share that one fetch.
            manager.RequestRefresh();
        }

        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await manager.GetConfigurationAsync(ct);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException or ArgumentException)
        {
            // A wildcard issuer whose discovery fails keeps no cache slot.
            _wildcardManagers.TryRemove(iss, out _);
            throw new CaException(CaErrorCode.InvalidIdentityToken, $"the keys of issuer '{iss}' could not be retrieved");
        }

        // go-oidc checks that discovery names the issuer it was fetched for; a mismatch means the document or the
        // redirect chain belongs to someone else.
        if (!string.Equals(configuration.Issuer, iss, StringComparison.Ordinal))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, $"the discovery document of issuer '{iss}' names a different issuer");
        }

        return new IssuerKeySet(Usable(configuration.SigningKeys), [.. configuration.IdTokenSigningAlgValuesSupported]);
    }

    /// <summary>Drops the cached keys of issuers <paramref name="pool"/> no longer trusts (after a reload).</summary>
    public void Retain(IssuerPool pool)
    {
        foreach (var iss in _managers.Keys.Where(iss => pool.Match(iss) is not { Pattern: null }))
        {
            _managers.TryRemove(iss, out _);
        }

        foreach (var iss in _wildcardManagers.Keys.Where(iss => pool.Match(iss) is not { Pattern: not null }))
        {
            _wildcardManagers.TryRemove(iss, out _);
        }
    }

    private ConfigurationManager<OpenIdConnectConfiguration> Manager(TrustedIssuer issuer, string iss)
    {
        if (issuer.Pattern is null)
        {
            return _managers.GetOrAdd(iss, CreateManager, options.Value);
        }

        if (_wildcardManagers.TryGetValue(iss, out var known))
        {
            known.LastUse = Interlocked.Increment(ref _uses);
            return known.Manager;
        }

        while (_wildcardManagers.Count >= options.Value.MaxWildcardIssuers
               && _wildcardManagers.MinBy(entry => entry.Value.LastUse) is { Key: { } oldest })
        {
            _wildcardManagers.TryRemove(oldest, out _);
        }

        return _wildcardManagers.GetOrAdd(
            iss,
            static (iss, state) => new WildcardManager(state.Keys.CreateManager(iss, state.Options)) { LastUse = Interlocked.Increment(ref state.Keys._uses) },
            (Keys: this, Options: options.Value)).Manager;
    }

    private ConfigurationManager<OpenIdConnectConfiguration> CreateManager(string iss, IdentityOptions opts)
    {
        var retriever = new HttpDocumentRetriever(httpClients.CreateClient(HttpClientName))
        {
            // IssuerPool admits plain http only for loopback issuers (the development issuer).
            RequireHttps = !iss.StartsWith("http://", StringComparison.Ordinal),
        };
        return new ConfigurationManager<OpenIdConnectConfiguration>(
            iss.TrimEnd('/') + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(), retriever)
        {
            AutomaticRefreshInterval = opts.KeyRefreshInterval,
            RefreshInterval = opts.MinimumKeyRefreshInterval,
        };
    }

    private sealed class WildcardManager(ConfigurationManager<OpenIdConnectConfiguration> manager)
    {
        public ConfigurationManager<OpenIdConnectConfiguration> Manager { get; } = manager;

        public long LastUse { get; set; }
    }

    /// <summary>Only asymmetric keys: a symmetric key in a JWKS must never verify anything.</summary>
    private static List<SecurityKey> Usable(IEnumerable<SecurityKey> keys) =>
        [.. keys.Where(key => key is RsaSecurityKey or ECDsaSecurityKey or X509SecurityKey
            || (key is JsonWebKey jwk && jwk.Kty is "RSA" or "EC"))];
}
