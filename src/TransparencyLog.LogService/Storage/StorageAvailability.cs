using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Whether PostgreSQL answers, as the last storage operation found it. An outage is logged once when it begins and
/// once when it ends, never per request; while it lasts, reads that need the database answer 503 with Retry-After
/// (see <see cref="StorageOutageAnswers"/>) and the reads that can be answered from memory are.
/// </summary>
internal sealed partial class StorageAvailability(TimeProvider time, ILogger<StorageAvailability> logger)
{
    /// <summary>What clients are told to wait before retrying; the refresher probes the database every second.</summary>
    public const int RetryAfterSeconds = 5;

    public const string UnavailableMessage = "the log's storage is unavailable; retry later";

    private readonly Lock _lock = new();
    private DateTimeOffset? _downSince;

    public bool IsUnavailable
    {
        get
        {
            lock (_lock)
            {
                return _downSince is not null;
            }
        }
    }

    /// <summary>
    /// Failures that mean "the database cannot be reached or cannot serve now" (refused or broken connections, timeouts,
    /// a server shutting down), as opposed to a query the database refused.
    /// </summary>
    public static bool IsOutage(Exception e) => e switch
    {
        TimeoutException => true,
        PostgresException postgres => postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        _ => false,
    };

    public void ReportFailure(Exception e)
    {
        lock (_lock)
        {
            if (_downSince is not null)
            {
                return;
            }

            _downSince = time.GetUtcNow();
        }

        // The message only: one line an operator can act on. A stack trace per outage says nothing more.
        Log.StorageUnavailable(logger, e.GetType().Name, e.Message);
    }

    public void ReportSuccess()
    {
        DateTimeOffset since;
        lock (_lock)
        {
            if (_downSince is not { } down)
            {
                return;
            }

            since = down;
            _downSince = null;
        }

        Log.StorageRecovered(logger, (time.GetUtcNow() - since).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL is unavailable ({ErrorType}: {Reason}); reads that need it answer 503 until it returns")]
        public static partial void StorageUnavailable(ILogger logger, string errorType, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL is available again after {Seconds} s")]
        public static partial void StorageRecovered(ILogger logger, string seconds);
    }
}

/// <summary>
/// The one place a storage outage becomes an answer: each API adds this filter to its endpoints with its own error
/// shape, so the outage is a 503 with Retry-After in that shape, not an unhandled exception (500, empty body, a
/// stack trace per request).
/// </summary>
internal static class StorageOutageAnswers
{
    public static TBuilder AnswerStorageOutage<TBuilder>(this TBuilder builder, Func<int, string, IResult> error)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            // PostgreSQL was unreachable at start-up and the logs are not open yet: the same answer as an outage.
            if (context.HttpContext.RequestServices.GetService<Hosting.LogOpening>() is { IsOpen: false })
            {
                context.HttpContext.Response.Headers.RetryAfter = StorageAvailability.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return error(StatusCodes.Status503ServiceUnavailable, StorageAvailability.UnavailableMessage);
            }

            try
            {
                return await next(context);
            }
            // A streamed answer (the entry stream) that has begun cannot become an error answer: it ends with the outage.
            catch (Exception e) when (StorageAvailability.IsOutage(e) && !context.HttpContext.Response.HasStarted)
            {
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<StorageAvailability>().ReportFailure(e);
                http.Response.Headers.RetryAfter = StorageAvailability.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return error(StatusCodes.Status503ServiceUnavailable, StorageAvailability.UnavailableMessage);
            }
        });
        return builder;
    }
}
