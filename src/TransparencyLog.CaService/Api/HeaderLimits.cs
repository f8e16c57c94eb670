using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Grpc;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// Request headers are limited to <see cref="MaxTotalBytes"/>, answered 431 with the CA's error body (REST) or
/// RESOURCE_EXHAUSTED (gRPC). Kestrel would refuse them itself, but with an empty body written before any application
/// code runs; so its own HTTP/1.1 limit is raised to <see cref="HardLimitBytes"/> (past which it still answers 431,
/// empty) and this middleware, first in the pipeline, enforces the real one.
/// </summary>
internal static class HeaderLimits
{
    /// <summary>Kestrel's default total; an identity token is at most <c>Identity:MaxTokenLength</c> (16 KiB).</summary>
    public const int MaxTotalBytes = 32 * 1024;

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

    public static WebApplication UseHeaderLimits(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (TotalBytes(context.Request.Headers) <= MaxTotalBytes)
            {
                await next(context);
                return;
            }

            var message = string.Create(CultureInfo.InvariantCulture, $"request headers exceed the {MaxTotalBytes}-byte limit");
            if (CaGrpcExtensions.IsGrpcRequest(context.Request))
            {
                CaGrpcExtensions.WriteRejection(context.Response, CaErrorCode.RequestHeadersTooLarge, message);
                return;
            }

            context.Response.Headers.Connection = "close";
            await CaErrorResult.WriteAsync(context.Response, CaErrorCode.RequestHeadersTooLarge, message, context.RequestAborted);
        });
        return app;
    }

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
