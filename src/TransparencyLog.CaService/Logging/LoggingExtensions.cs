using Serilog;

namespace TransparencyLog.CaService.Logging;

internal static class LoggingExtensions
{
    /// <summary>Serilog as the only logging sink, configured from the <c>Serilog</c> section.</summary>
    public static IHostApplicationBuilder AddCaLogging(this IHostApplicationBuilder builder)
    {
        var logger = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .CreateLogger();
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);
        return builder;
    }
}
