using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TransparencyLog.CaService.Issuance;

/// <summary>Healthy once the certificate issuer (CA chain, signing key, CT log key) has been built.</summary>
internal sealed class IssuerHealthCheck(IServiceProvider services) : IHealthCheck
{
    public const string Name = "ca-issuer";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var issuer = services.GetRequiredService<CertificateIssuer>();
        return Task.FromResult(issuer.TrustBundle.Count > 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("the CA has no certificate chain"));
    }
}
