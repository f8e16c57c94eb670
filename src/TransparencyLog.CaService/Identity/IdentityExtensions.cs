using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace TransparencyLog.CaService.Identity;

internal static class IdentityExtensions
{
    /// <summary>Trusted issuers, token verification and the discovery HTTP client.</summary>
    public static IHostApplicationBuilder AddIdentity(this IHostApplicationBuilder builder)
    {
        // With this switch a refresh requested for an unknown kid is fetched by the next GetConfigurationAsync call
        // instead of in the background, so the retry in TokenVerifier sees the new keys (Fulcio refetches inline).
        AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);

        builder.Services.AddOptions<IdentityOptions>()
            .BindConfiguration(IdentityOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IssuerPool>();
        builder.Services.AddSingleton<IssuerKeys>();
        builder.Services.AddSingleton<TokenVerifier>();
        builder.Services.AddHostedService<IssuerReloader>();

        builder.Services.AddTransient<SameHostRedirectHandler>();
        builder.Services.AddHttpClient(IssuerKeys.HttpClientName, (services, client) =>
            {
                client.Timeout = services.GetRequiredService<IOptions<IdentityOptions>>().Value.DiscoveryTimeout;
                client.MaxResponseContentBufferSize = 1024 * 1024;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            .AddHttpMessageHandler<SameHostRedirectHandler>();
        return builder;
    }

    /// <summary>Validates every issuer (and reads the issuer files) at start-up, reporting all problems at once.</summary>
    private sealed class IdentityOptionsValidator : IValidateOptions<IdentityOptions>
    {
        public ValidateOptionsResult Validate(string? name, IdentityOptions options)
        {
            var (_, errors) = IssuerPool.Load(options);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
