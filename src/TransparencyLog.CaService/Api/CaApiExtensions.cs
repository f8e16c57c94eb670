using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Grpc;

namespace TransparencyLog.CaService.Api;

internal static class CaApiExtensions
{
    public const string PerAddressPolicy = "per-address";

    /// <summary>The Fulcio API on two Kestrel endpoints (REST over HTTP/1.1, gRPC over h2c) with rate limits.</summary>
    public static IHostApplicationBuilder AddCaApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>()
            .BindConfiguration(ApiOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => TryParseEndpoint(o.RestUrl, out _), "Api:RestUrl must be http://<ip or localhost>:<port>")
            .Validate(o => TryParseEndpoint(o.GrpcUrl, out _), "Api:GrpcUrl must be http://<ip or localhost>:<port>")
            .ValidateOnStart();
        builder.Services.AddSingleton<FulcioApi>();
        builder.Services.AddSingleton<IdentityRateLimiter>();

        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ApiOptions>>((kestrel, api) =>
        {
            // Each endpoint speaks one protocol: without TLS there is no ALPN, so HTTP/2 needs its own port.
            Listen(kestrel, api.Value.RestUrl, HttpProtocols.Http1);
            Listen(kestrel, api.Value.GrpcUrl, HttpProtocols.Http2);
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        });

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PerAddressPolicy, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.RateLimits;
                var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return limits.PerAddressPermits == 0
                    ? RateLimitPartition.GetNoLimiter(address)
                    : RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.PerAddressPermits,
                        Window = limits.Window,
                        QueueLimit = 0,
                    });
            });
            limiter.OnRejected = async (rejected, ct) =>
            {
                var http = rejected.HttpContext;
                if (CaGrpcApi.IsGrpcRequest(http.Request))
                {
                    CaGrpcApi.WriteStatus(http.Response, CaErrorMap.For(CaErrorCode.RateLimited).GrpcStatus, RateLimitMessages.PerAddress);
                    return;
                }

                await CaErrorResult.WriteAsync(http.Response, CaErrorCode.RateLimited, RateLimitMessages.PerAddress, ct);
            };
        });
        return builder;
    }

    /// <summary>Middleware the API needs, in order.</summary>
    public static WebApplication UseCaApi(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    internal static bool TryParseEndpoint(string url, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/")
        {
            return false;
        }

        var host = uri.Host == "localhost" ? IPAddress.Loopback.ToString() : uri.Host.Trim('[', ']');
        if (!IPAddress.TryParse(host, out var address))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, uri.Port);
        return true;
    }

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols)
    {
        if (TryParseEndpoint(url, out var endpoint) && endpoint is not null)
        {
            kestrel.Listen(endpoint, listen => listen.Protocols = protocols);
        }
    }
}
