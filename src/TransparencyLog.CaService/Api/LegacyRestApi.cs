using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// Fulcio's v1 ("legacy") REST API, which skopeo, podman and older cosign speak: <c>POST /api/v1/signingCert</c> and
/// <c>GET /api/v1/rootCert</c>. Fulcio serves it by translating into the v2 request; so does this, so both APIs
/// share one issuance path and one error vocabulary (<see cref="FulcioApi"/>, <see cref="CaErrorMap"/>).
/// </summary>
internal static class LegacyRestApi
{
    /// <summary>The response type of both v1 routes: PEM certificates, leaf first, concatenated.</summary>
    public const string PemCertificateChain = "application/pem-certificate-chain";

    public static IEndpointRouteBuilder MapLegacyRestApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").OnTransport(CaTransport.Rest).WithTags("Fulcio v1 (legacy)");
        api.MapPost("/signingCert", CreateSigningCertificateAsync)
            .RequireRateLimiting(CaApiExtensions.PerAddressPolicy)
            .WithName("LegacyCA_CreateSigningCertificate")
            .WithSummary("Issue a code-signing certificate (Fulcio v1 API)")
            .WithDescription(
                "Body {\"publicKey\":{\"content\":base64 DER or PEM SubjectPublicKeyInfo,\"algorithm\":\"ecdsa\"},\"signedEmailAddress\":" +
                "base64 signature over the token's email (else subject)} or {\"certificateSigningRequest\": base64 PEM or DER CSR}; the identity " +
                "token as 'Authorization: Bearer'. Answers 201 with the PEM chain (leaf first) and the detached SCT, base64, in the SCT header " +
                "(empty when the SCT is embedded).")
            .Accepts<LegacyCertificateRequest>("application/json")
            .Produces<string>(StatusCodes.Status201Created, PemCertificateChain)
            .Produces(StatusCodes.Status400BadRequest, contentType: "application/json")
            .Produces(StatusCodes.Status403Forbidden, contentType: "application/json")
            .Produces(StatusCodes.Status413PayloadTooLarge, contentType: "application/json")
            .Produces(StatusCodes.Status415UnsupportedMediaType)
            .Produces(StatusCodes.Status429TooManyRequests, contentType: "application/json")
            .Produces(StatusCodes.Status500InternalServerError, contentType: "application/json")
            .Produces(StatusCodes.Status503ServiceUnavailable, contentType: "application/json");
        api.MapGet("/rootCert", GetRootCertificate)
            .WithName("LegacyCA_GetRootCertificate")
            .WithSummary("The CA certificate chain (Fulcio v1 API)")
            .WithDescription("Every chain of the trust bundle, PEM, concatenated: intermediates then the root.")
            .Produces<string>(StatusCodes.Status200OK, PemCertificateChain);
        return app;
    }

    private static async Task<Results<PemChainResult, CaErrorResult>> CreateSigningCertificateAsync(
        HttpRequest request, FulcioApi fulcio, IOptions<ApiOptions> options, CancellationToken ct)
    {
        try
        {
            var body = await CaRestApi.ReadBoundedAsync(request, options.Value.MaxRequestBodyBytes, ct);
            var v2Request = ToV2Request(Parse(body));
            var certificate = await fulcio.CreateSigningCertificateAsync(v2Request, request.Headers.Authorization, "rest-v1", ct);
            var (chain, sct) = certificate.CertificateCase == SigningCertificate.CertificateOneofCase.SignedCertificateDetachedSct
                ? (certificate.SignedCertificateDetachedSct.Chain, certificate.SignedCertificateDetachedSct.SignedCertificateTimestamp.ToByteArray())
                : (certificate.SignedCertificateEmbeddedSct.Chain, []);
            return new PemChainResult(string.Concat(chain.Certificates), StatusCodes.Status201Created, Convert.ToBase64String(sct));
        }
        catch (CaException e)
        {
            return CaErrorResult.From(e);
        }
    }

    private static PemChainResult GetRootCertificate(FulcioApi fulcio) =>
        new(string.Concat(fulcio.GetTrustBundle().Chains.SelectMany(static c => c.Certificates)), StatusCodes.Status200OK, null);

    /// <summary>
    /// The v1 body as Go's <c>encoding/json</c> writes it from Fulcio's client structs: byte fields are base64, an
    /// unset one is <c>null</c>, and field names match case-insensitively.
    /// </summary>
    private static LegacyCertificateRequest Parse(byte[] body)
    {
        try
        {
            var parsed = JsonSerializer.Deserialize(body, LegacyJsonContext.Default.LegacyCertificateRequest);
            return parsed ?? throw Invalid();
        }
        catch (Exception e) when (e is JsonException or FormatException or DecoderFallbackException)
        {
            throw Invalid();
        }
    }

    private static CreateSigningCertificateRequest ToV2Request(LegacyCertificateRequest legacy)
    {
        if (legacy.CertificateSigningRequest is { Length: > 0 } csr)
        {
            return new CreateSigningCertificateRequest { CertificateSigningRequest = ByteString.CopyFrom(csr) };
        }

        if (legacy.PublicKey?.Content is not { Length: > 0 } content)
        {
            throw new CaException(CaErrorCode.InvalidRequest, "the request has neither publicKey.content nor certificateSigningRequest");
        }

        // Fulcio hands the bytes on as the v2 key content, which it reads as PEM or else DER; the v2 parser here
        // takes PEM or base64 DER, so DER is re-encoded rather than parsed twice.
        var pem = content.AsSpan().StartsWith("-----BEGIN"u8);
        return new CreateSigningCertificateRequest
        {
            PublicKeyRequest = new PublicKeyRequest
            {
                PublicKey = new PublicKey { Content = pem ? Encoding.UTF8.GetString(content) : Convert.ToBase64String(content) },
                ProofOfPossession = ByteString.CopyFrom(legacy.SignedEmailAddress ?? []),
            },
        };
    }

    private static CaException Invalid() =>
        new(CaErrorCode.InvalidRequest, "the request body is not a valid Fulcio v1 CertificateRequest JSON object");
}

/// <summary>Fulcio v1 <c>CertificateRequest</c> (sigstore/fulcio pkg/api/client.go): byte fields as base64.</summary>
internal sealed record LegacyCertificateRequest(
    LegacyPublicKey? PublicKey,
    byte[]? SignedEmailAddress,
    byte[]? CertificateSigningRequest);

/// <summary>Fulcio v1 <c>Key</c>: the key bytes (DER or PEM) and an informational algorithm name ("ecdsa").</summary>
internal sealed record LegacyPublicKey(byte[]? Content, string? Algorithm);

/// <summary>A PEM certificate chain, as Fulcio's v1 API answers, with the detached SCT header when issuing.</summary>
internal sealed class PemChainResult(string pemChain, int statusCode, string? sctHeader) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult
{
    public int? StatusCode => statusCode;

    public string ContentType => LegacyRestApi.PemCertificateChain;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = ContentType;
        if (sctHeader is not null)
        {
            // Fulcio always sends it; its Go client base64-decodes it unconditionally (empty decodes to nothing).
            httpContext.Response.Headers["SCT"] = sctHeader;
        }

        await httpContext.Response.WriteAsync(pemChain, httpContext.RequestAborted);
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, MaxDepth = 8)]
[System.Text.Json.Serialization.JsonSerializable(typeof(LegacyCertificateRequest))]
internal sealed partial class LegacyJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
