using TransparencyLog.Hosting;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// The OpenAPI description of the CA's REST routes: Fulcio v2's grpc-gateway mapping of fulcio.proto, with
/// Fulcio's operation ids (<c>CA_CreateSigningCertificate</c>, ...). gRPC methods are not REST routes and stay out.
/// </summary>
internal static class CaApiDescriptions
{
    private const string Json = "application/json";

    public static IHostApplicationBuilder AddCaApiDescriptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddApiDescriptions(Operations);
        return builder;
    }

    private static readonly ApiOperation[] Operations =
    [
        new("POST", "/api/v2/signingCert", "CA_CreateSigningCertificate", "Returns an X.509 certificate created by the Fulcio certificate authority for the given request parameters",
            "Verifies the OIDC identity token (body credentials or Authorization: Bearer), the proof of possession or CSR, applies the issuer's policy and returns the chain with an embedded SCT (or a detached one).",
            [
                new(201, "The signing certificate chain (SigningCertificate, protobuf JSON).", Json),
                new(400, "The request, token, public key, proof of possession or CSR is invalid, or the issuer is not trusted.", Json),
                new(403, "The issuer's policy refuses this identity.", Json),
                new(404, "The route was called on the gRPC port.", null),
                new(413, "The request body is larger than Api:MaxRequestBodyBytes.", Json),
                new(429, "A rate limit for this client address or identity was exceeded; retry later.", Json),
                new(500, "The CA or the CT log failed; no certificate was issued.", Json),
            ]),
        new("GET", "/api/v2/trustBundle", "CA_GetTrustBundle", "Returns the bundle of certificates that can be used to validate code signing certificates issued by this Fulcio instance",
            "The CA chains (TrustBundle, protobuf JSON).",
            [new(200, "The trust bundle.", Json), new(404, "The route was called on the gRPC port.", null)]),
        new("GET", "/api/v2/configuration", "CA_GetConfiguration", "Returns the configuration of supported OIDC issuers, including the required challenge for each issuer",
            "Each configured issuer's URL (or wildcard), audience, challenge claim, type and subject or SPIFFE domain (Configuration, protobuf JSON).",
            [new(200, "The issuer configuration.", Json), new(404, "The route was called on the gRPC port.", null)]),
    ];
}
