using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.RekorV2;

namespace TransparencyLog.LogService.Http;

/// <summary>The log service's answer to oversized request headers: 431 in the error shape of the API asked.</summary>
internal static class HeaderLimitRejection
{
    public static async Task WriteAsync(HttpContext context, string message)
    {
        const int status = StatusCodes.Status431RequestHeaderFieldsTooLarge;
        var path = context.Request.Path;
        var result = path.StartsWithSegments("/ct", StringComparison.Ordinal)
            ? TypedResults.Text(message + "\n", "text/plain; charset=utf-8", statusCode: status)
            : path.StartsWithSegments("/api/v2", StringComparison.Ordinal)
                ? RekorV2Error.Result(status, message)
                : RekorError.Result(status, message);
        context.Response.Headers.Connection = "close";
        await result.ExecuteAsync(context);
    }
}
