using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Prometheus;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Witnessing;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Sequencing;

/// <summary>An entry ready to be appended: its canonical body and what the search index should know of it.</summary>
internal sealed record EntryToAppend(byte[] Body, string Kind, string ApiVersion, IReadOnlyList<string> SearchKeys)
{
    public Hash LeafHash { get; } = Rfc6962.HashLeaf(Body);

    /// <summary>Data stored with the entry but not hashed into the leaf (a CT entry's certificate chain).</summary>
    public byte[]? ExtraData { get; init; }

    /// <summary>
    /// The log's signature over this entry when it can be made before sequencing (a CT log's SCT). Rekor v1 logs sign
    /// the entry timestamp in the sequencer instead, because it covers the index.
    /// </summary>
    public byte[]? Signature { get; init; }

    /// <summary>
    /// Whether the submitter is answered with an inclusion proof (Rekor's APIs). A CT log answers with the SCT signed
    /// before sequencing and never reads a proof, so its entries are answered <see cref="AppendedWithoutProof"/>.
    /// </summary>
    public bool NeedsInclusionProof { get; init; } = true;

    /// <summary>
    /// A search key the log holds for one entry at most (a CT (pre)certificate's <c>ct:</c> key): when an entry with it
    /// is logged already, or earlier in the same batch, this one is answered <see cref="AlreadyPresent"/> with that
    /// entry's index and nothing is written. Looked up under the head lock, like the leaf hash, so two identical
    /// submissions racing (in one batch, or in two processes) give one entry. Written to the search index with the
    /// entry's other keys.
    /// </summary>
    public string? UniqueKey { get; init; }
}

/// <summary>The result of an append, known only once the batch holding it has committed durably.</summary>
internal abstract record AppendOutcome;

/// <summary>The entry is in the log at <paramref name="Index"/>, included in <paramref name="Head"/>.</summary>
internal sealed record Appended(long Index, long IntegratedTime, byte[]? EntrySignature, TreeHead Head, Hash[] InclusionProof) : AppendOutcome;

/// <summary>An identical entry is already in the log; nothing was written.</summary>
internal sealed record AlreadyPresent(long Index) : AppendOutcome;

/// <summary>
/// The entry is durably in the log at <paramref name="Index"/>, without an inclusion proof: none was asked for
/// (<see cref="EntryToAppend.NeedsInclusionProof"/>), or it could not be built after the commit (storage failed in
/// between), and then the client must fetch the entry instead of being told it was not added.
/// </summary>
internal sealed record AppendedWithoutProof(long Index, long IntegratedTime, byte[]? EntrySignature, TreeHead Head) : AppendOutcome;

/// <summary>The sequencer's queue is full; the client may retry later.</summary>
internal sealed class LogOverloadedException() : Exception("the log is overloaded; retry later");

/// <summary>The service is stopping; the entry was not appended and the client may retry.</summary>
internal sealed class LogStoppingException() : Exception("the log service is stopping; the entry was not added, retry");

/// <summary>Why an append was not made, as every API reports it: an HTTP status and a message safe for clients.</summary>
internal sealed record AppendFailure(int Status, string Message, bool RetryLater)
{
    /// <summary>The log is a frozen Rekor v1 shard: nothing was added, and the entry belongs in the active shard.</summary>
    public bool ShardFrozen { get; init; }

    /// <summary>
    /// Tells the client when to retry a transient failure (a full queue); each API still answers the failure in its
    /// own error shape.
    /// </summary>
    public void SetRetryAfter(HttpResponse response)
    {
        if (RetryLater)
        {
            response.Headers.RetryAfter = "1";
        }
    }
}

/// <summary>
/// Appends entries to one log in batches. Submissions wait a few milliseconds to share a transaction that locks the
/// log's head row, assigns consecutive indices from it, writes entries, tiles, search keys and the newly signed
/// checkpoint, and commits. Only then are the waiting requests answered: an acknowledged entry is durable. Several
/// processes may run a sequencer for the same log; the head row lock serializes them into one gap-free tree.
/// </summary>
/// <remarks>
/// Pipelined: request threads parse, canonicalise and verify before queueing; proofs are built after the commit from
/// the tiles just written. Once a batch N is sent, the edge of the tree it leaves predicts the head for N+1, so N+1 is
/// gathered, signed (SETs and checkpoint) and sent while N still executes (<see cref="WritePredictedAsync"/>): N+1's
/// head lock waits in PostgreSQL until N's commit, and its write, made only if the locked head is the prediction,
/// commits in the same round trip. A batch whose prediction failed wrote nothing and is written again the ordinary
/// way (<see cref="WriteAsync"/>: the head read under the lock). A batch's checkpoint is published
/// (<see cref="LogHeads.Observe"/>) and its clients answered only once its commit is confirmed.
/// </remarks>
internal sealed partial class Sequencer : IAsyncDisposable
{
    private readonly LogInstance _log;
    private readonly NpgsqlDataSource _dataSource;
    private readonly TileStore _tiles;
    private readonly EntryCache _entries;
    private readonly ProofService _proofs;
    private readonly LogHeads _heads;
    private readonly IntegrityMonitor _integrity;
    private readonly StorageAvailability _availability;
    private readonly TimeProvider _time;
    private readonly CheckpointWitnessing _witnessing;
    private readonly SequencerOptions _options;
    private readonly ILogger _logger;
    private readonly AppendLatencies _latencies;
    private readonly Channel<Pending> _queue;

    // This log's series, looked up once: the label lookup allocates, and some run for every submission.
    private readonly Gauge.Child _queueDepth;
    private readonly Histogram.Child _queueWait;
    private readonly Histogram.Child _batchSize;
    private readonly Histogram.Child _commitDuration;
    private readonly Counter.Child _duplicates;
    private readonly Counter.Child _newEntries;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    /// <summary>Committed batches waiting for the witness quorum at once, beyond the two in the in-flight window.</summary>
    private const int MaxWitnessWaits = 64;
    private readonly SemaphoreSlim _witnessWaits = new(MaxWitnessWaits, MaxWitnessWaits);

