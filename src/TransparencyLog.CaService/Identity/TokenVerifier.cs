using System.Text.Json;
using Microsoft.Extensions.Options;
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

        // One parse: the signature is checked over the header and payload exactly as they were sent, and every claim
        // used from here on comes from the same decoded payload (no second JWT parser that could read it differently).
        // Issuer: iss was read from this payload and picked the issuer and its keys; there is nothing left to compare.
        VerifySignature(unverified, alg, keySet, iss);
        CheckAudience(claims, issuer, iss);
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

    /// <summary>
    /// The signature against the key the token names (<c>kid</c>, already known to be in the issuer's key set) or,
    /// without a <c>kid</c>, against every key of the issuer, under the algorithm the header names (already checked
    /// against the issuer's accepted algorithms).
    /// </summary>
    private void VerifySignature(UnverifiedToken unverified, string alg, IssuerKeySet keySet, string iss)
    {
        if (!unverified.TryDecodeSignature(out var signature))
        {
            Log.TokenRejected(logger, iss, "MalformedSignature");
            throw new CaException(CaErrorCode.InvalidIdentityToken, "the identity token is malformed");
        }

        var signingInput = unverified.SigningInput();
        var kid = unverified.KeyId;
        foreach (var key in keySet.Keys)
        {
            if ((kid is null || string.Equals(key.KeyId, kid, StringComparison.Ordinal))
                && JwsSignature.Verify(key, alg, signingInput, signature))
            {
                return;
            }
        }

        Log.TokenRejected(logger, iss, kid is null ? "NoKeyVerifies" : "InvalidSignature");
        throw kid is null
            ? new CaException(CaErrorCode.InvalidIdentityToken, $"no signing key of issuer '{iss}' verifies the token")
            : new CaException(CaErrorCode.InvalidIdentityToken, "the token signature is invalid");
    }

    /// <summary>The configured audience must be the <c>aud</c> string or one of the strings of the <c>aud</c> array,
    /// compared exactly (go-oidc, which Fulcio uses).</summary>
    private void CheckAudience(TokenClaims claims, TrustedIssuer issuer, string iss)
    {
        var expected = issuer.Options.Audience;
        if (!claims.Root.TryGetProperty("aud", out var aud) || aud.ValueKind == JsonValueKind.Null)
        {
            Log.TokenRejected(logger, iss, "InvalidAudience");
            throw TokenClaims.Missing("aud");
        }

        var accepted = aud.ValueKind switch
        {
            JsonValueKind.String => aud.ValueEquals(expected),
            JsonValueKind.Array => aud.EnumerateArray().Any(value => value.ValueKind == JsonValueKind.String && value.ValueEquals(expected)),
            _ => false,
        };
        if (!accepted)
        {
            Log.TokenRejected(logger, iss, "InvalidAudience");
            throw new CaException(CaErrorCode.InvalidIdentityToken,
                $"audience '{Echo(Audiences(aud))}' is not accepted (expected '{expected}')");
        }
    }

    private static string Audiences(JsonElement aud) => aud.ValueKind == JsonValueKind.Array
        ? string.Join(", ", aud.EnumerateArray().Select(TokenClaims.AsString))
        : TokenClaims.AsString(aud) ?? "";

    /// <summary>Claim values echoed in messages are bounded; a value cannot smuggle the token back in full.</summary>
    private static string Echo(string value) => value.Length <= MaxEchoedLength ? value : value[..MaxEchoedLength] + "…";
}
