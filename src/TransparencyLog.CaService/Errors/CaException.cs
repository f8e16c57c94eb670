namespace TransparencyLog.CaService.Errors;

/// <summary>
/// Stable error codes of the CA. REST maps each to an HTTP status and gRPC to a status code in one place; the
/// message says what was wrong and never carries a token, key material or exception text.
/// </summary>
internal enum CaErrorCode
{
    InvalidRequest,
    InvalidIdentityToken,
    UntrustedIssuer,
    MissingClaim,
    PolicyDenied,
    InvalidPublicKey,
    InsecurePublicKey,
    InvalidProofOfPossession,
    InvalidCsr,
    RequestTooLarge,
    RequestHeadersTooLarge,
    RateLimited,
    CertificateTransparencyFailed,
    /// <summary>The CT log stayed unreachable (or answered 5xx/429) through the retry budget: try again later.</summary>
    CertificateTransparencyUnavailable,
    Internal,
}

/// <summary>An expected failure of a CA request, carrying a stable code and a client-safe message.</summary>
internal sealed class CaException(CaErrorCode code, string message) : Exception(message)
{
    public CaErrorCode Code { get; } = code;
}
