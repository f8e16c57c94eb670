using System.Threading.Channels;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>
/// Finds the earliest entry of a submitted (pre)certificate (its <see cref="CtEntries.DuplicateKey"/>), for concurrent
/// submissions together: the probes that arrive while one query runs are answered by the next, one
/// <c>key = ANY($2)</c> statement for all of them, instead of a round trip and a statement each. The answer is the
/// one a probe of its own would give (the smallest index holding the key, as of the query's start); a probe waits
/// at most for the query in flight and its own.
/// </summary>
internal sealed class DuplicateProbe : IAsyncDisposable
{
    /// <summary>Keys in one statement at most; more waiting probes go in the next.</summary>
    public const int MaxKeysPerQuery = 256;

    /// <summary>Probes waiting at most; a submission beyond this waits to queue (the sequencer bounds the rest).</summary>
    private const int MaxWaiting = 10_000;

    private readonly EntryStore _entries;
    private readonly Channel<Probe> _queue = Channel.CreateBounded<Probe>(new BoundedChannelOptions(MaxWaiting)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Task _loop;

    public DuplicateProbe(EntryStore entries)
    {
        _entries = entries;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The index of the earliest entry of the log holding <paramref name="key"/>, or null when none does.</summary>
    /// <exception cref="LogStoppingException">The service is stopping.</exception>
    public async Task<long?> FindAsync(int logId, string key, CancellationToken cancellationToken)
    {
        var probe = new Probe(logId, key, new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await _queue.Writer.WriteAsync(probe, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new LogStoppingException();
        }

        return await probe.Answer.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Probes already queued are still answered.
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Probe>(MaxKeysPerQuery);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxKeysPerQuery && reader.TryRead(out var probe))
            {
                batch.Add(probe);
            }

            // One CT log per service in practice; a query per log otherwise.
            foreach (var group in batch.GroupBy(static p => p.LogId))
            {
                await AnswerAsync(group.Key, [.. group]);
            }
        }
    }

    private async Task AnswerAsync(int logId, Probe[] probes)
    {
        try
        {
            var keys = probes.Select(static p => p.Key).Distinct(StringComparer.Ordinal).ToArray();
            var found = await _entries.EarliestByKeyAsync(logId, keys, CancellationToken.None);
            foreach (var probe in probes)
            {
                probe.Answer.TrySetResult(found.TryGetValue(probe.Key, out var index) ? index : null);
            }
        }
        catch (Exception e)
        {
            // Each submission answers the failure as its own probe's would have been answered (the API's storage paths).
            foreach (var probe in probes)
            {
                probe.Answer.TrySetException(e);
            }
        }
    }

    private sealed record Probe(int LogId, string Key, TaskCompletionSource<long?> Answer);
}
