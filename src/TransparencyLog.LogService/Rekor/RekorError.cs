using System.Text.Json.Serialization;

namespace TransparencyLog.LogService.Rekor;

/// <summary>Rekor's error body: <c>{"code": 400, "message": "..."}</c>. Messages say what was wrong, never internals.</summary>
internal sealed record RekorError(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message)
{
    public static IResult Result(int status, string message) => TypedResults.Json(new RekorError(status, message), statusCode: status);
}
