namespace TransparencyLog.LogService.Witnessing;

/// <summary>Registers <see cref="CheckpointWitnessing"/> and <see cref="CosignedCheckpoints"/> (no-ops until <c>Witnessing:PolicyFile</c> is set).</summary>
internal static class WitnessingHosting
{
    public static IHostApplicationBuilder AddWitnessing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WitnessingOptions>().BindConfiguration(WitnessingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CheckpointWitnessing>();
        builder.Services.AddSingleton<CosignedCheckpoints>();
        return builder;
    }
}
