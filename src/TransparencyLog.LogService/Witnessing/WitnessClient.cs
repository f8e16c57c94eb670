using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Witnessing;

/// <summary>
/// Asks one witness (c2sp.org/tlog-witness) to cosign a checkpoint, proving it consistent with the size the witness
/// last cosigned. A 409 tells that size: the request is retried with a proof from it (up to 3 tries, as Tessera does).
/// Any other refusal, a timeout or an unreachable witness ends this witness's round; the next checkpoint tries again.
/// </summary>
internal sealed partial class WitnessClient(PolicyWitness witness, HttpClient http, ProofService proofs, ILogger logger)
{
    private const int MaxTries = 3;
    private const int MaxResponseBytes = 16 * 1024;

    // The size this witness last cosigned, per log: the old size of the next request (0 until known; a 409 tells).
    private readonly ConcurrentDictionary<int, long> _sizes = new();

    public PolicyWitness Witness { get; } = witness;

    /// <summary>The witness's verified cosignature lines for <paramref name="head"/>, or null.</summary>
    public async Task<string?> CosignAsync(LogInstance log, TreeHead head, TimeSpan timeout, CancellationToken cancellationToken)
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
                Content = new StringContent(await BodyAsync(log, old, head, cancellationToken), Encoding.UTF8, "text/plain"),
            };
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Fail("timeout");
                return null;
            }
            catch (HttpRequestException)
            {
                Fail("unreachable");
                return null;
            }

            using (response)
            {
                var body = await ReadLimitedAsync(response, deadline.Token);
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

    private async Task<string> BodyAsync(LogInstance log, long old, TreeHead head, CancellationToken cancellationToken)
    {
        var builder = new StringBuilder().Append("old ").Append(old.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (old > 0 && old < head.Size)
        {
            foreach (var hash in await proofs.ConsistencyAsync(log.Id, old, head.Size, cancellationToken))
            {
                builder.Append(Convert.ToBase64String(hash.ToArray())).Append('\n');
            }
        }

        return builder.Append('\n').Append(head.Checkpoint).ToString();
    }

    private static async Task<string?> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes)
        {
            return null;
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return bytes.Length > MaxResponseBytes ? null : Encoding.UTF8.GetString(bytes);
    }

    private void Fail(string reason) => WitnessingMetrics.Failures.WithLabels(Witness.Name, reason).Inc();

    [LoggerMessage(Level = LogLevel.Warning, Message = "witness {Witness} refused {Log} at size {Size} with {Status}")]
    private static partial void LogRefused(ILogger logger, string witness, string log, int status, long size);

    [LoggerMessage(Level = LogLevel.Critical, Message = "witness {Witness} has cosigned {Log} at size {WitnessSize}, beyond this log's size {Size}")]
    private static partial void LogWitnessAhead(ILogger logger, string witness, string log, long witnessSize, long size);
}
