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
    /// <summary>An event line of the log's stream is a few hundred bytes; a longer one ends the connection (then reconnects).</summary>
    public const int MaxLineBytes = 16 * 1024;

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
                    var reader = new BoundedLineReader(await response.Content.ReadAsStreamAsync(cancellationToken), MaxLineBytes);
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

/// <summary>
/// Reads UTF-8 lines (LF or CRLF) from a stream, refusing any line longer than a bound with an
/// <see cref="IOException"/>, so a misbehaving server cannot make the reader buffer without limit.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[Math.Max(4096, maxLineBytes + 1)];
    private int _start;
    private int _end;

    /// <summary>The next line without its terminator; null at the end of the stream (a final unterminated line is returned).</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > maxLineBytes)
                {
                    throw new IOException($"a stream line is longer than {maxLineBytes} bytes");
                }

                var line = System.Text.Encoding.UTF8.GetString(_buffer, _start, length > 0 && _buffer[newline - 1] == '\r' ? length - 1 : length);
                _start = newline + 1;
                return line;
            }

            scanned = _end - _start;
            if (scanned > maxLineBytes)
            {
                throw new IOException($"a stream line is longer than {maxLineBytes} bytes");
            }

            if (_start > 0)
            {
                // Keep the partial line at the front: the buffer holds one whole line at most.
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, scanned);
                _start = 0;
                _end = scanned;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                if (_end == _start)
                {
                    return null;
                }

                var last = System.Text.Encoding.UTF8.GetString(_buffer, _start, _end - _start);
                _start = _end;
                return last;
            }

            _end += read;
        }
    }
}
