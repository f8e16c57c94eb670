using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.Metadata;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Api;

/// <summary>A protobuf message written with Fulcio's JSON rules.</summary>
internal sealed class ProtoJsonResult(IMessage message, int statusCode) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => statusCode;

    public string ContentType => "application/json";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = ContentType;
        if (message is SigningCertificate certificate)
        {
            ProtoJson.WriteSigningCertificate(httpContext.Response.BodyWriter, certificate);
            await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
            return;
        }

        await httpContext.Response.WriteAsync(ProtoJson.Format(message), httpContext.RequestAborted);
    }
}

/// <summary>
/// A CA error in grpc-gateway's shape, <c>{"code": &lt;gRPC code&gt;, "message": "...", "details": []}</c>, with
/// the HTTP status from <see cref="CaErrorMap"/>.
/// </summary>
internal sealed class CaErrorResult(CaErrorCode code, string message) : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    public int? StatusCode => CaErrorMap.For(code).HttpStatus;

    public static CaErrorResult From(CaException exception) => new(exception.Code, exception.Message);

    public static async Task WriteAsync(HttpResponse response, CaErrorCode code, string message, CancellationToken ct)
    {
        var (httpStatus, grpcStatus) = CaErrorMap.For(code);
        response.StatusCode = httpStatus;
        if (CaErrorMap.RetryAfterSeconds(code) is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(response.Body);
        writer.WriteStartObject();
        writer.WriteNumber("code", (int)grpcStatus);
        writer.WriteString("message", message);
        writer.WriteStartArray("details");
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(ct);
    }

    public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext.Response, code, message, httpContext.RequestAborted);

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(void), ["application/json"]));
}
