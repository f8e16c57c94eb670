using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.CertificateTransparency;
using TransparencyLog.Hosting;

namespace TransparencyLog.CaService.Issuance;

/// <summary>
/// The CA's readiness checks (<c>/readyz</c>, and the gRPC health service through the same health checks): the CA key
/// and chain are loaded, and the CT log the CA submits every precertificate to answers.
/// </summary>
internal static class IssuanceReadiness
{
    public static IHealthChecksBuilder AddIssuanceReadiness(this IHealthChecksBuilder health) => health
        .AddCheck<IssuerHealthCheck>(IssuerHealthCheck.Name, tags: [ServiceDefaults.ReadyTag])
        .AddCheck<CtLogHealthCheck>("ct-log", tags: [ServiceDefaults.ReadyTag]);

    /// <summary>
    /// Healthy when no CT log is configured, or when its <c>get-sth</c> answers 200 within the CT timeout: without it
    /// every signing request would fail, since no certificate is issued without an SCT.
    /// </summary>
    private sealed class CtLogHealthCheck(IHttpClientFactory clients, IOptions<IssuanceOptions> options) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(options.Value.CtLogUrl))
            {
                return HealthCheckResult.Healthy("no CT log configured");
            }

            var sth = new Uri(new Uri(options.Value.CtLogUrl.TrimEnd('/') + "/", UriKind.Absolute), "ct/v1/get-sth");
            try
            {
                using var response = await clients.CreateClient(CtLogClient.HttpClientName).GetAsync(sth, cancellationToken);
                return response.IsSuccessStatusCode
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"the CT log answered get-sth with HTTP {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return HealthCheckResult.Unhealthy("the CT log is unreachable");
            }
        }
    }
}
