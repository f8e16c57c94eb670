using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Hosting;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Entry lookups by index for inclusion-proof reads, coalesced: at most <see cref="StorageOptions.EntryLookupsInFlight"/>
/// statements per log (and per kind: without the level-0 tile, with it whole, or with the entry's group of it) run at once; a lookup that arrives while they are
/// all in flight waits, and when one finishes every waiting lookup (up to <see cref="MaxBatch"/>) goes in one
/// <c>idx = ANY($2)</c> statement. An idle service's lookup never waits and runs the single-row statement as before; under
/// load, PostgreSQL's cost per statement (a backend wake-up, bind and execute, the socket round trip on both sides) is
/// paid once per batch instead of once per read. Only what a lookup returns changes hands, not when it is served: the
/// caller has already chosen the signed head the entry is served under.
/// </summary>
internal sealed class EntryLookups(EntryStore store, IOptions<StorageOptions> options)
{
    /// <summary>The most indices in one statement (its answer is at most this many rows of about 1 KiB, or 9 KiB with tiles).</summary>
    public const int MaxBatch = 64;

    private static readonly Prometheus.Counter.Child s_wholeReads = LogServiceMetrics.EntryTileReads.WithLabels("whole");
    private static readonly Prometheus.Counter.Child s_groupReads = LogServiceMetrics.EntryTileReads.WithLabels("group");

    private readonly int _inFlight = options.Value.EntryLookupsInFlight;
    private readonly Dictionary<(int LogId, TilePart Part), Lane> _lanes = [];

    /// <summary>The entry at <paramref name="index"/> (null when there is none), with the part of its level-0 tile asked for.</summary>
    public async Task<(StoredEntry? Entry, byte[]? Tile)> GetAsync(int logId, long index, TilePart part, CancellationToken cancellationToken)
    {
        if (part != TilePart.None)
        {
            (part == TilePart.Group ? s_groupReads : s_wholeReads).Inc();
        }

        var lane = LaneOf(logId, part);
        Waiter? waiter = null;
        lock (lane)
        {
            if (lane.Running < _inFlight)
            {
                lane.Running++;
            }
            else
            {
                waiter = new Waiter(index);
                lane.Waiting.Enqueue(waiter);
            }
        }

        if (waiter is not null)
        {
            // The batch runs whether or not this caller stays: another reader may be waiting for the same statement.
            return await waiter.Task.WaitAsync(cancellationToken);
        }

        LogServiceMetrics.EntryLookupBatchSize.Observe(1);
        try
        {
            return part == TilePart.None
                ? (await store.GetByIndexAsync(logId, index, cancellationToken), null)
                : await store.GetByIndexWithTileAsync(logId, index, part, cancellationToken);
        }
        finally
        {
            Release(lane);
        }
    }

    private Lane LaneOf(int logId, TilePart part)
    {
        lock (_lanes)
        {
            if (!_lanes.TryGetValue((logId, part), out var lane))
            {
                lane = new Lane(logId, part);
                _lanes.Add((logId, part), lane);
            }

            return lane;
        }
    }

    /// <summary>Gives up a statement slot, or hands it to the lookups that waited for it.</summary>
    private void Release(Lane lane)
    {
        if (TakeBatch(lane) is { } batch)
        {
            // Off the caller's path: its own answer is ready, the batch is other readers' work.
            _ = Task.Run(() => RunAsync(lane, batch));
        }
    }

    /// <summary>Up to <see cref="MaxBatch"/> waiting lookups, keeping the slot; or null, giving the slot up.</summary>
    private static List<Waiter>? TakeBatch(Lane lane)
    {
        lock (lane)
        {
            if (lane.Waiting.Count == 0)
            {
                lane.Running--;
                return null;
            }

            var batch = new List<Waiter>(Math.Min(lane.Waiting.Count, MaxBatch));
            while (batch.Count < MaxBatch && lane.Waiting.TryDequeue(out var waiter))
            {
                batch.Add(waiter);
            }

            return batch;
        }
    }

    private async Task RunAsync(Lane lane, List<Waiter> batch)
    {
        for (var next = batch; next is not null; next = TakeBatch(lane))
        {
            try
            {
                var indices = next.Select(w => w.Index).Distinct().ToArray();
                LogServiceMetrics.EntryLookupBatchSize.Observe(indices.Length);
                // Not one caller's token: the statement answers every reader in the batch.
                var rows = await store.GetManyByIndexAsync(lane.LogId, indices, lane.Part, CancellationToken.None);
                var found = new Dictionary<long, (StoredEntry, byte[]?)>(rows.Count);
                foreach (var row in rows)
                {
                    found[row.Entry.Index] = row;
                }

                foreach (var waiter in next)
                {
                    waiter.TrySetResult(found.TryGetValue(waiter.Index, out var row) ? row : (null, null));
                }
            }
            catch (Exception e)
            {
                foreach (var waiter in next)
                {
                    waiter.TrySetException(e);
                }
            }
        }
    }

    private sealed class Lane(int logId, TilePart part)
    {
        public int LogId { get; } = logId;

        public TilePart Part { get; } = part;

        /// <summary>Statements in flight; guarded by the lane's lock, as <see cref="Waiting"/> is.</summary>
        public int Running { get; set; }

        public Queue<Waiter> Waiting { get; } = new();
    }

    // Continuations run asynchronously: completing a batch must not run 64 readers' responses on the batch's thread.
    private sealed class Waiter(long index) : TaskCompletionSource<(StoredEntry?, byte[]?)>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Index { get; } = index;
    }
}
