using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Streaming;

/// <summary>
/// <c>GET /api/v1/log/stream?from=INDEX</c>: server-sent events, one <c>entry</c> event per committed Rekor v1 entry in
/// index order, starting at <c>from</c> (or after the <c>Last-Event-ID</c> a reconnecting client sends; without
/// either, at the current tree size). Each event's <c>id</c> is its log index, so a client that resumes from the last id
/// it saw plus one misses and repeats nothing. Entries are read from storage below the committed head, never from
/// the sequencer's memory.
/// </summary>
internal static class EntryStreamApi
{
    private static readonly byte[] s_heartbeat = Encoding.UTF8.GetBytes(": keep-alive\n\n");

    public static IHostApplicationBuilder AddEntryStream(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EntryStreamOptions>().BindConfiguration(EntryStreamOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<HeadWatcher>();
        builder.Services.AddHostedService(static services => services.GetRequiredService<HeadWatcher>());
        builder.Services.AddSingleton(static services => new SubscriberSlots(services.GetRequiredService<IOptions<EntryStreamOptions>>().Value.MaxSubscribers));
        return builder;
    }

    public static IEndpointRouteBuilder MapEntryStream(this IEndpointRouteBuilder app)
    {
        // Until the logs open (PostgreSQL unreachable at start-up) and during an outage: 503 with Retry-After, as the rest
        // of the Rekor v1 API answers, not a 500.
        app.MapGet("/api/v1/log/stream", StreamAsync).AnswerStorageOutage(RekorError.Result);
        return app;
    }

    private static async Task<IResult> StreamAsync(
        HttpContext context,
        string? from,
        LogRegistry registry,
        LogHeads heads,
        EntryStore entries,
        HeadWatcher watcher,
        SubscriberSlots slots,
        IOptions<EntryStreamOptions> options,
        IHostApplicationLifetime lifetime)
    {
        var log = registry.Get(LogKind.RekorV1);
        long? start = null;
        if (from is not null)
        {
            if (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                return RekorError.Result(StatusCodes.Status400BadRequest, "from must be a non-negative integer log index");
            }

            start = index;
        }
        else if (context.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } lastId)
        {
            if (!long.TryParse(lastId, NumberStyles.None, CultureInfo.InvariantCulture, out var last) || last == long.MaxValue)
            {
                return RekorError.Result(StatusCodes.Status400BadRequest, "Last-Event-ID must be a log index");
            }

            start = last + 1;
        }

        if (!slots.TryEnter())
        {
            context.Response.Headers.RetryAfter = "5";
            return RekorError.Result(StatusCodes.Status503ServiceUnavailable, "too many entry streams are open; retry later");
        }

        try
        {
            var next = start ?? (await heads.GetServableAsync(log.Id, fresh: true, context.RequestAborted)).Size;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            await WriteEventsAsync(context.Response, log, next, entries, watcher, options.Value, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // The client went away or the service is stopping: the stream simply ends.
        }
        finally
        {
            slots.Exit();
        }

        return TypedResults.Empty;
    }

    private static async Task WriteEventsAsync(
        HttpResponse response, LogInstance log, long next, EntryStore entries, HeadWatcher watcher, EntryStreamOptions options, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);
        var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);
        var size = -1L;
        while (true)
        {
            if (next >= size)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                idle.CancelAfter(heartbeat);
                try
                {
                    size = await watcher.WaitBeyondAsync(next, idle.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await response.Body.WriteAsync(s_heartbeat, cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    continue;
                }
            }

            var count = (int)Math.Min(options.BatchSize, size - next);
            var bodies = await entries.GetBodiesAsync(log.Id, next, count, cancellationToken);
            if (bodies.Count != count)
            {
                throw new LogStorageException($"log {log.Name}: entries {next}..{next + count} are below the committed head but not all stored");
            }

            foreach (var body in bodies)
            {
                await response.Body.WriteAsync(Event(next, body), cancellationToken);
                next++;
            }

            await response.Body.FlushAsync(cancellationToken);
        }
    }

    /// <summary>One SSE event: <c>id</c> = log index, <c>data</c> = one JSON line (no newline inside, as SSE requires).</summary>
    private static byte[] Event(long index, byte[] body)
    {
        var data = JsonSerializer.Serialize(new StreamedEntry(index, Rfc6962.HashLeaf(body).ToString(), Convert.ToBase64String(body)), StreamJson.Options);
        return Encoding.UTF8.GetBytes($"id: {index.ToString(CultureInfo.InvariantCulture)}\nevent: entry\ndata: {data}\n\n");
    }

    /// <summary>The data of an <c>entry</c> event: its index, UUID (leaf hash, hex) and canonical body (base64).</summary>
    internal sealed record StreamedEntry(long LogIndex, string Uuid, string Body);

    private static class StreamJson
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
    }
}

/// <summary>A fixed number of concurrent streams.</summary>
internal sealed class SubscriberSlots(int capacity)
{
    private int _used;

    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _used) <= capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _used);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _used);
}
