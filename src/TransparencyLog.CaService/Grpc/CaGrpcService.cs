using Grpc.Core;
using Microsoft.AspNetCore.RateLimiting;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Grpc;

/// <summary>
/// The gRPC service <c>dev.sigstore.fulcio.v2.CA</c> (generated from proto/fulcio.proto). Each RPC calls the same
/// <see cref="FulcioApi"/> as REST; a <see cref="Errors.CaException"/> becomes a gRPC status in
/// <see cref="CaErrorInterceptor"/>.
/// </summary>
internal sealed class CaGrpcService(FulcioApi fulcio) : CA.CABase
{
    /// <summary>The service's path prefix (<c>/package.Service</c>).</summary>
    public const string ServicePath = "/dev.sigstore.fulcio.v2.CA";

    [EnableRateLimiting(CaApiExtensions.PerAddressPolicy)]
    public override Task<SigningCertificate> CreateSigningCertificate(CreateSigningCertificateRequest request, ServerCallContext context) =>
        fulcio.CreateSigningCertificateAsync(request, context.RequestHeaders.GetValue("authorization"), "grpc", context.CancellationToken);

    public override Task<TrustBundle> GetTrustBundle(GetTrustBundleRequest request, ServerCallContext context) =>
        Task.FromResult(fulcio.GetTrustBundle());

    public override Task<Configuration> GetConfiguration(GetConfigurationRequest request, ServerCallContext context) =>
        Task.FromResult(fulcio.GetConfiguration());
}
