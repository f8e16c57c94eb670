using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TransparencyLog.Hosting;
using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.LogService.Tuf;

/// <summary>An error of the TUF endpoints: a stable code and a message (never a secret or an exception text).</summary>
internal sealed record TufProblem(string Code, string Message);

/// <summary>
/// The TUF repository over HTTP: <c>GET /tuf/N.root.json</c> (every version; 404 for the next one),
/// <c>root.json</c>, <c>timestamp.json</c> (never cached), <c>N.snapshot.json</c>, <c>N.targets.json</c>,
/// <c>targets/&lt;sha256&gt;.&lt;name&gt;</c> (immutable), and <c>POST /tuf/admin/publish</c> for key holders.
/// </summary>
internal static partial class TufEndpoints
{
    private const string Immutable = "public, max-age=31536000, immutable";

    public static IHostApplicationBuilder AddTuf(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TufOptions>().BindConfiguration(TufOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(TufOptions.Section).Get<TufOptions>() ?? new TufOptions();
        if (!options.Enabled)
        {
            return builder;
        }

        builder.Services.AddPooledDbContextFactory<TufDbContext>((services, db) =>
            db.UseNpgsql(services.GetRequiredService<IOptions<StorageOptions>>().Value.EffectiveConnectionString()));
        builder.Services.AddSingleton<TufOnlineKey>();
        builder.Services.AddSingleton<TufRepository>();
        builder.Services.AddHostedService<TufOnlineSigner>();
        builder.Services.AddApiDescriptions(TufApiDescriptions.Operations);
        return builder;
    }

    public static IEndpointRouteBuilder MapTuf(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<TufOptions>>().Value.Enabled)
        {
            return app;
        }

        // Fail at start-up, not at the first request, when the online key is unusable.
        _ = app.ServiceProvider.GetRequiredService<TufOnlineKey>();
        var tuf = app.MapGroup("/tuf").AnswerStorageOutage(static (status, message) => TypedResults.Json(new TufProblem("unavailable", message), statusCode: status));
        tuf.MapGet("/{file}", GetMetadataAsync);
        tuf.MapGet("/targets/{file}", GetTargetAsync);
        tuf.MapPost("/admin/publish", PublishAsync);
        return app;
    }

    private static async Task<Results<FileContentHttpResult, NotFound>> GetMetadataAsync(string file, HttpContext context, TufRepository repository)
    {
        var match = MetadataName().Match(file);
        if (!match.Success)
        {
            return TypedResults.NotFound();
        }

        var role = match.Groups["role"].Value;
        long? version = null;
        if (match.Groups["version"].Success)
        {
            if (!long.TryParse(match.Groups["version"].ValueSpan, out var v))
            {
                return TypedResults.NotFound();
            }

            version = v;
        }
        else if (role is not (TufMetadata.Root or TufMetadata.Timestamp))
        {
            // With consistent snapshots only root.json and timestamp.json have plain names.
            return TypedResults.NotFound();
        }

        var row = await repository.GetMetadataAsync(role, version, context.RequestAborted);
        if (row is null)
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.CacheControl = version is null ? "no-store" : Immutable;
        return TypedResults.File(row.Bytes, "application/json");
    }

    private static async Task<Results<FileContentHttpResult, NotFound>> GetTargetAsync(string file, HttpContext context, TufRepository repository)
    {
        if (file.Length < 66 || file[64] != '.' || file.AsSpan(0, 64).ContainsAnyExcept("0123456789abcdef"))
        {
            return TypedResults.NotFound();
        }

        var sha = Convert.FromHexString(file.AsSpan(0, 64));
        var row = await repository.GetTargetAsync(sha, file[65..], context.RequestAborted);
        if (row is null)
        {
            return TypedResults.NotFound();
        }

        context.Response.Headers.CacheControl = Immutable;
        return TypedResults.File(row.Bytes, "application/octet-stream");
    }

    private static async Task<Results<Ok<TufPublishResult>, BadRequest<TufProblem>, UnauthorizedHttpResult, JsonHttpResult<TufProblem>, UnprocessableEntity<TufProblem>>> PublishAsync(
        HttpContext context, TufRepository repository, IOptions<TufOptions> options)
    {
        if (!IsAuthorized(context.Request, options.Value))
        {
            return TypedResults.Unauthorized();
        }

        TufPublishRequest request;
        try
        {
            var body = await RequestBodies.ReadAsync(context.Request, options.Value.MaxPublishBytes, context.RequestAborted);
            request = ParseRequest(body);
        }
        catch (RequestTooLargeException e)
        {
            return TypedResults.Json(new TufProblem("too_large", e.Message), statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return TypedResults.BadRequest(new TufProblem("bad_request", "the body must be {\"root\"?: base64, \"targets\"?: base64, \"files\"?: {name: base64}}"));
        }

        try
        {
            return TypedResults.Ok(await repository.PublishAsync(request, context.RequestAborted));
        }
        catch (TufException e)
        {
            return TypedResults.UnprocessableEntity(new TufProblem(e.Code, e.Message));
        }
        catch (DbUpdateException)
        {
            // Another publish won the race for this version between our read and our commit (the primary key held).
            return TypedResults.UnprocessableEntity(new TufProblem("bad_version", "another publish took this version; refresh and retry"));
        }
    }

    private static bool IsAuthorized(HttpRequest request, TufOptions options)
    {
        if (string.IsNullOrEmpty(options.AdminTokenFile))
        {
            return false;
        }

        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length > 1024)
        {
            return false;
        }

        var expected = File.ReadAllText(options.AdminTokenFile).Trim();
        return expected.Length >= 16 && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim())),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }

    private static TufPublishRequest ParseRequest(byte[] body)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("not an object");
        }

        byte[]? Optional(string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetBytesFromBase64() : null;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (root.TryGetProperty("files", out var filesNode) && filesNode.ValueKind != JsonValueKind.Null)
        {
            foreach (var property in filesNode.EnumerateObject())
            {
                if (!files.TryAdd(property.Name, property.Value.GetBytesFromBase64()))
                {
                    throw new FormatException("duplicate file");
                }
            }
        }

        return new TufPublishRequest(Optional("root"), Optional("targets"), files);
    }

    [GeneratedRegex(@"^(?:(?<version>[1-9][0-9]{0,17})\.)?(?<role>root|targets|snapshot|timestamp)\.json$")]
    private static partial Regex MetadataName();
}

/// <summary>Keeps <c>timestamp.json</c> (and the snapshot) fresh: checks every <c>Tuf:CheckIntervalSeconds</c>.</summary>
internal sealed partial class TufOnlineSigner(
    TufRepository repository, Hosting.LogOpening opening, IOptions<TufOptions> options, TimeProvider time, ILogger<TufOnlineSigner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not before PostgreSQL has answered once: an unreachable database at start-up is logged once, by LogOpening.
        await opening.WhenOpenAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.CheckIntervalSeconds), time);
        do
        {
            try
            {
                await repository.RefreshOnlineRolesAsync(stoppingToken);
            }
            catch (Exception e) when (e is TufException or DbUpdateException or Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // Retried at the next tick; the served timestamp stays valid for days.
                Log.RefreshFailed(logger, e.GetType().Name, e is TufException ? e.Message : "storage error");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "TUF online roles not re-signed ({Kind}: {Reason}); retrying at the next check")]
        public static partial void RefreshFailed(ILogger logger, string kind, string reason);
    }
}
