using Microsoft.Extensions.Options;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Witness.Cosigning;

/// <summary>The witness's cosigning key and the route that publishes its verifier key.</summary>
internal static class CosigningEndpoints
{
    public static IHostApplicationBuilder AddCosigning(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WitnessOptions>().BindConfiguration(WitnessOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<WitnessOptions>>().Value;
            return new Cosigner(options.Name, WitnessKey.Load(options));
        });
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static IEndpointRouteBuilder MapCosigning(this IEndpointRouteBuilder app)
    {
        app.MapGet("/verifier-key", (Cosigner cosigner) => TypedResults.Text(cosigner.VerifierKey + "\n"))
            .WithName("witnessVerifierKey")
            .WithTags("witness")
            .WithSummary("The witness's C2SP verifier key")
            .WithDescription("`name+keyid+base64(0x04 ‖ Ed25519 key)`: what a witness policy's `witness` line names.");
        return app;
    }
}
