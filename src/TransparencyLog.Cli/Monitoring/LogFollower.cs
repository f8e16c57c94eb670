using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>What one cycle found: entries scanned, events raised, and whether the log misbehaved.</summary>
internal sealed record CycleResult(long Scanned, int Matches, MonitorEvent? Misbehaviour, long Size);

/// <summary>
/// One monitoring cycle over a tlog-tiles log: read and verify the checkpoint; reject a smaller tree or another root
/// at the saved size; read every new entry from the entry bundles, match it against the watch list and append its
/// leaf hash to the saved tree edge; the recomputed root must equal the checkpoint's (which proves the new tree
/// extends the verified one and that the scanned entries are the logged ones); only then raise the matches and save
/// the state. Nothing is saved after misbehaviour, so every later cycle compares against the last good checkpoint.
/// </summary>
internal sealed class LogFollower(
    TileLogClient tiles,
    NoteVerifierKey key,
    IdentityMatcher matcher,
    MonitorConfig config,
    AlertSinks alerts,
    MonitorMetrics metrics,
    TimeProvider time,
    string url,
    IMonitorStore store,
    SplitViewCheck? splitView = null)
{
    /// <summary>Entry bundles fetched ahead of the one being matched while catching up.</summary>
    private const int Parallelism = 16;

    /// <summary>Misbehaviour already reported by this process: a daemon says it once, not every cycle.</summary>
    private readonly HashSet<string> _raised = new(StringComparer.Ordinal);

    public async Task<CycleResult> RunAsync(CancellationToken cancellationToken)
    {
        var state = await store.LoadAsync(cancellationToken);
        if (state is not null && state.VerifierKey != key.VerifierKey)
        {
            throw new CliException(ExitCodes.Usage, $"{store.Description} was made with another log key; use another state");
        }

        var note = await tiles.GetCheckpointAsync(cancellationToken);
        if (!new NoteVerifier([key]).TryVerifyCheckpoint(note, out var checkpoint) || checkpoint is null)
        {
            return await MisbehavedAsync("checkpoint_signature", key.Name, "the log's checkpoint is not validly signed by its key", state?.Checkpoint, note, cancellationToken);
        }

        metrics.SetCheckpointSize(checkpoint.Size);
        if (splitView is not null && await splitView.FindAsync(tiles, key, checkpoint, cancellationToken) is { } split)
        {
            return await MisbehavedAsync("split_view", checkpoint.Origin, split.Message, split.WitnessNote, note, cancellationToken);
        }

        var root = Hash.FromBytes(checkpoint.RootHash);
        TreeEdge edge;
        if (state is not null)
        {
            if (checkpoint.Size < state.Size)
            {
                return await MisbehavedAsync("log_shrink", checkpoint.Origin, $"LOG ROLLED BACK: the log now has {checkpoint.Size} entries, but {state.Size} were verified before", state.Checkpoint, note, cancellationToken);
            }

            if (checkpoint.Size == state.Size)
            {
                if (root.ToString() != state.RootHash)
                {
                    return await MisbehavedAsync("log_fork", checkpoint.Origin, $"LOG FORKED: two different signed roots for size {checkpoint.Size}: {state.RootHash} (saved) and {root} (now)", state.Checkpoint, note, cancellationToken);
                }

                metrics.CountCheck(ok: true);
                return new CycleResult(0, 0, null, checkpoint.Size);
            }

            edge = state.ToEdge();
        }
        else
        {
            var start = Math.Min(config.StartIndex ?? checkpoint.Size, checkpoint.Size);
            edge = await EdgeAtAsync(start, checkpoint.Size, cancellationToken);
        }

        var from = edge.Size;
        var found = new List<MonitorEvent>();
        await ScanAsync(from, checkpoint.Size, edge, checkpoint.Origin, found, cancellationToken);
        if (edge.Root != root)
        {
            return await MisbehavedAsync(
                "log_inconsistent",
                checkpoint.Origin,
                $"LOG INCONSISTENT: the entries {from}..{checkpoint.Size} appended to the verified tree of size {from} give root {edge.Root}, but the log signed {root} for size {checkpoint.Size}",
                state?.Checkpoint,
                note,
                cancellationToken);
        }

        metrics.CountCheck(ok: true);
        metrics.CountScanned(checkpoint.Size - from);
        foreach (var e in found)
        {
            await RaiseAsync(e, cancellationToken);
        }

        // Saved only after the events went out: a crash before this line rescans (at least once, never never).
        await store.SaveAsync(new MonitorState(url, key.VerifierKey, note, checkpoint.Size, root.ToString(), MonitorState.EdgeOf(edge)), cancellationToken);
        return new CycleResult(checkpoint.Size - from, found.Count, null, checkpoint.Size);
    }

    /// <summary>The right edge of the tree at <paramref name="size"/>, from the tiles of the tree of <paramref name="treeSize"/>.</summary>
    private async Task<TreeEdge> EdgeAtAsync(long size, long treeSize, CancellationToken cancellationToken)
    {
        var levels = new List<Hash[]>();
        for (var level = 0; level <= TileMath.MaxLevel && (size >> (level * TileMath.Height)) > 0; level++)
        {
            var width = TileMath.PartialWidth(level, size);
            levels.Add(width == 0 ? [] : await tiles.GetTileAsync(level, TileMath.FullTileCount(level, size), width, treeSize, cancellationToken));
        }

        return new TreeEdge(size, levels);
    }

    /// <summary>
    /// Reads bundles <paramref name="from"/>..<paramref name="to"/> in order while up to <see cref="Parallelism"/> later
    /// ones are already being fetched; each bundle's entries are hashed and matched on all cores, then appended to the
    /// edge in log order, so events come out in index order whatever the scheduling.
    /// </summary>
    private async Task ScanAsync(long from, long to, TreeEdge edge, string origin, List<MonitorEvent> found, CancellationToken cancellationToken)
    {
        var first = from / TileMath.Width;
        var last = (to + TileMath.Width - 1) / TileMath.Width;
        var now = time.GetUtcNow();
        var startIndex = config.StartIndex ?? 0;
        var endIndex = config.EndIndex ?? long.MaxValue;
        var inFlight = new Queue<Task<List<byte[]>>>();
        var next = first;
        for (var bundle = first; bundle < last; bundle++)
        {
            while (next < last && inFlight.Count < Parallelism)
            {
                inFlight.Enqueue(tiles.GetEntryBundleAsync(next++, to, cancellationToken));
            }

            var entries = await inFlight.Dequeue();
            var bundleStart = bundle * TileMath.Width;
            var skip = (int)Math.Max(0, from - bundleStart);
            var leaves = new Hash[entries.Count - skip];
            var matches = new List<IdentityMatch>?[leaves.Length];
            Parallel.For(0, leaves.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                var index = bundleStart + skip + i;
                var body = entries[skip + i];
                leaves[i] = Rfc6962.HashLeaf(body);
                if (matcher.WatchesAnything && index >= startIndex && index <= endIndex)
                {
                    matches[i] = matcher.Match(body);
                }
            });

            for (var i = 0; i < leaves.Length; i++)
            {
                if (matches[i] is { Count: > 0 } entryMatches)
                {
                    var index = bundleStart + skip + i;
                    var leaf = leaves[i].ToString();
                    found.AddRange(entryMatches.Select(m => MonitorEvent.IdentityMatch(origin, index, leaf, m, now)));
                }
            }

            edge.Append(leaves);
        }
    }

    private async Task<CycleResult> MisbehavedAsync(string type, string origin, string message, string? previous, string current, CancellationToken cancellationToken)
    {
        metrics.CountCheck(ok: false);
        var e = MonitorEvent.LogMisbehaved(type, origin, message, previous, current, time.GetUtcNow());
        if (_raised.Add(e.Id))
        {
            await RaiseAsync(e, cancellationToken);
        }

        return new CycleResult(0, 0, e, -1);
    }

    /// <summary>Sends an event unless the store already holds it as delivered (a database store remembers every alert).</summary>
    private async Task RaiseAsync(MonitorEvent e, CancellationToken cancellationToken)
    {
        if (await store.RecordAsync(e, cancellationToken))
        {
            await alerts.SendAsync(e, cancellationToken);
            await store.DeliveredAsync(e, cancellationToken);
        }
    }
}
