using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>Event severities: <c>critical</c> = the log misbehaved, <c>info</c> = a watched identity appeared.</summary>
internal static class Severity
{
    public const string Critical = "critical";
    public const string Info = "info";
}

/// <summary>One monitor event; <see cref="Id"/> is stable for the same finding, so receivers can drop repeats.</summary>
internal sealed record MonitorEvent(string Id, string Type, string Severity, JsonObject Body)
{
    public static MonitorEvent IdentityMatch(string origin, long index, string uuid, IdentityMatch match, DateTimeOffset now)
    {
        var id = EventId(origin, index.ToString(CultureInfo.InvariantCulture), match.Rule, match.Value);
        return new MonitorEvent(id, "identity_match", Monitoring.Severity.Info, new JsonObject
        {
            ["id"] = id,
            ["type"] = "identity_match",
            ["severity"] = Monitoring.Severity.Info,
            ["time"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["log"] = origin,
            ["logIndex"] = index,
            ["uuid"] = uuid,
            ["rule"] = match.Rule,
            ["value"] = match.Value,
            ["issuer"] = match.Issuer,
        });
    }

    public static MonitorEvent LogMisbehaved(string type, string origin, string message, string? previousNote, string? currentNote, DateTimeOffset now)
    {
        // Identified by what the notes say (origin, size, root), never their bytes: a log may re-sign the same tree
        // with a new (ECDSA) signature or timestamp on every request, and that is still the same finding.
        var id = EventId(origin, type, TreeHead(previousNote), TreeHead(currentNote));
        return new MonitorEvent(id, type, Monitoring.Severity.Critical, new JsonObject
        {
            ["id"] = id,
            ["type"] = type,
            ["severity"] = Monitoring.Severity.Critical,
            ["time"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["log"] = origin,
            ["message"] = message,
            ["previousCheckpoint"] = previousNote,
            ["currentCheckpoint"] = currentNote,
        });
    }

    private static string TreeHead(string? note) => note is null ? "" : string.Join('\n', note.Split('\n').Take(3));

    private static string EventId(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))))[..32];
}

/// <summary>
/// Where events go: a JSON line on stdout (always), rekor-monitor's <c>outputIdentities</c> file for matches, and each
/// webhook (POST, retried with backoff; <c>X-Tlog-Signature: sha256=HMAC(secret, body)</c> when a secret is set).
/// </summary>
internal sealed class AlertSinks(TextWriter output, HttpClient http, IReadOnlyList<(Uri Url, byte[]? Secret)> webhooks, string? identitiesFile, MonitorMetrics metrics, TextWriter error)
{
    // Over the status code as an int, not HttpStatusCode: Polly's generic code over an enum result type reaches
    // Enum.GetValues(Type), which Native AOT cannot promise (IL3050, reported in this class's static constructor).
    private static readonly ResiliencePipeline<int> s_retry = new ResiliencePipelineBuilder<int>()
        .AddRetry(new RetryStrategyOptions<int>
        {
            MaxRetryAttempts = 5,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            MaxDelay = TimeSpan.FromSeconds(10),
            ShouldHandle = new PredicateBuilder<int>()
                .Handle<HttpRequestException>()
                .Handle<TaskCanceledException>()
                .HandleResult(static s => s >= 500 || s == (int)HttpStatusCode.TooManyRequests || s == (int)HttpStatusCode.RequestTimeout),
        })
        .Build();

    private readonly Lock _lock = new();

    public async Task SendAsync(MonitorEvent e, CancellationToken cancellationToken)
    {
        var line = e.Body.ToJsonString();
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
            if (identitiesFile is not null && e.Type == "identity_match")
            {
                File.AppendAllText(identitiesFile, line + "\n");
            }
        }

        metrics.CountEvent(e);
        foreach (var (url, secret) in webhooks)
        {
            await PostAsync(url, secret, e, line, cancellationToken);
        }
    }

    private async Task PostAsync(Uri url, byte[]? secret, MonitorEvent e, string body, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(body);
        int status;
        try
        {
            status = await s_retry.ExecuteAsync(
                async token =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Add("X-Tlog-Event-Id", e.Id);
                    request.Headers.Add("X-Tlog-Event-Type", e.Type);
                    if (secret is not null)
                    {
                        request.Headers.Add("X-Tlog-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, payload)));
                    }

                    using var response = await http.SendAsync(request, token);
                    return (int)response.StatusCode;
                },
                cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            status = 0;
        }

        var delivered = status is >= 200 and < 300;
        metrics.CountWebhook(delivered);
        if (!delivered)
        {
            await error.WriteLineAsync($"warning: webhook {url.GetLeftPart(UriPartial.Path)} did not accept event {e.Id} ({(status == 0 ? "unreachable" : status.ToString(CultureInfo.InvariantCulture))}) after retries");
        }
    }
}
