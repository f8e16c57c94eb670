using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TransparencyLog.CaService.Errors;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// Verifies an OIDC identity token and turns it into a <see cref="Principal"/> (certificate-authority.md §2.6):
/// shape and size first, then the unverified <c>iss</c> against the allow-list, then signature, issuer, audience and
/// lifetime, then the type-specific claims and the issuance policy. Every failure is a <see cref="CaException"/>
/// with a message that names what was wrong and never contains the token.
/// </summary>
internal sealed class TokenVerifier(IssuerPool issuers, IssuerKeys keys, IOptions<IdentityOptions> options, TimeProvider time, ILogger<TokenVerifier> logger)
{
    private const int MaxEchoedLength = 200;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<Principal> VerifyAsync(string token, CancellationToken ct)
    {
        using var unverified = UnverifiedToken.Parse(token, options.Value.MaxTokenLength);
        var claims = unverified.Claims;
        if (!claims.Root.TryGetProperty("iss", out var issElement) || issElement.ValueKind != JsonValueKind.String
            || issElement.GetString() is not { Length: > 0 } iss)
        {
            throw TokenClaims.Missing("iss");
        }

        var issuer = issuers.Match(iss)
            ?? throw new CaException(CaErrorCode.UntrustedIssuer, $"issuer '{Echo(iss)}' is not configured");

        var alg = unverified.Algorithm;
        var keySet = await keys.GetAsync(issuer, iss, refresh: false, ct);
        var algorithms = AcceptedAlgorithms(issuer, keySet);
        if (alg is null || !algorithms.Contains(alg))
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken,
                $"signing algorithm '{Echo(alg ?? "")}' is not accepted for this issuer (accepted: {string.Join(", ", algorithms)})");
        }

        // An unknown kid means either a rotated key (refetch once) or a forged token (still unknown after that).
        if (unverified.KeyId is { } kid && !HasKey(keySet, kid))
        {
            keySet = await keys.GetAsync(issuer, iss, refresh: true, ct);
            if (!HasKey(keySet, kid))
            {
                throw new CaException(CaErrorCode.InvalidIdentityToken, $"signing key '{Echo(kid)}' is not in the JWKS of issuer '{iss}'");
            }
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = iss,
            ValidateIssuer = true,
            ValidAudience = issuer.Options.Audience,
            ValidateAudience = true,
            // Compared exactly, as go-oidc (Fulcio) does: "sigstore/" is not "sigstore".
            IgnoreTrailingSlashWhenValidatingAudience = false,
            // Lifetime is checked below with the injected clock: exp without leeway, nbf with a bounded one.
            ValidateLifetime = false,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidAlgorithms = algorithms,
            IssuerSigningKeys = KeysFor(alg, keySet),
            TryAllIssuerSigningKeys = unverified.KeyId is null,
            ValidateTokenReplay = false,
            SaveSigninToken = false,
        };
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            throw Translate(result.Exception, claims, issuer, iss);
        }

        CheckLifetime(claims);
        var principal = PrincipalFactory.Create(issuer, iss, claims);
        IssuancePolicy.Evaluate(issuer, claims);
        return principal;
    }

    /// <summary>Configured algorithms, else those discovery announces, else RS256 (go-oidc); always asymmetric.</summary>
    private static List<string> AcceptedAlgorithms(TrustedIssuer issuer, IssuerKeySet keySet)
    {
        IEnumerable<string> candidates = issuer.ConfiguredAlgorithms.Count > 0 ? issuer.ConfiguredAlgorithms
            : keySet.AnnouncedAlgorithms.Count > 0 ? keySet.AnnouncedAlgorithms
            : ["RS256"];
        return [.. candidates.Where(IssuerPool.SupportedAlgorithms.Contains).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The issuer's keys that the algorithm may use (RFC 7518 3.4: ES256 is ECDSA on P-256, ES384 on P-384, ES512 on
    /// P-521; RS and PS are RSA). The token handler checks the key's family, not its curve: an ES256 signature by the
    /// issuer's P-384 key would otherwise verify.
    /// </summary>
    private static IEnumerable<SecurityKey> KeysFor(string alg, IssuerKeySet keySet)
    {
        var curve = alg switch
        {
            "ES256" => JsonWebKeyECTypes.P256,
            "ES384" => JsonWebKeyECTypes.P384,
            "ES512" => JsonWebKeyECTypes.P521,
            _ => null,
        };
        return curve is null ? keySet.Keys : keySet.Keys.Where(key => CurveOf(key) == curve);
    }

    private static string? CurveOf(SecurityKey key) => key switch
    {
        JsonWebKey jwk => jwk.Crv,
        ECDsaSecurityKey ec => ec.KeySize switch
        {
            256 => JsonWebKeyECTypes.P256,
            384 => JsonWebKeyECTypes.P384,
            521 => JsonWebKeyECTypes.P521,
            _ => null,
        },
        _ => null,
    };

    private static bool HasKey(IssuerKeySet keySet, string kid) =>
        keySet.Keys.Any(key => string.Equals(key.KeyId, kid, StringComparison.Ordinal));

    private void CheckLifetime(TokenClaims claims)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (!claims.Root.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number)
        {
            throw TokenClaims.Missing("exp");
        }

        // Fulcio (go-oidc) gives exp no leeway at all.
        if (!exp.TryGetDouble(out var expiry) || now >= expiry)
        {
            throw new CaException(CaErrorCode.InvalidIdentityToken, "token has expired");
        }

        if (claims.Root.TryGetProperty("nbf", out var nbf) && nbf.ValueKind != JsonValueKind.Null)
        {
            if (nbf.ValueKind != JsonValueKind.Number || !nbf.TryGetDouble(out var notBefore)
                || notBefore > now + options.Value.NotBeforeLeeway.TotalSeconds)
            {
                throw new CaException(CaErrorCode.InvalidIdentityToken, "token is not valid yet (nbf is in the future)");
            }
        }
    }

    private CaException Translate(Exception? error, TokenClaims claims, TrustedIssuer issuer, string iss)
    {
        Log.TokenRejected(logger, iss, error?.GetType().Name ?? "unknown");
        return error switch
        {
            SecurityTokenInvalidAudienceException => claims.Root.TryGetProperty("aud", out var aud) && aud.ValueKind != JsonValueKind.Null
                ? new CaException(CaErrorCode.InvalidIdentityToken,
                    $"audience '{Echo(Audiences(aud))}' is not accepted (expected '{issuer.Options.Audience}')")
                : TokenClaims.Missing("aud"),
            SecurityTokenInvalidIssuerException => new CaException(CaErrorCode.InvalidIdentityToken, $"issuer '{Echo(iss)}' does not match"),
            SecurityTokenNoExpirationException => TokenClaims.Missing("exp"),
            SecurityTokenInvalidAlgorithmException => new CaException(CaErrorCode.InvalidIdentityToken, "signing algorithm is not accepted for this issuer"),
            SecurityTokenSignatureKeyNotFoundException => new CaException(CaErrorCode.InvalidIdentityToken, $"no signing key of issuer '{iss}' verifies the token"),
            SecurityTokenInvalidSignatureException => new CaException(CaErrorCode.InvalidIdentityToken, "the token signature is invalid"),
            SecurityTokenMalformedException => new CaException(CaErrorCode.InvalidIdentityToken, "the identity token is malformed"),
            _ => new CaException(CaErrorCode.InvalidIdentityToken, "the identity token could not be verified"),
        };
    }

    private static string Audiences(JsonElement aud) => aud.ValueKind == JsonValueKind.Array
        ? string.Join(", ", aud.EnumerateArray().Select(TokenClaims.AsString))
        : TokenClaims.AsString(aud) ?? "";

    /// <summary>Claim values echoed in messages are bounded; a value cannot smuggle the token back in full.</summary>
    private static string Echo(string value) => value.Length <= MaxEchoedLength ? value : value[..MaxEchoedLength] + "…";
}
