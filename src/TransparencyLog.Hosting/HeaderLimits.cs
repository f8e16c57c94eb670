using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TransparencyLog.Hosting;

/// <summary>
/// Request headers are limited to <see cref="MaxTotalBytes"/> and answered 431 by the service's own rejection, so the
/// body is in that API's error shape. Kestrel would refuse them itself at that size, but with an empty body written
/// before any application code runs; so Kestrel's HTTP/1.1 limit is raised to <see cref="HardLimitBytes"/> (past which
/// it still answers 431, empty) and this middleware, first in the pipeline, enforces the real one.
/// </summary>
public static class HeaderLimits
{
    /// <summary>Kestrel's default total; an identity token is at most the CA's <c>Identity:MaxTokenLength</c> (16 KiB).</summary>
    public const int MaxTotalBytes = 32 * 1024;

    /// <summary>What Kestrel itself accepts, so that the middleware gets to answer.</summary>
    public const int HardLimitBytes = 2 * 1024 * 1024;

    public static IHostApplicationBuilder AddHeaderLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<KestrelServerOptions>(options =>
        {
            // Kestrel needs its input buffer to hold the largest header block it accepts.
            options.Limits.MaxRequestBufferSize = Math.Max(options.Limits.MaxRequestBufferSize ?? 0, HardLimitBytes);
            options.Limits.MaxRequestHeadersTotalSize = HardLimitBytes;
        });
        return builder;
    }

    /// <summary>
    /// Runs <paramref name="reject"/> (which writes the 431 in the API's error shape) for a request whose headers exceed
    /// <see cref="MaxTotalBytes"/>; every other request goes on.
    /// </summary>
    public static IApplicationBuilder UseHeaderLimits(this IApplicationBuilder app, Func<HttpContext, string, Task> reject) =>
        app.Use(async (context, next) =>
        {
            if (TotalBytes(context.Request.Headers) <= MaxTotalBytes)
            {
                await next(context);
                return;
            }

            await reject(context, string.Create(CultureInfo.InvariantCulture, $"request headers exceed the {MaxTotalBytes}-byte limit"));
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
