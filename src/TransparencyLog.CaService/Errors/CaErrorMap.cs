using TransparencyLog.CaService.Grpc;

namespace TransparencyLog.CaService.Errors;

/// <summary>
/// The one place where a <see cref="CaErrorCode"/> becomes a transport status: the HTTP status of the REST API and
/// the gRPC status code (which the REST error body also carries as <c>code</c>, like Fulcio's grpc-gateway).
/// </summary>
internal static class CaErrorMap
{
    public static (int HttpStatus, GrpcStatusCode GrpcStatus) For(CaErrorCode code) => code switch
    {
        CaErrorCode.InvalidRequest => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        // Fulcio answers every identity-token failure with InvalidArgument/400; clients do not retry a 400.
        CaErrorCode.InvalidIdentityToken => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.UntrustedIssuer => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.MissingClaim => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.PolicyDenied => (StatusCodes.Status403Forbidden, GrpcStatusCode.PermissionDenied),
        CaErrorCode.InvalidPublicKey => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.InsecurePublicKey => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.InvalidProofOfPossession => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.InvalidCsr => (StatusCodes.Status400BadRequest, GrpcStatusCode.InvalidArgument),
        CaErrorCode.RequestTooLarge => (StatusCodes.Status413PayloadTooLarge, GrpcStatusCode.ResourceExhausted),
        CaErrorCode.RequestHeadersTooLarge => (StatusCodes.Status431RequestHeaderFieldsTooLarge, GrpcStatusCode.ResourceExhausted),
        // 429 makes sigstore clients back off and retry, which is what a rate limit wants.
        CaErrorCode.RateLimited => (StatusCodes.Status429TooManyRequests, GrpcStatusCode.ResourceExhausted),
        CaErrorCode.CertificateTransparencyFailed => (StatusCodes.Status500InternalServerError, GrpcStatusCode.Internal),
        // Transient: sigstore clients retry a 503 / UNAVAILABLE, and Retry-After says when.
        CaErrorCode.CertificateTransparencyUnavailable => (StatusCodes.Status503ServiceUnavailable, GrpcStatusCode.Unavailable),
        CaErrorCode.Internal => (StatusCodes.Status500InternalServerError, GrpcStatusCode.Internal),
        _ => (StatusCodes.Status500InternalServerError, GrpcStatusCode.Internal),
    };

    /// <summary>When a client should try again after a transient failure (REST <c>Retry-After</c>); null otherwise.</summary>
    public static int? RetryAfterSeconds(CaErrorCode code) => code == CaErrorCode.CertificateTransparencyUnavailable ? 5 : null;
}
