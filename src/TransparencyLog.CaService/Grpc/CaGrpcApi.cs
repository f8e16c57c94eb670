using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Grpc;

/// <summary>
/// The gRPC service <c>dev.sigstore.fulcio.v2.CA</c> over our own unary framing (Grpc.AspNetCore is not available):
/// HTTP/2 only, <c>application/grpc</c> or <c>application/grpc+proto</c>, identity encoding, status in trailers.
/// </summary>
internal static class CaGrpcApi
{
    public const string ServicePath = "/dev.sigstore.fulcio.v2.CA";

    public static IEndpointRouteBuilder MapCaGrpcApi(this IEndpointRouteBuilder app)
    {
        var service = app.MapGroup(ServicePath).OnTransport(CaTransport.Grpc);
        service.MapPost("/CreateSigningCertificate", (HttpContext context, FulcioApi fulcio) =>
                UnaryAsync(context, CreateSigningCertificateRequest.Parser,
                    request => fulcio.CreateSigningCertificateAsync(request, context.Request.Headers.Authorization, "grpc", context.RequestAborted)))
            .RequireRateLimiting(CaApiExtensions.PerAddressPolicy);
        service.MapPost("/GetTrustBundle", (HttpContext context, FulcioApi fulcio) =>
            UnaryAsync(context, GetTrustBundleRequest.Parser, _ => Task.FromResult<IMessage>(fulcio.GetTrustBundle())));
        service.MapPost("/GetConfiguration", (HttpContext context, FulcioApi fulcio) =>
            UnaryAsync(context, GetConfigurationRequest.Parser, _ => Task.FromResult<IMessage>(fulcio.GetConfiguration())));
        return app;
    }

    /// <summary>Whether a request is a gRPC call (used to answer middleware rejections in the right transport).</summary>
    public static bool IsGrpcRequest(HttpRequest request) =>
        request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Ends a gRPC call with a status and no message (a "trailers" status, never an HTTP error code).</summary>
    public static void WriteStatus(HttpResponse response, GrpcStatusCode status, string? message)
    {
        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
        }

        response.AppendTrailer("grpc-status", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(message))
        {
            response.AppendTrailer("grpc-message", GrpcFraming.EncodeMessage(message));
        }
    }

    private static Task UnaryAsync<TRequest, TResponse>(HttpContext context, MessageParser<TRequest> parser, Func<TRequest, Task<TResponse>> call)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage =>
        UnaryCoreAsync(context, parser, async request => (IMessage)await call(request));

    private static async Task UnaryCoreAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser, Func<TRequest, Task<IMessage>> call)
        where TRequest : IMessage<TRequest>
    {
        var request = context.Request;
        var response = context.Response;
        if (request.Protocol != "HTTP/2" || !response.SupportsTrailers())
        {
            response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }

        var contentType = request.ContentType;
        if (contentType is not ("application/grpc" or "application/grpc+proto"))
        {
            // PROTOCOL-HTTP2.md: a content type that is not gRPC gets HTTP 415 and no gRPC status.
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-accept-encoding"] = "identity";
        var max = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxGrpcMessageBytes;
        try
        {
            var bytes = await GrpcFraming.ReadUnaryMessageAsync(request.BodyReader, max, context.RequestAborted);
            TRequest message;
            try
            {
                message = parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException)
            {
                throw new CaException(CaErrorCode.InvalidRequest, "the request message could not be parsed");
            }

            var result = await call(message);
            GrpcFraming.WriteMessage(response.BodyWriter, result);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
            WriteStatus(response, GrpcStatusCode.OK, null);
        }
        catch (GrpcFramingException e)
        {
            WriteStatus(response, e.Status, e.Message);
        }
        catch (CaException e)
        {
            WriteStatus(response, CaErrorMap.For(e.Code).GrpcStatus, e.Message);
        }
    }
}
