using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Api;

/// <summary>Fulcio's v2 REST API (the grpc-gateway mapping of fulcio.proto) on the REST port.</summary>
internal static class CaRestApi
{
    public static IEndpointRouteBuilder MapCaRestApi(this IEndpointRouteBuilder app)
    {
        var rest = app.MapGroup("").OnTransport(CaTransport.Rest);
        var api = rest.MapGroup("/api/v2");
        api.MapPost("/signingCert", CreateSigningCertificateAsync).RequireRateLimiting(CaApiExtensions.PerAddressPolicy);
        api.MapGet("/trustBundle", (FulcioApi fulcio) => new ProtoJsonResult(fulcio.GetTrustBundle(), StatusCodes.Status200OK));
        api.MapGet("/configuration", (FulcioApi fulcio) => new ProtoJsonResult(fulcio.GetConfiguration(), StatusCodes.Status200OK));
        return app;
    }

    private static async Task<Results<ProtoJsonResult, CaErrorResult>> CreateSigningCertificateAsync(
        HttpRequest request, FulcioApi fulcio, IOptions<ApiOptions> options, CancellationToken ct)
    {
        try
        {
            var body = await ReadBoundedAsync(request, options.Value.MaxRequestBodyBytes, ct);
            CreateSigningCertificateRequest message;
            try
            {
                // Every sigstore client's body takes the one-pass reader; any other shape the general parse decides.
                message = SigningRequestReader.TryRead(body) ?? ProtoJson.Parse<CreateSigningCertificateRequest>(body);
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or System.Text.Json.JsonException or FormatException)
            {
                throw new CaException(CaErrorCode.InvalidRequest, "the request body is not a valid CreateSigningCertificateRequest JSON object");
            }

            var certificate = await fulcio.CreateSigningCertificateAsync(message, request.Headers.Authorization, "rest", ct);
            // Fulcio answers 201 Created; sigstore clients accept any 2xx.
            return new ProtoJsonResult(certificate, StatusCodes.Status201Created);
        }
        catch (CaException e)
        {
            return CaErrorResult.From(e);
        }
    }

    /// <summary>Reads the body, refusing it as soon as it exceeds <paramref name="limit"/> (before any parsing).</summary>
    internal static async Task<byte[]> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            if (read.Buffer.Length > limit)
            {
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                throw TooLarge(limit);
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                var bytes = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return bytes;
            }

            // Nothing consumed, everything examined: the next read returns the buffer plus new data.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static CaException TooLarge(int limit) =>
        new(CaErrorCode.RequestTooLarge, $"the request body is larger than {limit} bytes");
}
