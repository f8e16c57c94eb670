using System.Globalization;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.RekorV2;

namespace TransparencyLog.LogService.Http;

/// <summary>
/// Request headers are limited to <see cref="MaxTotalBytes"/>, answered 431 in the API's error shape. Kestrel would
/// refuse them itself at that size, but with an empty body it writes before any application code runs; so Kestrel's
/// own limit is raised to <see cref="HardLimitBytes"/> (past which it still answers 431, empty) and this middleware,
/// first in the pipeline, enforces the real one.
/// </summary>
internal static class HeaderLimits
{
    /// <summary>Kestrel's default total: nothing any client of these APIs sends comes close.</summary>
    public const int MaxTotalBytes = 32 * 1024;

    public const int HardLimitBytes = 2 * 1024 * 1024;

    public static IHostApplicationBuilder AddHeaderLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(options =>
        {
            // Kestrel needs its input buffer to hold the largest header block it accepts.
            options.Limits.MaxRequestBufferSize = Math.Max(options.Limits.MaxRequestBufferSize ?? 0, HardLimitBytes);
            options.Limits.MaxRequestHeadersTotalSize = HardLimitBytes;
        });
        return builder;
    }

    public static IApplicationBuilder UseHeaderLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (TotalBytes(context.Request.Headers) <= MaxTotalBytes)
        {
            await next(context);
            return;
        }

        var message = string.Create(CultureInfo.InvariantCulture, $"request headers exceed the {MaxTotalBytes}-byte limit");
        const int status = StatusCodes.Status431RequestHeaderFieldsTooLarge;
        var path = context.Request.Path;
        var result = path.StartsWithSegments("/ct", StringComparison.Ordinal)
            ? TypedResults.Text(message + "\n", "text/plain; charset=utf-8", statusCode: status)
            : path.StartsWithSegments("/api/v2", StringComparison.Ordinal)
                ? RekorV2Error.Result(status, message)
                : RekorError.Result(status, message);
        context.Response.Headers.Connection = "close";
        await result.ExecuteAsync(context);
    });

    /// <summary>Header names and values as received, one byte per character (what Kestrel counts, near enough).</summary>
    private static long TotalBytes(IHeaderDictionary headers)
    {
        long total = 0;
        foreach (var (name, values) in headers)
        {
            total += name.Length + 4;
            foreach (var value in values)
            {
                total += value?.Length ?? 0;
            }
        }

        return total;
    }
}
