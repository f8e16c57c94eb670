using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Prometheus;
using TransparencyLog.Witness.Cosigning;

namespace TransparencyLog.Witness.Checkpoints;

/// <summary><c>POST /add-checkpoint</c> (c2sp.org/tlog-witness), and the one place witness errors become HTTP statuses.</summary>
internal static class AddCheckpointEndpoint
{
    public const string Path = "/add-checkpoint";

    /// <summary>The content type of a 409 answer: the size the witness last cosigned, for the log to prove from.</summary>
    public const string SizeContentType = "text/x.tlog.size";

    private static readonly Counter Requests = Metrics.CreateCounter(
        "tlog_witness_add_checkpoint_total", "add-checkpoint requests by log origin and answer (cosigned, or the refusal's code).", "origin", "result");

    public static IHostApplicationBuilder AddCheckpoints(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WitnessedLogs>();
        builder.Services.AddScoped<CheckpointWitness>();
        return builder;
    }

    public static IEndpointRouteBuilder MapCheckpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, AddCheckpointAsync)
            .WithName("addCheckpoint")
            .WithTags("witness")
            .WithSummary("Cosign a checkpoint (c2sp.org/tlog-witness)")
            .WithDescription("Body: `old <size>`, the consistency proof from that size (base64 hashes, one per line), an empty line, the log-signed checkpoint. 200: the witness's cosignature/v1 line. 409 (`text/x.tlog.size`): the size to prove from. 422: bad proof or another root for a cosigned size. 403: no valid log signature. 404: unknown log. 429: rate limited.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<string>(StatusCodes.Status400BadRequest, "text/plain")
            .Produces<string>(StatusCodes.Status403Forbidden, "text/plain")
            .Produces<string>(StatusCodes.Status404NotFound, "text/plain")
            .Produces<string>(StatusCodes.Status409Conflict, SizeContentType)
            .Produces<string>(StatusCodes.Status413PayloadTooLarge, "text/plain")
            .Produces<string>(StatusCodes.Status422UnprocessableEntity, "text/plain")
            .Produces<string>(StatusCodes.Status429TooManyRequests, "text/plain")
            .DisableAntiforgery();
        return app;
    }

    private static async Task<ContentHttpResult> AddCheckpointAsync(
        HttpContext context, CheckpointWitness witness, WitnessedLogs logs, IOptions<WitnessOptions> options, CancellationToken cancellationToken)
    {
        try
        {
            return await AnswerAsync(context, witness, logs, options, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The log gave up waiting (its own timeout) and closed the request: nobody reads this answer, and nothing
            // failed here (the state moves only by compare-and-swap), so it is not an error worth a stack trace.
            return TypedResults.Text("", "text/plain; charset=utf-8", statusCode: StatusCodes.Status499ClientClosedRequest);
        }
        catch (BadHttpRequestException e)
        {
            // The body ended early (the client went away mid-send) or was malformed at the HTTP level.
            return TypedResults.Text($"{Code(WitnessError.MalformedRequest)}: {e.Message}\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<ContentHttpResult> AnswerAsync(
        HttpContext context, CheckpointWitness witness, WitnessedLogs logs, IOptions<WitnessOptions> options, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(context.Request, options.Value.MaxRequestBytes, cancellationToken);
        var result = body is null
            ? WitnessResult.Refused(WitnessError.TooLarge, $"the body exceeds {options.Value.MaxRequestBytes} bytes")
            : await witness.AddCheckpointAsync(body, cancellationToken);
        Requests.WithLabels(OriginLabel(body, logs), result.Error is { } e ? Code(e) : "cosigned").Inc();
        if (result.CosignatureLine is { } line)
        {
            return TypedResults.Text(line, "text/plain; charset=utf-8", statusCode: StatusCodes.Status200OK);
        }

        var error = result.Error ?? WitnessError.MalformedRequest;
        if (error == WitnessError.StaleOldSize)
        {
            return TypedResults.Text(result.CurrentSize.ToString(CultureInfo.InvariantCulture) + "\n", SizeContentType, statusCode: StatusCodes.Status409Conflict);
        }

        if (error == WitnessError.RateLimited)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        return TypedResults.Text($"{Code(error)}: {result.Message}\n", "text/plain; charset=utf-8", statusCode: Status(error));
    }

    private static int Status(WitnessError error) => error switch
    {
        WitnessError.MalformedRequest => StatusCodes.Status400BadRequest,
        WitnessError.TooLarge => StatusCodes.Status413PayloadTooLarge,
        WitnessError.UnknownLog => StatusCodes.Status404NotFound,
        WitnessError.BadSignature => StatusCodes.Status403Forbidden,
        WitnessError.StaleOldSize => StatusCodes.Status409Conflict,
        WitnessError.InconsistentCheckpoint => StatusCodes.Status422UnprocessableEntity,
        WitnessError.RateLimited => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>Stable codes, the first word of every refusal body.</summary>
    private static string Code(WitnessError error) => error switch
    {
        WitnessError.MalformedRequest => "malformed_request",
        WitnessError.TooLarge => "request_too_large",
        WitnessError.UnknownLog => "unknown_log",
        WitnessError.BadSignature => "bad_signature",
        WitnessError.StaleOldSize => "stale_old_size",
        WitnessError.InconsistentCheckpoint => "inconsistent_checkpoint",
        WitnessError.RateLimited => "rate_limited",
        _ => "malformed_request",
    };

    /// <summary>The origin line, for metrics only when it names a configured log (unknown origins are one label, so
    /// strangers cannot grow the series without bound).</summary>
    private static string OriginLabel(byte[]? body, WitnessedLogs logs)
    {
        if (body is null)
        {
            return "unknown";
        }

        var text = System.Text.Encoding.UTF8.GetString(body);
        var start = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (start < 0)
        {
            return "unknown";
        }

        var end = text.IndexOf('\n', start + 2);
        return end >= 0 && logs.Find(text[(start + 2)..end]) is { } log ? log.Origin : "unknown";
    }

    /// <summary>The body, or null once it exceeds <paramref name="limit"/> (checked before anything parses it).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
