using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>What one cycle found: entries scanned, events raised, and whether the log misbehaved.</summary>
internal sealed record CycleResult(long Scanned, int Matches, MonitorEvent? Misbehaviour, long Size);

/// <summary>
/// One monitoring cycle over a log, through its tiles or, for a log that serves none, its API
/// (<see cref="ApiLogClient"/>). Over tiles: read and verify the checkpoint; reject a smaller tree or another root
/// at the saved size; read every new entry from the entry bundles, match it against the watch list and append its
/// leaf hash to the saved tree edge; the recomputed root must equal the checkpoint's (which proves the new tree
/// extends the verified one and that the scanned entries are the logged ones); only then raise the matches and save
/// the state. Through the API the same, except that the tree's frontier at the saved size comes from the log's
/// consistency proof to the new size (which must verify against both signed roots), and the entries read through the
/// API are appended to that frontier. Nothing is saved after misbehaviour, so every later cycle compares against the
/// last good checkpoint.
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
    SplitViewCheck? splitView = null,
    ApiLogClient? api = null)
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

        string note;
        Checkpoint? checkpoint;
        var indexOffset = 0L;
        if (api is null)
        {
            note = await tiles.GetCheckpointAsync(cancellationToken);
            checkpoint = new NoteVerifier([key]).TryVerifyCheckpoint(note, out var verified) ? verified : null;
        }
        else
        {
            var head = await api.GetHeadAsync(key, cancellationToken);
            (note, checkpoint, indexOffset) = (head.Text, head.Checkpoint, head.IndexOffset);
        }

        if (checkpoint is null)
        {
            return await MisbehavedAsync("checkpoint_signature", key.Name, "the log's checkpoint is not validly signed by its key", state?.Checkpoint, note, cancellationToken);
        }

        metrics.SetCheckpointSize(checkpoint.Size);
        if (splitView is not null && await splitView.FindAsync(ConsistencyProofAsync, key, checkpoint, cancellationToken) is { } split)
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

            if (api is not null)
            {
                return await FollowApiAsync(api, state, note, checkpoint, indexOffset, cancellationToken);
            }

            edge = state.ToEdge();
        }
        else if (api is not null)
        {
            return await FollowApiAsync(api, null, note, checkpoint, indexOffset, cancellationToken);
        }
        else
        {
            var start = Math.Min(config.StartIndex ?? checkpoint.Size, checkpoint.Size);
            edge = await EdgeAtAsync(start, checkpoint.Size, cancellationToken);
        }

        var from = edge.Size;
        var found = new List<MonitorEvent>();
        await ScanAsync(from, checkpoint.Size, edge, checkpoint.Origin, found, cancellationToken);
        return await CompleteCycleAsync(
            from, checkpoint, note, state, edge.Root, "appended", found, MonitorState.EdgeOf(edge), cancellationToken);
    }

    /// <summary>
    /// The end of a cycle that read entries <paramref name="from"/>..size: the root they give must be the one the log
    /// signed; then the events go out, and only then is the state saved (a crash in between rescans: at least once,
    /// never never).
    /// </summary>
    private async Task<CycleResult> CompleteCycleAsync(
        long from, Checkpoint checkpoint, string note, MonitorState? state, Hash computed, string how, List<MonitorEvent> found, IReadOnlyList<IReadOnlyList<string>> edge, CancellationToken cancellationToken)
    {
        var root = Hash.FromBytes(checkpoint.RootHash);
        if (computed != root)
        {
            return await MisbehavedAsync(
                "log_inconsistent",
                checkpoint.Origin,
                $"LOG INCONSISTENT: the entries {from}..{checkpoint.Size} {how} to the verified tree of size {from} give root {computed}, but the log signed {root} for size {checkpoint.Size}",
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

        await store.SaveAsync(new MonitorState(url, key.VerifierKey, note, checkpoint.Size, root.ToString(), edge), cancellationToken);
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
            var leaves = HashAndMatch(entries, skip, bundleStart + skip, 0, origin, now, found, cancellationToken);
            edge.Append(leaves);
        }
    }

    /// <summary>
    /// Hashes entries[skip..] (entry <paramref name="skip"/> is leaf <paramref name="firstIndex"/> of the tree, global
    /// index <paramref name="firstIndex"/> + <paramref name="indexOffset"/>) and matches each against the watch list,
    /// on all cores; matches are added to <paramref name="found"/> in index order.
    /// </summary>
    private Hash[] HashAndMatch(IReadOnlyList<byte[]> entries, int skip, long firstIndex, long indexOffset, string origin, DateTimeOffset now, List<MonitorEvent> found, CancellationToken cancellationToken)
    {
        var startIndex = config.StartIndex ?? 0;
        var endIndex = config.EndIndex ?? long.MaxValue;
        var leaves = new Hash[entries.Count - skip];
        var matches = new List<IdentityMatch>?[leaves.Length];
        Parallel.For(0, leaves.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var index = firstIndex + indexOffset + i;
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
                var index = firstIndex + indexOffset + i;
                var leaf = leaves[i].ToString();
                found.AddRange(entryMatches.Select(m => MonitorEvent.IdentityMatch(origin, index, leaf, m, now)));
            }
        }

        return leaves;
    }

    /// <summary>
    /// The rest of a cycle through the log's API, after the shrink and fork checks: the frontier of the verified tree
    /// from the consistency proof to the new size (without a state: from the proof between the start and the new size,
    /// which binds it to the new signed root), then every entry since, appended to it; the root must be the new one.
    /// </summary>
    private async Task<CycleResult> FollowApiAsync(ApiLogClient api, MonitorState? state, string note, Checkpoint checkpoint, long indexOffset, CancellationToken cancellationToken)
    {
        var root = Hash.FromBytes(checkpoint.RootHash);
        long from;
        Hash? fromRoot = null;
        if (state is not null)
        {
            from = state.Size;
            fromRoot = Hash.FromHex(state.RootHash);
        }
        else
        {
            // Entries before startIndex are read (not matched) to reach a size whose frontier a proof can give
            // without its root: the proof leaves out a power of two's root.
            from = Math.Min((config.StartIndex ?? checkpoint.Size) - indexOffset, checkpoint.Size);
            while (from > 0 && (from & (from - 1)) == 0)
            {
                from--;
            }

            from = Math.Max(from, 0);
        }

        var frontier = MerkleFrontier.Empty;
        if (from > 0 && from < checkpoint.Size)
        {
            var proof = await api.ConsistencyAsync(from, checkpoint.Size, cancellationToken);
            if (!MerkleFrontier.TryFromConsistencyProof(from, checkpoint.Size, proof, fromRoot, root, out frontier))
            {
                return await MisbehavedAsync(
                    "log_inconsistent",
                    checkpoint.Origin,
                    $"LOG INCONSISTENT: the log's consistency proof from size {from}{(fromRoot is { } r ? $" ({r})" : "")} to size {checkpoint.Size} ({root}) does not verify",
                    state?.Checkpoint,
                    note,
                    cancellationToken);
            }
        }
        else if (from > 0 && state is null)
        {
            // Starting at the current size: nothing to read; the next cycle proves the next size consistent with it.
            await store.SaveAsync(new MonitorState(url, key.VerifierKey, note, checkpoint.Size, root.ToString(), []), cancellationToken);
            return new CycleResult(0, 0, null, checkpoint.Size);
        }

        var found = new List<MonitorEvent>();
        await ScanApiAsync(api, from, checkpoint.Size, indexOffset, frontier, checkpoint.Origin, found, cancellationToken);
        return await CompleteCycleAsync(from, checkpoint, note, state, frontier.Root, "read from the log, appended", found, [], cancellationToken);
    }

    /// <summary>
    /// Reads entries <paramref name="from"/>..<paramref name="to"/> through the API in pages (the first one tells how
    /// many the server gives per request; up to <see cref="Parallelism"/> pages are then in flight), each page
    /// re-asked from where the server stopped, and appends them to the frontier in index order.
    /// </summary>
    private async Task ScanApiAsync(ApiLogClient api, long from, long to, long indexOffset, MerkleFrontier frontier, string origin, List<MonitorEvent> found, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var page = api.PageSize;
        var next = from;
        var requested = from;
        if (next < to)
        {
            var first = await api.GetEntriesAsync(next, to, indexOffset, cancellationToken);
            page = Math.Min(page, first.Count);
            Append(first);
        }

        var inFlight = new Queue<Task<List<byte[]>>>();
        while (next < to)
        {
            while (requested < to && inFlight.Count < Parallelism)
            {
                var start = requested;
                var end = Math.Min(to, start + page);
                inFlight.Enqueue(PageAsync(start, end));
                requested = end;
            }

            Append(await inFlight.Dequeue());
        }

        void Append(IReadOnlyList<byte[]> entries)
        {
            foreach (var leaf in HashAndMatch(entries, 0, next, indexOffset, origin, now, found, cancellationToken))
            {
                frontier.Append(leaf);
            }

            next += entries.Count;
            requested = Math.Max(requested, next);
        }

        async Task<List<byte[]>> PageAsync(long start, long end)
        {
            var entries = new List<byte[]>((int)(end - start));
            while (start + entries.Count < end)
            {
                entries.AddRange(await api.GetEntriesAsync(start + entries.Count, end, indexOffset, cancellationToken));
            }

            return entries;
        }
    }

    /// <summary>A consistency proof between two sizes: from the tiles, or the log's API when it serves none.</summary>
    private Task<IReadOnlyList<Hash>> ConsistencyProofAsync(long size1, long size2, CancellationToken cancellationToken) =>
        api is not null ? api.ConsistencyAsync(size1, size2, cancellationToken) : tiles.ProofAsync(ProofPlanner.Consistency(size1, size2), size2, cancellationToken);

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
