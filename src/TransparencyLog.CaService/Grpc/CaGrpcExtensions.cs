using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Issuance;

namespace TransparencyLog.CaService.Grpc;

/// <summary>The CA's gRPC transport: <c>dev.sigstore.fulcio.v2.CA</c>, <c>grpc.health.v1.Health</c> and server
/// reflection, answering only on the gRPC port.</summary>
internal static class CaGrpcExtensions
{
    public static IHostApplicationBuilder AddCaGrpc(this IHostApplicationBuilder builder)
    {
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<CaErrorInterceptor>();
            grpc.EnableDetailedErrors = false;
            // Unknown services and methods fall through to routing's 404 on either port.
            grpc.IgnoreUnknownServices = true;
        });
        builder.Services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ApiOptions>>((grpc, api) =>
        {
            // Checked on the frame's length prefix before the message is buffered, and on a gzip message's inflated
            // size: RESOURCE_EXHAUSTED either way.
            grpc.MaxReceiveMessageSize = api.Value.MaxGrpcMessageBytes;
        });
        // grpc.health.v1.Health reports the service's ASP.NET Core health checks (overall, service name "").
        builder.Services.AddGrpcHealthChecks().AddCheck<IssuerHealthCheck>(IssuerHealthCheck.Name);
        builder.Services.AddGrpcReflection();
        return builder;
    }

    public static IEndpointRouteBuilder MapCaGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcService<CaGrpcService>().OnTransport(CaTransport.Grpc);
        app.MapGrpcHealthChecksService().OnTransport(CaTransport.Grpc);
        app.MapGrpcReflectionService().OnTransport(CaTransport.Grpc);
        return app;
    }

    /// <summary>Whether a request is a gRPC call (used to answer middleware rejections in the right transport).</summary>
    public static bool IsGrpcRequest(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// Answers a call that middleware refused before it reached the gRPC service (the per-address rate limit) the
    /// way Grpc.AspNetCore answers an <see cref="Grpc.Core.RpcException"/>: HTTP 200 and a trailers-only response.
    /// </summary>
    public static void WriteRejection(HttpResponse response, CaErrorCode code, string message)
    {
        var status = CaErrorInterceptor.ToStatus(code, message);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(status.Detail);
    }
}
