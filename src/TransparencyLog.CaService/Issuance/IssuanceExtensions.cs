using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.CertificateTransparency;

namespace TransparencyLog.CaService.Issuance;

/// <summary>Registers certificate issuance: options (section <c>Issuance</c>), the CA backend, the CT log client.</summary>
internal static class IssuanceExtensions
{
    public static IHostApplicationBuilder AddIssuance(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<IssuanceOptions>()
            .BindConfiguration(IssuanceOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IssuanceOptions>, IssuanceOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<CaSigner>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<IssuanceOptions>>().Value;
            var now = provider.GetRequiredService<TimeProvider>().GetUtcNow();
            return options.Backend == CaBackend.Ephemeral
                ? EphemeralCaBackend.Create(options, now)
                : FileCaBackend.Load(options, now);
        });
        services.AddHttpClient(CtLogClient.HttpClientName, (provider, client) =>
            // Each attempt's timeout and the total budget are the CT client's retry pipeline's; this is only a backstop.
            client.Timeout = provider.GetRequiredService<IOptions<IssuanceOptions>>().Value.CtLogRetryBudget + TimeSpan.FromSeconds(5))
            // IHttpClientFactory's logging handlers open a logging scope and write Information and Trace events per
            // submission, which the services' System.Net.Http.HttpClient override (Warning) drops anyway; CtLogClient
            // logs the failures that matter itself.
            .RemoveAllLoggers();
        services.AddSingleton<CtLogClient>();
        services.AddSingleton<CertificateIssuer>();
        services.AddHostedService<IssuanceStartupCheck>();
        return builder;
    }
}

/// <summary>
/// Builds the issuer while the host starts, so a bad CA chain, key, password or CT log key stops the service with
/// its message instead of failing the first signing request.
/// </summary>
internal sealed class IssuanceStartupCheck(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<CertificateIssuer>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
