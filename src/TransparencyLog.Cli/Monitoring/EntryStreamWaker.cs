using System.Globalization;
using System.Net;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// Listens to the log's <c>GET /api/v1/log/stream</c> (server-sent events) and wakes the monitor on every new entry,
/// so a match is seen within a round trip rather than an interval. Only a wake-up: entries are still read from the
/// tiles and verified against a checkpoint, so a dropped stream can lose or repeat nothing. Reconnects with
/// <c>Last-Event-ID</c> after a drop; a log without the stream (404) leaves the monitor polling.
/// </summary>
internal sealed class EntryStreamWaker(HttpClient http, string baseUrl, TextWriter error)
{
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>True while connected: the daemon then waits for events rather than the interval alone.</summary>
    public bool Connected { get; private set; }

    /// <summary>Waits for an entry event or the timeout.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public async Task RunAsync(long from, CancellationToken cancellationToken)
    {
        var next = from;
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl.TrimEnd('/')}/api/v1/log/stream?from={next.ToString(CultureInfo.InvariantCulture)}");
                request.Headers.Accept.ParseAdd("text/event-stream");
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
                {
                    await error.WriteLineAsync("note: the log offers no entry stream; polling");
                    return;
                }

                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Connected = true;
                    backoff = TimeSpan.FromMilliseconds(250);
                    Wake();
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
                    while (await reader.ReadLineAsync(cancellationToken) is { } line)
                    {
                        if (line.StartsWith("id:", StringComparison.Ordinal)
                            && long.TryParse(line.AsSpan(3).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                        {
                            next = id + 1;
                            Wake();
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Dropped: reconnect below, from the entry after the last one seen.
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                Connected = false;
            }

            // A cycle after a drop catches anything appended meanwhile.
            Wake();
            await Task.Delay(backoff, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            backoff = backoff * 2 < s_maxBackoff ? backoff * 2 : s_maxBackoff;
        }
    }

    private void Wake()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one pending cycle covers every event since.
        }
    }
}
