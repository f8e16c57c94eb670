using System.Text.Json.Serialization;

namespace TransparencyLog.LogService.RekorV2;

/// <summary>
/// The Rekor v2 error body, in the shape rekor-tiles' grpc-gateway writes: <c>{"code": &lt;gRPC status code&gt;,
/// "message": "..."}</c>. Each HTTP status used here has one gRPC code, so clients of either transport read the
/// same vocabulary. Messages say what was wrong, never internals.
/// </summary>
internal sealed record RekorV2Error(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message)
{
    /// <summary>gRPC <c>FAILED_PRECONDITION</c>: the log is not in a state to do this (a frozen period log asked to append).
    /// grpc-gateway answers it with HTTP 400.</summary>
    public const int FailedPrecondition = 9;

    public static IResult Result(int status, string message) =>
        TypedResults.Json(new RekorV2Error(GrpcCode(status), message), statusCode: status);

    /// <summary>An error whose gRPC code is not the one <see cref="GrpcCode"/> pairs with its HTTP status.</summary>
    public static IResult Result(int status, int grpcCode, string message) =>
        TypedResults.Json(new RekorV2Error(grpcCode, message), statusCode: status);

    /// <summary>The gRPC code grpc-gateway would pair with the HTTP status.</summary>
    public static int GrpcCode(int status) => status switch
    {
        StatusCodes.Status400BadRequest => 3, // INVALID_ARGUMENT
        StatusCodes.Status409Conflict => 6, // ALREADY_EXISTS
        StatusCodes.Status413PayloadTooLarge => 8, // RESOURCE_EXHAUSTED, what gRPC answers an oversized message with
        StatusCodes.Status503ServiceUnavailable => 14, // UNAVAILABLE
        _ => 13, // INTERNAL
    };
}
