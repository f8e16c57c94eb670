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
            .Validate(SharesPortOnlyAsOneEndpoint, "Api:RestUrl and Api:GrpcUrl share a port: they must then be the same address (one duplex endpoint)")
            .ValidateOnStart();
        builder.Services.AddSingleton<FulcioApi>();
        builder.Services.AddSingleton<IdentityRateLimiter>();

        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ApiOptions>>((kestrel, api) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            // Each endpoint speaks one protocol: without TLS there is no ALPN, so HTTP/2 normally gets its own port.
            // When both URLs name one endpoint, the connection preface tells HTTP/1.1 from h2c (H2cPriorKnowledge).
            if (IsDuplex(api.Value))
            {
                // H2cPriorKnowledge marks h2c connections as negotiated, so Kestrel takes the transport scheme for
                // https; the client's :scheme (http) must still be accepted, and becomes Request.Scheme.
                kestrel.AllowAlternateSchemes = true;
                var timeout = kestrel.Limits.RequestHeadersTimeout;
                Listen(kestrel, api.Value.RestUrl, HttpProtocols.Http1AndHttp2, listen => listen.UseH2cPriorKnowledge(timeout));
            }
            else
            {
                Listen(kestrel, api.Value.RestUrl, HttpProtocols.Http1);
                Listen(kestrel, api.Value.GrpcUrl, HttpProtocols.Http2);
            }
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
                if (CaGrpcExtensions.IsGrpcRequest(http.Request))
                {
                    CaGrpcExtensions.WriteRejection(http.Response, CaErrorCode.RateLimited, RateLimitMessages.PerAddress);
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
        var api = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
        var restPort = Port(api.RestUrl);
        var grpcPort = Port(api.GrpcUrl);
        // Routing has already chosen the endpoint (WebApplication adds UseRouting first). A route of the other
        // transport is answered 404 before the rate limiter, so a wrong-port request spends no permit. The local
        // port, not the Host header: behind a TLS-terminating proxy Host names the proxy, and clients choose it.
        app.Use((context, next) =>
        {
            var transport = context.GetEndpoint()?.Metadata.GetMetadata<CaTransportMetadata>()?.Transport;
            var expected = transport switch
            {
                CaTransport.Rest => restPort,
                CaTransport.Grpc => grpcPort,
                _ => (int?)null,
            };
            if (expected is { } port && context.Connection.LocalPort != port)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Marks endpoints as belonging to one transport: they answer only on that transport's port.</summary>
    public static TBuilder OnTransport<TBuilder>(this TBuilder builder, CaTransport transport)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new CaTransportMetadata(transport));

    /// <summary>Both URLs name the same address and port: one listener serves HTTP/1.1 and h2c.</summary>
    internal static bool IsDuplex(ApiOptions options) =>
        TryParseEndpoint(options.RestUrl, out var rest) && TryParseEndpoint(options.GrpcUrl, out var grpc)
        && rest is not null && rest.Equals(grpc);

    private static bool SharesPortOnlyAsOneEndpoint(ApiOptions options) =>
        !TryParseEndpoint(options.RestUrl, out var rest) || !TryParseEndpoint(options.GrpcUrl, out var grpc)
        || rest is null || grpc is null || rest.Port != grpc.Port || rest.Equals(grpc);

    private static int? Port(string url) => TryParseEndpoint(url, out var endpoint) ? endpoint?.Port : null;

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

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, Action<ListenOptions>? configure = null)
    {
        if (TryParseEndpoint(url, out var endpoint) && endpoint is not null)
        {
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = protocols;
                configure?.Invoke(listen);
            });
        }
    }
}

/// <summary>The two transports of the Fulcio API.</summary>
internal enum CaTransport
{
    Rest,
    Grpc,
}

/// <summary>Endpoint metadata: the transport whose port an endpoint answers on.</summary>
internal sealed record CaTransportMetadata(CaTransport Transport);
