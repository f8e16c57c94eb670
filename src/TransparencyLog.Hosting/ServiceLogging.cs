using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Hosting;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace TransparencyLog.Hosting;

/// <summary>The log line format every host writes to standard output.</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per event.</summary>
    Plain,

    /// <summary>One JSON object per line (Serilog's rendered compact format: <c>@t</c>, <c>@m</c>, <c>@l</c>, properties).</summary>
    Json,
}

/// <summary>
/// Serilog for every host: Information and above, <c>Microsoft.AspNetCore</c> and <c>System.Net.Http.HttpClient</c> at
/// Warning (the request log stands for their per-request events), levels and overrides from the <c>Serilog</c> section on top, the console as the one sink, and the
/// format chosen by <c>Serilog:Format</c> (<c>plain</c> or <c>json</c>) or the <c>TLOG_LOG_FORMAT</c> environment
/// variable, which wins.
/// </summary>
public static class ServiceLogging
{
    /// <summary>The environment variable that selects the format for every service at once.</summary>
    public const string FormatVariable = "TLOG_LOG_FORMAT";

    /// <summary>The configuration key that selects the format.</summary>
    public const string FormatKey = "Serilog:Format";

    /// <summary>The log source whose events are Warning and above unless a host's configuration says otherwise.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    /// <summary>IHttpClientFactory's per-request events: Warning and above unless a host's configuration says otherwise.</summary>
    public const string HttpClientSource = "System.Net.Http.HttpClient";

    private const string PlainTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>The format <paramref name="configuration"/> asks for; an unknown name stops the host with its message.</summary>
    public static LogFormat ReadFormat(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = Environment.GetEnvironmentVariable(FormatVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : configuration[FormatKey];
        return name?.Trim().ToUpperInvariant() switch
        {
            null or "" or "PLAIN" => LogFormat.Plain,
            "JSON" => LogFormat.Json,
            _ => throw new InvalidOperationException($"{FormatKey} (or {FormatVariable}) must be 'plain' or 'json', not '{name}'"),
        };
    }

    /// <summary>The Serilog formatter of <paramref name="format"/>.</summary>
    public static ITextFormatter CreateFormatter(LogFormat format) => format == LogFormat.Json
        ? new RenderedCompactJsonFormatter()
        : new MessageTemplateTextFormatter(PlainTemplate, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Serilog as the only logging provider. It is added as a provider (not as the logger factory) so that providers
    /// a test host registers still receive every event with its structured state.
    /// </summary>
    internal static IHostApplicationBuilder AddServiceLogging(this IHostApplicationBuilder builder)
    {
        var format = ReadFormat(builder.Configuration);
        var logger = new LoggerConfiguration()
            // Every host's defaults, before its Serilog section (which may change them): ASP.NET Core writes several
            // Information events per request (hosting, routing, endpoint), where the request log has one line, and
            // IHttpClientFactory four per outgoing request (the webhook's registry reads, the CA's CT submissions).
            .MinimumLevel.Information()
            .MinimumLevel.Override(AspNetCoreSource, LogEventLevel.Warning)
            .MinimumLevel.Override(HttpClientSource, LogEventLevel.Warning)
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console(CreateFormatter(format))
            .CreateLogger();
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);
        // UseSerilogRequestLogging collects properties through the DiagnosticContext and writes with this logger.
        var diagnostics = new DiagnosticContext(logger);
        builder.Services.AddSingleton(diagnostics);
        builder.Services.AddSingleton<IDiagnosticContext>(diagnostics);
        builder.Services.AddSingleton<Serilog.ILogger>(logger);
        return builder;
    }

    /// <summary>
    /// One line per HTTP request: method, route pattern, path, status and elapsed time. Headers, query strings and
    /// bodies are never written, so tokens and passwords sent to the services cannot reach a log line. Probes of the
    /// operational endpoints are logged at Debug.
    /// </summary>
    internal static IApplicationBuilder UseServiceRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
        return app.UseSerilogRequestLogging(options =>
        {
            options.Logger = logger;
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.IncludeQueryInRequestPath = false;
            // 503 is a deliberate answer (storage or the CT log unavailable, with Retry-After) whose cause the service
            // logs once per transition; an error line per request would bury that.
            options.GetLevel = (context, _, exception) => exception is not null
                ? LogEventLevel.Error
                : context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable
                    ? LogEventLevel.Warning
                    : context.Response.StatusCode >= 500
                        ? LogEventLevel.Error
                        : OperationalEndpoints.IsOperational(context.Request.Path) ? LogEventLevel.Debug : LogEventLevel.Information;
            options.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
                {
                    diagnostics.Set("RoutePattern", route);
                }

                diagnostics.Set("Protocol", context.Request.Protocol);
            };
        });
    }
}
