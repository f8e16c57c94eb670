using Grpc.Core;

namespace TransparencyLog.CaService.Errors;

/// <summary>
/// The one place where a <see cref="CaErrorCode"/> becomes a transport status: the HTTP status of the REST API and
/// the gRPC status code (which the REST error body also carries as <c>code</c>, like Fulcio's grpc-gateway).
/// </summary>
internal static class CaErrorMap
{
    public static (int HttpStatus, StatusCode GrpcStatus) For(CaErrorCode code) => code switch
    {
        CaErrorCode.InvalidRequest => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        // Fulcio answers every identity-token failure with InvalidArgument/400; clients do not retry a 400.
        CaErrorCode.InvalidIdentityToken => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.UntrustedIssuer => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.MissingClaim => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.PolicyDenied => (StatusCodes.Status403Forbidden, StatusCode.PermissionDenied),
        CaErrorCode.InvalidPublicKey => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.InsecurePublicKey => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.InvalidProofOfPossession => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.InvalidCsr => (StatusCodes.Status400BadRequest, StatusCode.InvalidArgument),
        CaErrorCode.RequestTooLarge => (StatusCodes.Status413PayloadTooLarge, StatusCode.ResourceExhausted),
        // 429 makes sigstore clients back off and retry, which is what a rate limit wants.
        CaErrorCode.RateLimited => (StatusCodes.Status429TooManyRequests, StatusCode.ResourceExhausted),
        CaErrorCode.CertificateTransparencyFailed => (StatusCodes.Status500InternalServerError, StatusCode.Internal),
        CaErrorCode.Internal => (StatusCodes.Status500InternalServerError, StatusCode.Internal),
        _ => (StatusCodes.Status500InternalServerError, StatusCode.Internal),
    };
}
