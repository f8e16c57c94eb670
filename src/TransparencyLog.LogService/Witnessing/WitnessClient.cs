using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Sigstore.Http;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Witnessing;

/// <summary>
/// Asks one witness (c2sp.org/tlog-witness) to cosign a checkpoint, proving it consistent with the size the witness
/// last cosigned. A 409 tells that size: the request is retried with a proof from it (up to 3 tries, as Tessera does).
/// Any other refusal, a timeout or an unreachable witness ends this witness's round; the next checkpoint tries again.
/// At most one request per witness is in flight: a round that ends (quorum met) does not cancel a slower witness's
/// request, which finishes within its own timeout, so its answer still tells the size to prove from next time (a
/// cancelled request cost the witness its work anyway, then a 409 and a retry, and the log a new connection).
/// </summary>
internal sealed partial class WitnessClient(PolicyWitness witness, HttpClient http, ILogger logger) : IDisposable
{
    private readonly SemaphoreSlim _inFlight = new(1, 1);

    private const int MaxTries = 3;
    private const int MaxResponseBytes = 16 * 1024;

    // The size this witness last cosigned, per log: the old size of the next request (0 until known; a 409 tells).
    private readonly ConcurrentDictionary<int, long> _sizes = new();

    public PolicyWitness Witness { get; } = witness;

    /// <summary>
    /// The witness's verified cosignature lines for <paramref name="head"/>, or null. <paramref name="roundOver"/>
    /// ends only the wait for this witness's previous request; a request once sent runs until its answer or
    /// <paramref name="timeout"/>. <paramref name="proofs"/> is the round's: one consistency proof per old size.
    /// </summary>
    public async Task<string?> CosignAsync(LogInstance log, TreeHead head, TimeSpan timeout, RoundProofs proofs, CancellationToken roundOver)
    {
        try
        {
            await _inFlight.WaitAsync(roundOver);
        }
        catch (OperationCanceledException)
        {
            // The previous round's request to this witness is still running and the round no longer needs this one.
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }

        try
        {
            return await SendAsync(log, head, timeout, proofs);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    public void Dispose() => _inFlight.Dispose();

    private async Task<string?> SendAsync(LogInstance log, TreeHead head, TimeSpan timeout, RoundProofs proofs)
    {
        var started = Stopwatch.GetTimestamp();
        var old = _sizes.GetValueOrDefault(log.Id);
        for (var attempt = 0; attempt < MaxTries; attempt++)
        {
            if (old > head.Size)
            {
                // The witness cosigned a larger tree of this log than this process has: another process is ahead, or
                // the witness saw a fork. Either way nothing can be proved to it now.
                Fail("ahead");
                LogWitnessAhead(logger, Witness.Name, log.Name, old, head.Size);
                return null;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Witness.Url!, "add-checkpoint"))
            {
                Content = new StringContent(await proofs.BodyAsync(log, old, head), Encoding.UTF8, "text/plain"),
            };
            using var deadline = new CancellationTokenSource(timeout);
            HttpResponseMessage? response = null;
            string? body;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                body = await ReadLimitedAsync(response, deadline.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException or ObjectDisposedException)
            {
                response?.Dispose();
                // ObjectDisposedException: the service is stopping (the HTTP client is gone).
                if (e is not ObjectDisposedException)
                {
                    Fail(e is OperationCanceledException ? "timeout" : "unreachable");
                }

                return null;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Conflict && response.Content.Headers.ContentType?.MediaType == "text/x.tlog.size"
                    && body is not null && long.TryParse(body.TrimEnd('\n'), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                {
                    WitnessingMetrics.Conflicts.WithLabels(Witness.Name).Inc();
                    _sizes[log.Id] = size;
                    old = size;
                    continue;
                }

                if (response.StatusCode != HttpStatusCode.OK || body is null)
                {
                    Fail(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                    LogRefused(logger, Witness.Name, log.Name, (int)response.StatusCode, head.Size);
                    return null;
                }

                // Keep only this witness's lines, and only if they verify over exactly this checkpoint.
                var lines = string.Concat(body.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Where(line => line.StartsWith("\u2014 " + Witness.Key.Name + " ", StringComparison.Ordinal))
                    .Select(line => line + "\n"));
                if (lines.Length == 0 || !Cosignature.TryVerify(head.Checkpoint + lines, Witness.Key, out _))
                {
                    Fail("bad_cosignature");
                    return null;
                }

                _sizes[log.Id] = head.Size;
                WitnessingMetrics.CosignatureLatency.WithLabels(Witness.Name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                return lines;
            }
        }

        Fail("conflicts");
        return null;
    }

    private static async Task<string?> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // A witness that streams without a length is cut off at the limit, not read to its end.
        var bytes = await BoundedBody.ReadAsync(response.Content, MaxResponseBytes, cancellationToken);
        return bytes is null ? null : Encoding.UTF8.GetString(bytes);
    }

    private void Fail(string reason) => WitnessingMetrics.Failures.WithLabels(Witness.Name, reason).Inc();

    [LoggerMessage(Level = LogLevel.Warning, Message = "witness {Witness} refused {Log} at size {Size} with {Status}")]
    private static partial void LogRefused(ILogger logger, string witness, string log, int status, long size);

    [LoggerMessage(Level = LogLevel.Critical, Message = "witness {Witness} has cosigned {Log} at size {WitnessSize}, beyond this log's size {Size}")]
    private static partial void LogWitnessAhead(ILogger logger, string witness, string log, long witnessSize, long size);
}

/// <summary>
/// The add-checkpoint bodies of one round: every witness that last cosigned the same size gets the same body, so the
/// consistency proof is read once per old size in a round, not once per witness.
/// </summary>
internal sealed class RoundProofs(ProofService proofs)
{
    private readonly Dictionary<long, Task<string>> _bodies = [];

    public Task<string> BodyAsync(LogInstance log, long old, TreeHead head)
    {
        lock (_bodies)
        {
            if (!_bodies.TryGetValue(old, out var body) || body.IsFaulted || body.IsCanceled)
            {
                body = BuildAsync(log, old, head);
                _bodies[old] = body;
            }

            return body;
        }
    }

    private async Task<string> BuildAsync(LogInstance log, long old, TreeHead head)
    {
        var builder = new StringBuilder().Append("old ").Append(old.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (old > 0 && old < head.Size)
        {
            foreach (var hash in await proofs.ConsistencyAsync(log.Id, old, head.Size, CancellationToken.None))
            {
                builder.Append(Convert.ToBase64String(hash.ToArray())).Append('\n');
            }
        }

        return builder.Append('\n').Append(head.Checkpoint).ToString();
    }
}