    // Set while the loop waits for a small batch to grow (CoalesceAsync); AppendAsync completes it once
    // CoalesceTarget submissions wait.
    private TaskCompletionSource? _coalescing;

    // The right edge of the tree as of the last batch this process committed. Valid only while the head row still
    // says the same size and root; otherwise another process appended and the edge is read again.
    private TreeEdge? _edge;

    // The last predicted batch the loop sent, while the next one is predicted from it (WritePredictedAsync waits for
    // its commit when the two connections reached the head lock in the wrong order).
    private PredictedWrite? _lastPredicted;

    public Sequencer(
        LogInstance log,
        NpgsqlDataSource dataSource,
        TileStore tiles,
        EntryCache entries,
        ProofService proofs,
        LogHeads heads,
        IntegrityMonitor integrity,
        StorageAvailability availability,
        TimeProvider time,
        CheckpointWitnessing witnessing,
        SequencerOptions options,
        ILogger logger,
        AppendLatencies latencies)
    {
        _log = log;
        _dataSource = dataSource;
        _tiles = tiles;
        _entries = entries;
        _proofs = proofs;
        _heads = heads;
        _integrity = integrity;
        _availability = availability;
        _time = time;
        _witnessing = witnessing;
        _options = options;
        _logger = logger;
        _latencies = latencies;
        _queueDepth = LogServiceMetrics.QueueDepth.WithLabels(log.Name);
        _queueWait = LogServiceMetrics.QueueWait.WithLabels(log.Name);
        _batchSize = LogServiceMetrics.BatchSize.WithLabels(log.Name);
        _commitDuration = LogServiceMetrics.CommitDuration.WithLabels(log.Name);
        _duplicates = LogServiceMetrics.Duplicates.WithLabels(log.Name);
        _newEntries = LogServiceMetrics.NewEntries.WithLabels(log.Name);
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxPending)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(RunAsync);
    }

    public LogInstance Instance => _log;

    public Task<AppendOutcome> AppendAsync(EntryToAppend entry)
    {
        if (_integrity.IsSuspended(_log.Id))
        {
            throw new LogSuspendedException();
        }

        var pending = new Pending(entry, new TaskCompletionSource<AppendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously), _time.GetTimestamp());
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new LogOverloadedException();
        }

        var waiting = _queue.Reader.Count;
        _queueDepth.Set(waiting);
        if (waiting >= _options.CoalesceTarget)
        {
            Volatile.Read(ref _coalescing)?.TrySetResult();
        }

        return pending.Completion.Task;
    }

    /// <summary>
    /// <see cref="AppendAsync"/> with the expected failures turned into what an API answers: 503 when the queue is full,
    /// 500 when storage failed (the batch failure is logged once by the sequencer, never echoed to clients).
    /// </summary>
    public async Task<(AppendOutcome? Outcome, AppendFailure? Failure)> TryAppendAsync(EntryToAppend entry)
    {
        try
        {
            return (await AppendAsync(entry), null);
        }
        catch (LogOverloadedException e)
        {
            return (null, new AppendFailure(StatusCodes.Status503ServiceUnavailable, e.Message, RetryLater: true));
        }
        catch (WitnessQuorumUnmetException e)
        {
            return (null, new AppendFailure(StatusCodes.Status503ServiceUnavailable, e.Message, RetryLater: true));
        }
        catch (LogSuspendedException e)
        {
            // Not transient: no Retry-After. The divergence itself is in the service log, not in the client's answer.
            return (null, new AppendFailure(StatusCodes.Status503ServiceUnavailable, e.Message, RetryLater: false));
        }
        catch (Exception e) when (e is LogStoppingException or OperationCanceledException)
        {
            return (null, new AppendFailure(StatusCodes.Status503ServiceUnavailable, new LogStoppingException().Message, RetryLater: true));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction)
        {
            // The database refused the batch because `shard rotate` froze this shard (migration 0008).
            return (null, new AppendFailure(StatusCodes.Status503ServiceUnavailable, $"log shard {_log.TreeId} is frozen; the entry was not added, retry (new entries go to the active shard)", RetryLater: true) { ShardFrozen = true });
        }
        catch (Exception e) when (StorageAvailability.IsOutage(e))
        {
            return (null, new AppendFailure(StatusCodes.Status503ServiceUnavailable, "the log's storage is unavailable; retry later (an entry that was added after all answers 409 with its UUID)", RetryLater: true));
        }
        catch (Exception e) when (e is NpgsqlException or LogStorageException or TimeoutException)
        {
            return (null, new AppendFailure(StatusCodes.Status500InternalServerError, "the log could not store the entry; it was not added", RetryLater: false));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        _witnessWaits.Dispose();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;

        // Batches sent and not yet settled, oldest first. A batch whose prediction the last one sent makes is sent at
        // once, while that one still executes (WritePredictedAsync): its head lock waits in PostgreSQL for the earlier
        // commit, so indices stay gap-free and in order. At most two are kept in flight: slow answers slow intake.
        var inFlight = new Queue<Task<Settled>>();
        List<Pending>? batch = null;
        var gathered = _time.GetTimestamp();
        try
        {
            while (true)
            {
                while (inFlight.Count > 0 && inFlight.Peek().IsCompleted)
                {
                    await SettleOldestAsync(inFlight);
                }

                if (!reader.TryPeek(out _))
                {
                    // Nothing waits: sleep until a submission arrives, or until the oldest batch in flight ends (one
                    // that did not commit is written again now, not when the next submission happens to come).
                    var readable = reader.WaitToReadAsync(_stopping.Token);
                    if (!readable.IsCompleted && inFlight.Count > 0)
                    {
                        var waiting = readable.AsTask();
                        if (await Task.WhenAny(waiting, inFlight.Peek()) != waiting)
                        {
                            continue;
                        }

                        readable = new ValueTask<bool>(waiting);
                    }

                    if (!await readable)
                    {
                        break;
                    }
                }

                if (_options.BatchWindowMilliseconds > 0 && inFlight.Count == 0)
                {
                    // When idle, a short wait lets concurrent clients share one transaction instead of paying a
                    // commit each. Under load the commit in flight already gathers the next batch.
                    await Task.Delay(TimeSpan.FromMilliseconds(_options.BatchWindowMilliseconds), _time, _stopping.Token);
                }
                else if (inFlight.Count > 0 && reader.Count < _options.CoalesceTarget)
                {
                    await CoalesceAsync(gathered);
                    _stopping.Token.ThrowIfCancellationRequested();
                }

                gathered = _time.GetTimestamp();

                batch = new List<Pending>(Math.Min(_options.MaxBatchSize, Math.Max(reader.Count, 1)));
                while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                    _queueWait.Observe(_time.GetElapsedTime(pending.EnqueuedAt).TotalSeconds);
                }

                _queueDepth.Set(reader.Count);
                _batchSize.Observe(batch.Count);

                var written = batch;
                batch = null;
                inFlight.Enqueue(await SendAsync(written));
                while (inFlight.Count > 2)
                {
                    await SettleOldestAsync(inFlight);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            // Batches already sent are answered by their commit, whatever shutdown does, and those waiting for the
            // witnesses once that ends (each within the witnessing budget). A predicted batch that did not commit is
            // not retried now: nothing of it was written, and its clients are told so.
            while (inFlight.Count > 0)
            {
                var settled = await inFlight.Dequeue();
                foreach (var pending in settled.Retry ?? [])
                {
                    pending.Completion.TrySetException(new LogStoppingException());
                }
            }

            for (var slot = 0; slot < MaxWitnessWaits; slot++)
            {
                await _witnessWaits.WaitAsync(CancellationToken.None);
            }

            // Stopping: whatever still waits was not appended. Tell those clients now rather than leave them hanging.
            foreach (var pending in batch ?? [])
            {
                pending.Completion.TrySetException(new LogStoppingException());
            }

            while (reader.TryRead(out var pending))
            {
                pending.Completion.TrySetException(new LogStoppingException());
            }
        }
    }

    /// <summary>
    /// Awaits the oldest batch in flight. One that did not commit because its prediction failed (or the database
    /// refused it, which rolled it back whole) is written again the ordinary way, after the head is read under the
    /// lock; every later prediction is dropped, since it may rest on that batch.
    /// </summary>
    private async Task SettleOldestAsync(Queue<Task<Settled>> inFlight)
    {
        var settled = await inFlight.Dequeue();
        if (settled.EdgeLost)
        {
            _edge = null;
        }

        if (settled.Retry is { } retry)
        {
            _lastPredicted = null;
            inFlight.Enqueue(Done(await WriteBatchAsync(retry)));
        }
    }

    /// <summary>
    /// Sends a gathered batch: predicted, without waiting for the write, when the last batch sent left an edge;
    /// otherwise the ordinary way (the head read under the lock), waiting for the write but not for its commit.
    /// </summary>
    private async Task<Task<Settled>> SendAsync(List<Pending> batch)
    {
        if (_edge is null)
        {
            _lastPredicted = null;
            return Done(await WriteBatchAsync(batch));
        }

        PredictedWrite write;
        try
        {
            write = await PrepareAsync(batch, _stopping.Token);
        }
        catch (Exception e)
        {
            _edge = null;
            _lastPredicted = null;
            Fail(batch, e);
            return Task.FromResult(new Settled(null, EdgeLost: true));
        }

        var previous = _lastPredicted;
        _lastPredicted = write;
        return WritePredictedAsync(batch, write, previous, _time.GetTimestamp());
    }

    private static async Task<Settled> Done(Task completion)
    {
        await completion;
        return new Settled(null, EdgeLost: false);
    }

    /// <summary>
    /// Lets a small batch grow while the previous one commits: waits until <see cref="SequencerOptions.CoalesceMilliseconds"/>
    /// have passed since the last batch was gathered, or <see cref="SequencerOptions.CoalesceTarget"/> submissions wait.
    /// Nothing is acknowledged during the wait, so nothing acknowledged can be lost to it; it adds at most the window to
    /// a submission's latency, and only while another batch is in flight (an idle log answers as before).
    /// </summary>
    private async Task CoalesceAsync(long gathered)
    {
        var remaining = TimeSpan.FromMilliseconds(_options.CoalesceMilliseconds) - _time.GetElapsedTime(gathered);
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        var coalescing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _coalescing, coalescing);
        // Checked after publishing the signal, so a submission that reached the target just before is not missed.
        if (_queue.Reader.Count < _options.CoalesceTarget)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            await Task.WhenAny(coalescing.Task, Task.Delay(remaining, _time, timer.Token));
            await timer.CancelAsync();
        }

        Volatile.Write(ref _coalescing, null);
    }

    /// <summary>
    /// Runs the serial part of a batch (lock, indices, tiles, write, the commit sent) and returns the task that awaits
    /// the commit and answers the batch's clients. Never throws: every failure is some client's answer.
    /// </summary>
    private async Task<Task> WriteBatchAsync(List<Pending> batch)
    {
        var started = _time.GetTimestamp();
        Written written;
        try
        {
            written = await WriteAsync(batch, _stopping.Token);
        }
        catch (PostgresException e) when (batch.Count > 1 && e.SqlState.Length == 5 && e.SqlState[..2] is "22" or "23")
        {
            // The database refused some entry's data (a constraint the parsers did not foresee). The batch rolled
            // back whole; append each entry on its own so one bad submission fails alone, not its neighbours.
            _edge = null;
            Log.BatchSplit(_logger, _log.Name, batch.Count, e.SqlState);
            foreach (var pending in batch.ToList())
            {
                await await WriteBatchAsync([pending]);
            }

            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            _edge = null;
            Fail(batch, e);
            return Task.CompletedTask;
        }

        return CompleteAsync(batch, written, started);
    }

    /// <summary>Fails every submission of a batch: nothing of it was acknowledged.</summary>
    private void Fail(List<Pending> batch, Exception e)
    {
        // If the commit itself failed mid-flight the entries may still be durable: a client retry then sees 409 with
        // the existing entry, never a second copy.
        if (StorageAvailability.IsOutage(e))
        {
            // Logged once per outage, not once per batch; each client is answered 503.
            _availability.ReportFailure(e);
        }
        else
        {
            Log.BatchFailed(_logger, _log.Name, batch.Count, e);
        }

        foreach (var pending in batch)
        {
            pending.Completion.TrySetException(e);
        }
    }

    /// <summary>
    /// The ordinary path, when no prediction is trusted (the first batch, or after one failed): locks the head, reads
    /// it and the edge, assigns indices, signs the SETs, extends the tiles, signs the checkpoint and writes the batch,
    /// then sends the commit without waiting for it. Proofs are built after the commit, in <see cref="CompleteAsync"/>.
    /// </summary>
    private async Task<Written> WriteAsync(List<Pending> batch, CancellationToken cancellationToken)
    {
        if (_integrity.IsSuspended(_log.Id))
        {
            throw new LogSuspendedException();
        }

        var integratedTime = _time.GetUtcNow().ToUnixTimeSeconds();
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            // One call (migration 0014): lock the head, then, under the lock (so every earlier commit is seen,
            // including the previous batch's), look each of the batch's leaves and unique keys up in the log.
            long size;
            Hash root;
            var logged = new Dictionary<Hash, long>();
            var loggedKeys = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("SELECT tree_size, root_hash, logged_leaves, logged_indices, logged_keys, logged_key_indices FROM log_lock_head_logged($1, $2, $3)", connection, transaction))
            {
                read.Parameters.AddWithValue(_log.Id);
                read.Parameters.Add(ArrayParameter(batch.Select(static p => p.Entry.LeafHash).Distinct().Select(static l => l.ToArray()).ToArray(), NpgsqlDbType.Bytea));
                read.Parameters.Add(ArrayParameter(UniqueKeys(batch), NpgsqlDbType.Text));
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken))
                {
                    throw new LogStorageException($"log {_log.Name} has no head row");
                }

                size = reader.GetInt64(0);
                root = Hash.FromBytes((byte[])reader[1]);
                var leaves = reader.GetFieldValue<byte[][]>(2);
                var indices = reader.GetFieldValue<long[]>(3);
                var keys = reader.GetFieldValue<string[]>(4);
                var keyIndices = reader.GetFieldValue<long[]>(5);
                if (leaves.Length != indices.Length || keys.Length != keyIndices.Length)
                {
                    throw new LogStorageException($"log {_log.Name}: the duplicate check answered {leaves.Length} leaves, {indices.Length} indices, {keys.Length} keys and {keyIndices.Length} key indices");
                }

                for (var i = 0; i < leaves.Length; i++)
                {
                    logged[Hash.FromBytes(leaves[i])] = indices[i];
                }

                for (var i = 0; i < keys.Length; i++)
                {
                    loggedKeys[keys[i]] = keyIndices[i];
                }
            }

            // The ordinary path runs when no prediction is trusted: the edge is read again (and checked) from storage.
            var edge = await LoadEdgeAsync(connection, transaction, size, root, cancellationToken);
            _edge = null;

            var assignment = Assign(batch, logged, loggedKeys, size);
            if (assignment.Appended.Count == 0)
            {
                _duplicates.Inc(batch.Count);
                await transaction.RollbackAsync(cancellationToken);
                _edge = edge;
                await transaction.DisposeAsync();
                await connection.DisposeAsync();
                return new Written(null, null, null, assignment.Outcomes, assignment.Appended, [], integratedTime, [], [], null);
            }

            var signatures = await SignEntriesAsync(batch, assignment.Appended, integratedTime, cancellationToken);

            var (touched, head) = await ExtendAsync(edge, assignment.Leaves, cancellationToken);
            await using (var write = new NpgsqlBatch(connection, transaction))
            {
                write.BatchCommands.Add(Append(batch, assignment.Appended, signatures, integratedTime, touched, head));
                await write.ExecuteNonQueryAsync(cancellationToken);
            }

            return SendCommit(connection, transaction, edge, assignment, signatures, integratedTime, touched, head);
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Before a predicted batch is sent, in the loop: its indices from the edge the last batch sent leaves, its SETs,
    /// the edge extended and the checkpoint of the new size signed. The edge becomes the next batch's prediction.
    /// </summary>
    private async Task<PredictedWrite> PrepareAsync(List<Pending> batch, CancellationToken cancellationToken)
    {
        if (_integrity.IsSuspended(_log.Id))
        {
            throw new LogSuspendedException();
        }

        var edge = _edge!;
        _edge = null;
        var integratedTime = _time.GetUtcNow().ToUnixTimeSeconds();
        var expectedSize = edge.Size;
        var expectedRoot = edge.Root;
        var assignment = Assign(batch, [], new Dictionary<string, long>(StringComparer.Ordinal), expectedSize);
        var signatures = await SignEntriesAsync(batch, assignment.Appended, integratedTime, cancellationToken);
        var (touched, head) = await ExtendAsync(edge, assignment.Leaves, cancellationToken);
        // Proofs read the partial tiles after the commit while the next batch extends the edge: take them now.
        var written = new Written(null, null, null, assignment.Outcomes, assignment.Appended, signatures, integratedTime, touched, edge.PartialTiles, head);
        _edge = edge;
        return new PredictedWrite(expectedSize, expectedRoot, assignment.Leaves, assignment.Keys, written);
    }

    /// <summary>
    /// A predicted batch in one round trip and one transaction, sent while the batch before it may still execute:
    /// the head lock (which waits in PostgreSQL until the transaction holding it ends), then the write, made only if
    /// the locked head is exactly the prediction, no leaf or unique key of the batch is in the log and no refresher
    /// re-signed the head since this checkpoint's time; PostgreSQL commits at the end of the round trip (the protocol's
    /// implicit transaction), so the head row is never held locked across a round trip to this process. The clients
    /// are answered only once that commit is confirmed.
    /// </summary>
    /// <returns>
    /// The batch to write again the ordinary way when nothing was written (the prediction failed: the batch before
    /// did not commit or another process appended; a leaf or unique key was already logged, and the ordinary way
    /// answers it with the logged entry's index; the database refused the batch, which rolled it back whole);
    /// otherwise nothing: the clients have their answers, or their error if the outcome is
    /// unknown (the connection was lost with the commit in flight: a retry answers 409 if the entry was added).
    /// </returns>
    /// <remarks>
    /// Safe whatever happened before it: log_append checks every index against the locked head and every tile
    /// against what is stored, and the comparison with the head refuses a wrong prediction before either. The
    /// comparison runs in the write's own statement, which starts after the lock is held and so sees every earlier
    /// commit (READ COMMITTED takes a snapshot per statement).
    /// </remarks>
    private async Task<Settled> WritePredictedAsync(List<Pending> batch, PredictedWrite write, PredictedWrite? previous, long started)
    {
        var written = write.Written;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var (appended, lockedSize) = await RoundTripAsync(batch, write);
                if (appended)
                {
                    write.Ended.TrySetResult(true);
                    break;
                }

                // The batch before this one was sent first but reached the lock later (two connections race): the head
                // is still behind the prediction. Nothing was written; once that batch's commit is confirmed, the
                // same write is sent again rather than dropping every prediction.
                if (lockedSize >= 0 && lockedSize < write.ExpectedSize && previous is not null && attempt < 2
                    && await previous.Ended.Task)
                {
                    continue;
                }

                Log.PredictionFailed(_logger, _log.Name, batch.Count, lockedSize, write.ExpectedSize, "none");
                write.Ended.TrySetResult(false);
                return new Settled(batch, EdgeLost: true);
            }
        }
        catch (PostgresException e) when (e.SqlState.Length == 5 && e.SqlState[..2] is "22" or "23" or "40")
        {
            // Rolled back whole (a refusal, a serialization failure or deadlock): nothing of it was written.
            Log.PredictionFailed(_logger, _log.Name, batch.Count, -1, write.ExpectedSize, e.SqlState);
            write.Ended.TrySetResult(false);
            return new Settled(batch, EdgeLost: true);
        }
        catch (Exception e)
        {
            write.Ended.TrySetResult(false);
            Fail(batch, e);
            return new Settled(null, EdgeLost: true);
        }

        _duplicates.Inc(written.Outcomes.Length - written.Appended.Count);
        await CompleteAsync(batch, written, started);
        return new Settled(null, EdgeLost: false);
    }

    /// <summary>
    /// One round trip of a predicted batch: whether it was written and committed, and the head size the lock saw.
    /// Returns only once the transaction has ended (the commit is confirmed, or nothing was written).
    /// </summary>
    private async Task<(bool Appended, long LockedSize)> RoundTripAsync(List<Pending> batch, PredictedWrite write)
    {
        var written = write.Written;
        await using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlBatch(connection);
        var lockHead = new NpgsqlBatchCommand("SELECT tree_size FROM log_lock_head($1)");
        lockHead.Parameters.AddWithValue(_log.Id);
        command.BatchCommands.Add(lockHead);
        var append = Append(batch, written.Appended, written.Signatures, written.IntegratedTime, written.Touched, written.Head!);
        // The guard runs in log_append_predicted (migrations 0012 to 0014): the head read by its key under the lock,
        // each leaf and each unique key looked up in the log, NULL (nothing written) if any refuses; plans kept for the
        // session, whatever the log's size.
        append.CommandText = "SELECT log_append_predicted($17, $18, $19, $20, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
        append.Parameters.AddWithValue(write.ExpectedSize);
        append.Parameters.AddWithValue(write.ExpectedRoot.ToArray());
        append.Parameters.Add(ArrayParameter(write.Leaves.Select(static l => l.ToArray()).ToArray(), NpgsqlDbType.Bytea));
        append.Parameters.Add(ArrayParameter(write.Keys, NpgsqlDbType.Text));
        command.BatchCommands.Add(append);

        await using var reader = await command.ExecuteReaderAsync(CancellationToken.None);
        if (!await reader.ReadAsync(CancellationToken.None))
        {
            throw new LogStorageException($"log {_log.Name} has no head row");
        }

        var lockedSize = reader.GetInt64(0);
        await reader.NextResultAsync(CancellationToken.None);
        var appended = await reader.ReadAsync(CancellationToken.None) && !await reader.IsDBNullAsync(0, CancellationToken.None)
            && reader.GetInt64(0) == written.Head!.Size;
        // The end of the round trip is the commit: only its confirmation (or error) ends the reader.
        while (await reader.NextResultAsync(CancellationToken.None))
        {
        }

        return (appended, lockedSize);
    }

    /// <summary>
    /// A batch's indices, the same for both paths: each entry whose leaf is not in <paramref name="logged"/> and whose
    /// unique key is not in <paramref name="loggedKeys"/> (what the log holds already, with the indices), nor earlier
    /// in the batch, takes the next index from <paramref name="firstIndex"/>; a repeat is answered with the index of
    /// the entry already logged or taken (the outcomes of the others are set after the commit). Both dictionaries gain
    /// the batch's new entries.
    /// </summary>
    private static Assignment Assign(List<Pending> batch, Dictionary<Hash, long> logged, Dictionary<string, long> loggedKeys, long firstIndex)
    {
        var outcomes = new AppendOutcome[batch.Count];
        var appended = new List<(int Position, long Index)>(batch.Count);
        var leaves = new List<Hash>(batch.Count);
        var keys = new List<string>();
        var next = firstIndex;
        for (var i = 0; i < batch.Count; i++)
        {
            var entry = batch[i].Entry;
            if (logged.TryGetValue(entry.LeafHash, out var index)
                || (entry.UniqueKey is { } key && loggedKeys.TryGetValue(key, out index)))
            {
                outcomes[i] = new AlreadyPresent(index);
                continue;
            }

            logged[entry.LeafHash] = next;
            if (entry.UniqueKey is { } newKey)
            {
                loggedKeys[newKey] = next;
                keys.Add(newKey);
            }

            appended.Add((i, next));
            leaves.Add(entry.LeafHash);
            next++;
        }

        return new Assignment(outcomes, appended, leaves.ToArray(), keys.ToArray());
    }

    /// <summary>The batch's distinct unique keys, for the lookup under the head lock.</summary>
    private static string[] UniqueKeys(List<Pending> batch)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pending in batch)
        {
            if (pending.Entry.UniqueKey is { } key)
            {
                keys.Add(key);
            }
        }

        return [.. keys];
    }

    /// <summary>
    /// Extends <paramref name="edge"/> by the batch's leaves and signs the checkpoint of the new size: the tiles to
    /// write and the head they give.
    /// </summary>
    private async Task<(IReadOnlyList<(TileId Tile, Hash[] Entries)> Touched, TreeHead Head)> ExtendAsync(
        TreeEdge edge, Hash[] leaves, CancellationToken cancellationToken)
    {
        var touched = edge.Append(leaves);
        var now = _time.GetUtcNow();
        var checkpoint = await _log.SignCheckpointAsync(edge.Size, edge.Root, now, cancellationToken);
        return (touched, new TreeHead(edge.Size, edge.Root, checkpoint, now));
    }

    /// <summary>
    /// Sends a written batch's commit without awaiting it: the next batch's lock waits for it in PostgreSQL, and
    /// <see cref="CompleteAsync"/> answers from it. Not cancelled by shutdown, which waits for it instead: the client
    /// learns what really happened. <paramref name="edge"/> becomes the next batch's prediction, which holds only if
    /// this commit succeeds (the next lock shows it).
    /// </summary>
    private Written SendCommit(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        TreeEdge edge,
        Assignment assignment,
        byte[]?[] signatures,
        long integratedTime,
        IReadOnlyList<(TileId Tile, Hash[] Entries)> touched,
        TreeHead head)
    {
        _duplicates.Inc(assignment.Outcomes.Length - assignment.Appended.Count);
        // Proofs read the edge after the commit while the next batch extends it: take the partial tiles now.
        var partial = edge.PartialTiles;
        var commit = transaction.CommitAsync(CancellationToken.None);
        _edge = edge;
        return new Written(connection, transaction, commit, assignment.Outcomes, assignment.Appended, signatures, integratedTime, touched, partial, head);
    }

    /// <remarks>An in-process key completes each signature synchronously, so awaiting it per entry allocates no
    /// state machine; a token key is awaited, never blocked on.</remarks>
    private async ValueTask<byte[]?[]> SignEntriesAsync(List<Pending> batch, List<(int Position, long Index)> appended, long integratedTime, CancellationToken cancellationToken)
    {
        var signatures = new byte[]?[appended.Count];
        for (var j = 0; j < appended.Count; j++)
        {
            var (position, index) = appended[j];
            var entry = batch[position].Entry;
            signatures[j] = _log.Kind == LogKind.RekorV1
                ? await _log.SignEntryTimestampAsync(entry.Body, integratedTime, _log.ShardStart + index, cancellationToken)
                : entry.Signature;
        }

        return signatures;
    }

    /// <summary>
    /// Answers a batch's clients once its commit is confirmed: awaits the commit the ordinary path sent (a predicted
    /// batch's round trip has confirmed it already), then builds the proofs from the tiles just written, no database.
    /// Never throws: a client is never left waiting, nor the sequencer loop that awaits this task stopped.
    /// </summary>
    private async Task CompleteAsync(List<Pending> batch, Written written, long started)
    {
        try
        {
            if (written.Commit is not null)
            {
                try
                {
                    await written.Commit;
                }
                finally
                {
                    await written.Transaction!.DisposeAsync();
                    await written.Connection!.DisposeAsync();
                }
            }

            if (written.Head is null)
            {
                // Every submission was already in the log: nothing was written.
                Answer(batch, written.Outcomes);
                return;
            }

            await AnswerDurableAsync(batch, written, started);
        }
        catch (Exception e)
        {
            Fail(batch, e);
        }
    }

    private async Task AnswerDurableAsync(List<Pending> batch, Written written, long started)
    {
        _availability.ReportSuccess();
        _commitDuration.Observe(_time.GetElapsedTime(started).TotalSeconds);

        // Durable from here on. Build each entry's proof against the new head from the tiles just written (every node
        // of a new leaf's path lies in the tiles on the right edge).
        var head = written.Head!;
        var outcomes = written.Outcomes;
        var appended = written.Appended;
        _heads.Observe(_log.Id, head);
        RememberEntries(batch, written);
        var local = new Dictionary<TileKey, TileNodes>();
        foreach (var (tile, entries) in written.Touched)
        {
            var key = new TileKey(tile.Level, tile.Index);
            local[key] = _tiles.Remember(_log.Id, key, entries);
        }

        for (var level = 0; level < written.Partial.Count; level++)
        {
            var key = new TileKey(level, TileMath.FullTileCount(level, head.Size));
            if (written.Partial[level].Length > 0 && !local.ContainsKey(key))
            {
                local[key] = new TileNodes(written.Partial[level]);
            }
        }

        try
        {
            var memo = new Dictionary<NodeId, Hash>();
            for (var j = 0; j < appended.Count; j++)
            {
                var (position, index) = appended[j];
                if (!batch[position].Entry.NeedsInclusionProof)
                {
                    outcomes[position] = new AppendedWithoutProof(index, written.IntegratedTime, written.Signatures[j], head);
                    continue;
                }

                var plan = ProofPlanner.Inclusion(index, head.Size);
                var nodes = await _proofs.NodeHashesAsync(_log.Id, plan.Nodes, local, CancellationToken.None, memo);
                outcomes[position] = new Appended(index, written.IntegratedTime, written.Signatures[j], head, plan.Assemble(nodes));
            }
        }
        catch (Exception e) when (e is NpgsqlException or LogStorageException or TimeoutException)
        {
            Log.ProofsFailed(_logger, _log.Name, appended.Count, e);
            for (var j = 0; j < appended.Count; j++)
            {
                var (position, index) = appended[j];
                outcomes[position] = new AppendedWithoutProof(index, written.IntegratedTime, written.Signatures[j], head);
            }
        }

        _newEntries.Inc(appended.Count);
        Log.BatchCommitted(_logger, _log.Name, appended.Count, batch.Count - appended.Count, head.Size);

        // Witnessing (fail-closed) holds the answers until the quorum cosigned this checkpoint. That wait is outside the
        // sequencer's in-flight window: the next batches commit meanwhile and one later round covers them all. At most
        // MaxWitnessWaits batches wait at once; beyond that the window waits too (back-pressure on intake).
        var witnessed = _witnessing.CheckpointSignedAsync(_log, head);
        if (witnessed.IsCompleted)
        {
            AnswerWitnessed(batch, outcomes, witnessed);
            return;
        }

        await _witnessWaits.WaitAsync(CancellationToken.None);
        _ = AnswerWhenWitnessedAsync(batch, outcomes, witnessed);
    }

    /// <summary>
    /// Puts a committed batch's new entries where Rekor v1 inclusion-proof reads find them (the entries just appended
    /// are the ones their submitters and monitors read next). Only after the commit: an entry the cache holds is one
    /// the log has.
    /// </summary>
    private void RememberEntries(List<Pending> batch, Written written)
    {
        if (_log.Kind != LogKind.RekorV1)
        {
            return;
        }

        for (var j = 0; j < written.Appended.Count; j++)
        {
            var (position, index) = written.Appended[j];
            var entry = batch[position].Entry;
            _entries.Add(_log.Id, new StoredEntry(index, entry.Body, written.IntegratedTime, written.Signatures[j], entry.LeafHash));
        }
    }

    /// <summary>Answers a committed batch once its checkpoint's witnessing ends; frees its witness-wait slot.</summary>
    private async Task AnswerWhenWitnessedAsync(List<Pending> batch, AppendOutcome[] outcomes, Task witnessed)
    {
        try
        {
            await witnessed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            AnswerWitnessed(batch, outcomes, witnessed);
        }
        catch (Exception e)
        {
            Fail(batch, e);
        }
        finally
        {
            _witnessWaits.Release();
        }
    }

    private void AnswerWitnessed(List<Pending> batch, AppendOutcome[] outcomes, Task witnessed)
    {
        if (witnessed.Exception?.InnerException is WitnessQuorumUnmetException unmet)
        {
            // Committed, but not published: each client is answered 503 and a retry finds its entry (409).
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(unmet);
            }

            return;
        }

        if (witnessed.Exception?.InnerException is { } failure)
        {
            Fail(batch, failure);
            return;
        }

        var latencies = new double[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            latencies[i] = _time.GetElapsedTime(batch[i].EnqueuedAt).TotalMilliseconds;
        }

        _latencies.Record(latencies);
        Answer(batch, outcomes);
    }

    private static void Answer(List<Pending> batch, AppendOutcome[] outcomes)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
    }

    private async Task<TreeEdge> LoadEdgeAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long size, Hash root, CancellationToken cancellationToken)
    {
        var levels = new List<(int Level, long Index, int Width)>();
        for (var level = 0; level < 64 && (level == 0 || size >> (8 * level) > 0); level++)
        {
            levels.Add((level, TileMath.FullTileCount(level, size), TileMath.PartialWidth(level, size)));
        }

        var partial = new Hash[levels.Count][];
        await using (var command = new NpgsqlCommand("""
            SELECT t.level, t.hashes
            FROM tiles t JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx
            WHERE t.log_id = $1
            """, connection, transaction))
        {
            var needed = levels.Where(l => l.Width > 0).ToList();
            command.Parameters.AddWithValue(_log.Id);
            command.Parameters.Add(new NpgsqlParameter { Value = needed.Select(l => (short)l.Level).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Smallint });
            command.Parameters.Add(new NpgsqlParameter { Value = needed.Select(l => l.Index).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var level = reader.GetInt16(0);
                partial[level] = TileStore.Decode((byte[])reader[1]);
            }
        }

        for (var i = 0; i < levels.Count; i++)
        {
            var width = levels[i].Width;
            partial[i] ??= [];
            if (partial[i].Length < width)
            {
                _integrity.Suspend(_log, $"tiles row {i}/{levels[i].Index}: expected {width} hashes (head size {size}), found {partial[i].Length}");
                throw new LogSuspendedException();
            }

            partial[i] = partial[i][..width];
        }

        var edge = new TreeEdge(size, partial);
        if (edge.Root != root)
        {
            // Storage and head disagree: appending would sign a tree nobody can verify. Refuse, now and until repaired.
            _integrity.Suspend(_log, $"logs row (head) root_hash: expected {edge.Root} (the root of the tiles at size {size}), found {root}");
            throw new LogSuspendedException();
        }

        return edge;
    }

    /// <summary>
    /// The whole write of a batch as one call of the database's append function (migration 0003): entries at the next
    /// indices, the tiles they change, their search keys and the new head with its checkpoint. The service role may
    /// write nothing else; the function refuses anything that is not a consistent extension of the log.
    /// </summary>
    private NpgsqlBatchCommand Append(
        List<Pending> batch,
        List<(int Position, long Index)> appended,
        byte[]?[] signatures,
        long integratedTime,
        IReadOnlyList<(TileId Tile, Hash[] Entries)> touched,
        TreeHead head)
    {
        var keys = new List<string>();
        var keyIndices = new List<long>();
        foreach (var (position, index) in appended)
        {
            var entry = batch[position].Entry;
            var entryKeys = entry.UniqueKey is { } unique ? entry.SearchKeys.Append(unique) : entry.SearchKeys;
            foreach (var key in entryKeys.Distinct(StringComparer.Ordinal))
            {
                keys.Add(key);
                keyIndices.Add(index);
            }
        }

        var command = new NpgsqlBatchCommand("SELECT log_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)");
        command.Parameters.AddWithValue(_log.Id);
        command.Parameters.Add(ArrayParameter(appended.Select(a => a.Index).ToArray(), NpgsqlDbType.Bigint));
        command.Parameters.Add(ArrayParameter(appended.Select(a => batch[a.Position].Entry.Body).ToArray(), NpgsqlDbType.Bytea));
        command.Parameters.Add(ArrayParameter(appended.Select(a => batch[a.Position].Entry.Kind).ToArray(), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayParameter(appended.Select(a => batch[a.Position].Entry.ApiVersion).ToArray(), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayParameter(signatures, NpgsqlDbType.Bytea));
        command.Parameters.Add(ArrayParameter(appended.Select(a => batch[a.Position].Entry.ExtraData).ToArray(), NpgsqlDbType.Bytea));
        command.Parameters.AddWithValue(integratedTime);
        command.Parameters.Add(ArrayParameter(touched.Select(t => (short)t.Tile.Level).ToArray(), NpgsqlDbType.Smallint));
        command.Parameters.Add(ArrayParameter(touched.Select(t => t.Tile.Index).ToArray(), NpgsqlDbType.Bigint));
        command.Parameters.Add(ArrayParameter(touched.Select(t => TileStore.Encode(t.Entries)).ToArray(), NpgsqlDbType.Bytea));
        command.Parameters.Add(ArrayParameter(keys.ToArray(), NpgsqlDbType.Text));
        command.Parameters.Add(ArrayParameter(keyIndices.ToArray(), NpgsqlDbType.Bigint));
        command.Parameters.AddWithValue(head.Root.ToArray());
        command.Parameters.AddWithValue(head.Checkpoint);
        command.Parameters.AddWithValue(head.SignedAt);
        return command;
    }

    private static NpgsqlParameter ArrayParameter(object values, NpgsqlDbType elementType) =>
        new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | elementType };

    private sealed record Pending(EntryToAppend Entry, TaskCompletionSource<AppendOutcome> Completion, long EnqueuedAt);

    /// <summary>
    /// How a batch sent ended for the loop: <see cref="Retry"/> holds its submissions when nothing of it was written and
    /// it is to be written again the ordinary way; <see cref="EdgeLost"/> when the prediction it rested on (or left)
    /// cannot be trusted.
    /// </summary>
    private readonly record struct Settled(List<Pending>? Retry, bool EdgeLost);

    /// <summary>A predicted batch ready to send: the head it expects under the lock and what it writes.</summary>
    private sealed record PredictedWrite(long ExpectedSize, Hash ExpectedRoot, Hash[] Leaves, string[] Keys, Written Written)
    {
        /// <summary>Set once its transaction has ended: true when committed, false when nothing was written or the
        /// outcome is unknown.</summary>
        public TaskCompletionSource<bool> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Where a batch's entries go: each new leaf's position in the batch and index (<see cref="Appended"/>, with its
    /// leaf hash at the same place in <see cref="Leaves"/>), the unique keys of the new entries (<see cref="Keys"/>),
    /// and the answers of the repeats.
    /// </summary>
    private sealed record Assignment(AppendOutcome[] Outcomes, List<(int Position, long Index)> Appended, Hash[] Leaves, string[] Keys);

    /// <summary>A batch written and its commit sent; <see cref="Commit"/> is null when nothing needed writing.</summary>
    private sealed record Written(
        NpgsqlConnection? Connection,
        NpgsqlTransaction? Transaction,
        Task? Commit,
        AppendOutcome[] Outcomes,
        List<(int Position, long Index)> Appended,
        byte[]?[] Signatures,
        long IntegratedTime,
        IReadOnlyList<(TileId Tile, Hash[] Entries)> Touched,
        IReadOnlyList<Hash[]> Partial,
        TreeHead? Head);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Log {LogName}: committed {Appended} entries ({Duplicates} duplicates), tree size {TreeSize}")]
        public static partial void BatchCommitted(ILogger logger, string logName, int appended, int duplicates, long treeSize);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Log {LogName}: a predicted batch of {Count} was not written (locked head size {LockedSize}, predicted {PredictedSize}, SQLSTATE {SqlState}); writing it again")]
        public static partial void PredictionFailed(ILogger logger, string logName, int count, long lockedSize, long predictedSize, string sqlState);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Log {LogName}: the database refused a batch of {Count} ({SqlState}); appending its entries one by one")]
        public static partial void BatchSplit(ILogger logger, string logName, int count, string sqlState);

        [LoggerMessage(Level = LogLevel.Error, Message = "Log {LogName}: {Count} entries were committed but their inclusion proofs could not be built")]
        public static partial void ProofsFailed(ILogger logger, string logName, int count, Exception exception);

        [LoggerMessage(Level = LogLevel.Error, Message = "Log {LogName}: a batch of {Count} submissions failed and none was acknowledged")]
        public static partial void BatchFailed(ILogger logger, string logName, int count, Exception exception);
    }
}
