using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.Sigstore.Http;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>The timestamp authority feature: <c>builder.AddTimestamping()</c> and <c>app.MapTimestamping()</c>.</summary>
public static class TimestampingEndpoints
{
    public const string TimestampQueryMediaType = "application/timestamp-query";
    public const string TimestampReplyMediaType = "application/timestamp-reply";
    public const string CertificateChainMediaType = "application/pem-certificate-chain";

    /// <summary>
    /// Binds <see cref="TimestampingOptions"/> from the <c>Timestamping</c> section (validated on start), registers the
    /// configured signer backend and the timestamp authority, and loads and checks the TSA chain and key at start-up.
    /// </summary>
    public static IHostApplicationBuilder AddTimestamping(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<TimestampingOptions>()
            .BindConfiguration(TimestampingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TimestampingOptions>, TimestampingOptionsValidator>());
        services.AddSingleton(CreateSigner);
        services.AddSingleton<TimestampAuthority>();

        // Resolving the authority loads and validates the chain and key, so a bad configuration stops start-up
        // rather than failing the first request.
        services.AddHostedService<TimestampAuthorityStartup>();
        return builder;
    }

    /// <summary>Maps <c>POST /api/v1/timestamp</c> and <c>GET /api/v1/timestamp/certchain</c>.</summary>
    public static IEndpointRouteBuilder MapTimestamping(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/timestamp", IssueAsync);
        app.MapGet("/api/v1/timestamp/certchain", GetCertificateChain);
        return app;
    }

    private static async Task<Results<FileContentHttpResult, JsonHttpResult<TimestampError>>> IssueAsync(
        HttpRequest request,
        TimestampAuthority authority,
        IOptions<TimestampingOptions> options,
        ILogger<TimestampAuthority> logger,
        CancellationToken cancellationToken)
    {
        // One media-type parse: parameters are ignored and nothing is split on attacker-chosen separators
        // (GHSA-4qg8-fj49-pxjh). A missing or unparsable header (a repeated one joins with ',') is a 415.
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType);
        var isJson = mediaType?.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) == true;
        if (!isJson && mediaType?.MediaType.Equals(TimestampQueryMediaType, StringComparison.OrdinalIgnoreCase) != true)
        {
            return Error(logger, StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type must be {TimestampQueryMediaType} or application/json");
        }

        var limit = isJson ? options.Value.MaxJsonRequestBytes : options.Value.MaxRequestBytes;
        var body = await ReadBoundedAsync(request, limit, cancellationToken);
        if (body is null)
        {
            // The JSON cap is part of the JSON contract (TSA #1402), so it is a bad request; the overall cap is a
            // transport limit.
            return isJson
                ? Error(logger, StatusCodes.Status400BadRequest, $"JSON request body is larger than {limit} bytes")
                : Error(logger, StatusCodes.Status413PayloadTooLarge, $"request body is larger than {limit} bytes");
        }

        try
        {
            var timestampRequest = isJson ? TimestampRequestReader.ReadJson(body) : TimestampRequestReader.ReadDer(body);
            var reply = await authority.IssueAsync(timestampRequest, cancellationToken);
            LogServiceMetrics.Timestamps.WithLabels("issued").Inc();
            return TypedResults.Bytes(reply, TimestampReplyMediaType);
        }
        catch (TimestampRequestException e)
        {
            return Error(logger, StatusCodes.Status400BadRequest, e.Message);
        }
    }

    private static FileContentHttpResult GetCertificateChain(TimestampAuthority authority) =>
        TypedResults.Bytes(System.Text.Encoding.ASCII.GetBytes(authority.CertificateChainPem), CertificateChainMediaType);

    private static JsonHttpResult<TimestampError> Error(ILogger logger, int status, string message)
    {
        Log.TimestampRejected(logger, status, message);
        LogServiceMetrics.Timestamps.WithLabels("rejected").Inc();
        return TypedResults.Json(new TimestampError(status, message), statusCode: status);
    }

    /// <summary>Reads the body, or returns null as soon as it exceeds <paramref name="limit"/> bytes.</summary>
    private static Task<byte[]?> ReadBoundedAsync(HttpRequest request, int limit, CancellationToken cancellationToken) =>
        BoundedBody.ReadAsync(request.Body, request.ContentLength, limit, cancellationToken);

    private static TimestampSigner CreateSigner(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<TimestampingOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("TransparencyLog.LogService.Timestamping");
        if (!string.Equals(options.Backend, TimestampingBackends.File, StringComparison.OrdinalIgnoreCase))
        {
            return DevelopmentTsaCertificates.LoadOrCreate(options.Development.StateDirectory, time, logger);
        }

        // The options validator has required both paths for the file backend.
        var chainPath = options.CertificateChainPath ?? throw new InvalidOperationException("Timestamping:CertificateChainPath is not set.");
        var keyPath = options.PrivateKeyPath ?? throw new InvalidOperationException("Timestamping:PrivateKeyPath is not set.");
        var password = ReadPassword(options);
        return TsaKeyFiles.Load(chainPath, keyPath, password, password is not null, time.GetUtcNow());
    }

    private static string? ReadPassword(TimestampingOptions options)
    {
        if (options.PrivateKeyPasswordFile is { } file)
        {
            try
            {
                return File.ReadAllText(file).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Timestamping: the private key password file '{file}' cannot be read ({e.GetType().Name}).");
            }
        }

        if (options.PrivateKeyPasswordEnvironmentVariable is { } variable)
        {
            return Environment.GetEnvironmentVariable(variable)
                ?? throw new InvalidOperationException($"Timestamping: the environment variable '{variable}' holding the private key password is not set.");
        }

        return null;
    }
}

/// <summary>Error body of the timestamp API, as sigstore/timestamp-authority returns it.</summary>
internal sealed record TimestampError(int Code, string Message);

/// <summary>Loads the signer when the host starts and reports which certificate signs.</summary>
internal sealed class TimestampAuthorityStartup(TimestampAuthority authority, IOptions<TimestampingOptions> options, ILogger<TimestampAuthority> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var certificate = authority.Certificate;
        Log.SignerReady(logger, options.Value.Backend, certificate.Subject, certificate.SerialNumber, certificate.NotAfter.ToUniversalTime());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
