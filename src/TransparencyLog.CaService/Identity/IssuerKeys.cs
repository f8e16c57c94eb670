using System.Collections.Concurrent;
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

    public async Task<IssuerKeySet> GetAsync(TrustedIssuer issuer, string iss, bool refresh, CancellationToken ct)
    {
        if (issuer.StaticKeys is { } staticKeys)
        {
            return new IssuerKeySet(Usable(staticKeys.GetSigningKeys()), []);
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

    private ConfigurationManager<OpenIdConnectConfiguration> Manager(TrustedIssuer issuer, string iss)
    {
        if (_managers.TryGetValue(iss, out var existing))
        {
            return existing;
        }

        // Bounded: every distinct iss matching a wildcard would otherwise grow this map forever.
        if (issuer.Pattern is not null && _managers.Count >= options.Value.MaxWildcardIssuers)
        {
            throw new CaException(CaErrorCode.UntrustedIssuer, $"issuer '{iss}' cannot be used now: too many distinct wildcard issuers");
        }

        return _managers.GetOrAdd(iss, static (iss, state) =>
        {
            var (factory, opts) = state;
            var retriever = new HttpDocumentRetriever(factory.CreateClient(HttpClientName))
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
        }, (httpClients, options.Value));
    }

    /// <summary>Only asymmetric keys: a symmetric key in a JWKS must never verify anything.</summary>
    private static List<SecurityKey> Usable(IEnumerable<SecurityKey> keys) =>
        [.. keys.Where(key => key is RsaSecurityKey or ECDsaSecurityKey or X509SecurityKey
            || (key is JsonWebKey jwk && jwk.Kty is "RSA" or "EC"))];
}
