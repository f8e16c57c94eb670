using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Witnessing;

/// <summary>The witness quorum was not reached within the budget (fail-closed): the checkpoint is not published.</summary>
internal sealed class WitnessQuorumUnmetException()
    : Exception("the entry is in the log, but its checkpoint has not yet been cosigned by the witness quorum; retry later (a retry answers 409 with the entry)");

/// <summary>
/// The sequencer's one hook into witnessing: <see cref="CheckpointSignedAsync"/> runs after each new checkpoint is
/// committed. It sends the checkpoint to every policy witness in parallel and keeps the lines that verify until the
/// quorum is met or the budget runs out. Fail-closed, appends are acknowledged only once the quorum cosigned; fail-open,
/// at once. The latest cosigned checkpoint is stored (<c>log_cosigned_checkpoints</c>) and served at <c>/checkpoint</c>.
/// Without a policy file it does nothing.
/// </summary>
internal sealed partial class CheckpointWitnessing : IDisposable
{
    private readonly WitnessingOptions _options;
    private readonly WitnessPolicy? _policy;
    private readonly IReadOnlyList<WitnessClient> _clients;
    private readonly NpgsqlDataSource _dataSource;
    private readonly HttpClient _http;
    private readonly ProofService _proofs;
    private readonly ILogger<CheckpointWitnessing> _logger;
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _rounds = new();
    private readonly ConcurrentDictionary<int, (long Size, string Note)> _cosigned = new();
    private readonly ConcurrentDictionary<int, TreeHead> _latest = new();
    private readonly ConcurrentDictionary<int, Waiters> _waiters = new();

    // Fail-open: when each log's last round started, and when its cosigned checkpoint was last read from the database
    // (TimeProvider timestamps).
    private readonly ConcurrentDictionary<int, long> _roundStarted = new();
    private readonly ConcurrentDictionary<int, long> _storeRead = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _failOpenInterval;

    public CheckpointWitnessing(IOptions<WitnessingOptions> options, ProofService proofs, NpgsqlDataSource dataSource, TimeProvider time, ILogger<CheckpointWitnessing> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _dataSource = dataSource;
        _proofs = proofs;
        _time = time;
        _logger = logger;
        _failOpenInterval = TimeSpan.FromMilliseconds(_options.FailOpenRoundIntervalMilliseconds);
        // Keep-alive connections to the witnesses, never cancelled mid-request (see WitnessClient), so a round reuses them.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        if (string.IsNullOrWhiteSpace(_options.PolicyFile))
        {
            _clients = [];
            return;
        }

        _policy = LoadPolicy(_options.PolicyFile);
        _clients = [.. _policy.Witnesses.Select(w => new WitnessClient(w, _http, logger))];
    }

    public bool Enabled => _policy is not null;

    public WitnessingMode Mode => _options.Mode;

    /// <summary>
    /// After <paramref name="head"/> of <paramref name="log"/> was committed. Fail-closed: returns once the quorum
    /// cosigned, or throws <see cref="WitnessQuorumUnmetException"/> when the budget ran out. Fail-open: returns at once.
    /// </summary>
    public async Task CheckpointSignedAsync(LogInstance log, TreeHead head)
    {
        if (_policy is null)
        {
            return;
        }

        _latest.AddOrUpdate(log.Id, head, (_, old) => old.Size >= head.Size ? old : head);
        if (_options.Mode == WitnessingMode.FailOpen)
        {
            StartRounds(log);
            return;
        }

        // Fail-closed: wait until a cosigned checkpoint covers this head. One round per log is in flight at a time,
        // always for the newest head, so many small batches cost the witnesses one request each per round, not one
        // request per batch; a later cosigned checkpoint covers every earlier head (consistency proofs join them).
        var waiters = _waiters.GetOrAdd(log.Id, _ => new Waiters());
        var waiter = waiters.Add(head.Size);
        if (LatestKnown(log.Id) is { } known)
        {
            waiters.Release(known.Size);
        }

        StartRounds(log);
        try
        {
            await waiter.WaitAsync(TimeSpan.FromMilliseconds(_options.BudgetMilliseconds));
        }
        catch (TimeoutException)
        {
            waiters.Remove(waiter);
            throw new WitnessQuorumUnmetException();
        }
    }

    /// <summary>
    /// What <c>/checkpoint</c> serves: the latest checkpoint that carries cosignatures (fail-closed: only one whose quorum
    /// was met), unless fail-open and the log has grown past it; the log-signed head when none was cosigned yet.
    /// </summary>
    public async Task<string> ServedCheckpointAsync(LogInstance log, TreeHead head, CancellationToken cancellationToken)
    {
        if (_policy is null)
        {
            return head.Checkpoint;
        }

        var cosigned = await LatestCosignedAsync(log.Id, cancellationToken);
        if (cosigned is not { } found || (_options.Mode == WitnessingMode.FailOpen && found.Size < head.Size))
        {
            return head.Checkpoint;
        }

        return found.Note;
    }

    /// <summary>The latest cosigned checkpoint this process stored or read, without asking the database.</summary>
    public (long Size, string Note)? LatestKnown(int logId) => _cosigned.TryGetValue(logId, out var known) ? known : null;

    /// <summary>The latest cosigned checkpoint of <paramref name="logId"/> (this process's, or another's from the database).</summary>
    public async Task<(long Size, string Note)?> LatestCosignedAsync(int logId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT tree_size, note FROM log_cosigned_checkpoints WHERE log_id = $1");
        command.Parameters.AddWithValue(logId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        _storeRead[logId] = _time.GetTimestamp();
        if (await reader.ReadAsync(cancellationToken))
        {
            var stored = (reader.GetInt64(0), reader.GetString(1));
            return _cosigned.AddOrUpdate(logId, stored, (_, mine) => mine.Size > stored.Item1 ? mine : stored);
        }

        return _cosigned.TryGetValue(logId, out var local) ? local : null;
    }

    /// <summary>
    /// The latest cosigned checkpoint to answer beside a proof when this process's own trails the proof's head. Fail-open,
    /// it trails every head committed since the last round, so the database is asked at most once per round interval
    /// per log, not once per answer: another process's newer cosigned checkpoint still shows within that interval, and
    /// a fail-open answer without one only says the round has not caught up yet. Fail-closed, as
    /// <see cref="LatestCosignedAsync"/>.
    /// </summary>
    public async Task<(long Size, string Note)?> LatestCosignedBesideAsync(int logId, CancellationToken cancellationToken)
    {
        if (_options.Mode == WitnessingMode.FailOpen && _storeRead.TryGetValue(logId, out var read) && _time.GetElapsedTime(read) < _failOpenInterval)
        {
            return LatestKnown(logId);
        }

        return await LatestCosignedAsync(logId, cancellationToken);
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var round in _rounds.Values)
        {
            round.Dispose();
        }
    }

    /// <summary>
    /// One background loop per log keeps asking for the newest head until it is cosigned (a newer checkpoint covers
    /// every older one, so heads that arrive meanwhile are not queued) and releases the fail-closed waiters it covers.
    /// Fail-open, rounds start at most once per <see cref="WitnessingOptions.FailOpenRoundIntervalMilliseconds"/>.
    /// After a failed round it pauses (fail-open: a second; fail-closed: briefly, while appends still wait, and stops
    /// when none does: the next batch starts it again).
    /// </summary>
    private void StartRounds(LogInstance log)
    {
        var round = _rounds.GetOrAdd(log.Id, _ => new SemaphoreSlim(1, 1));
        if (!round.Wait(0))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            long done = -1;
            try
            {
                var failClosed = _options.Mode == WitnessingMode.FailClosed;
                while (true)
                {
                    if (!failClosed)
                    {
                        await PaceAsync(log.Id);
                    }

                    if (!(_latest.TryGetValue(log.Id, out var head) && head.Size > done))
                    {
                        break;
                    }

                    _roundStarted[log.Id] = _time.GetTimestamp();
                    var (met, note) = await CollectAsync(log, head);
                    if (note is not null)
                    {
                        // Served from memory at once (the note verifies on its own); the waiters are answered before
                        // the row that lets other processes serve it too is written.
                        _cosigned.AddOrUpdate(log.Id, (head.Size, note), (_, old) => old.Size > head.Size ? old : (head.Size, note));
                        if (met && _waiters.TryGetValue(log.Id, out var waiters))
                        {
                            waiters.Release(head.Size);
                        }

                        await StoreAsync(log.Id, head.Size, note);
                    }

                    if (met)
                    {
                        done = head.Size;
                    }
                    else if (failClosed && !(_waiters.TryGetValue(log.Id, out var waiting) && waiting.Any))
                    {
                        break;
                    }
                    else
                    {
                        await Task.Delay(failClosed ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1));
                    }
                }
            }
            catch (Exception e) when (e is NpgsqlException or Storage.LogStorageException or InvalidOperationException)
            {
                LogStoreFailed(_logger, log.Id, e);
            }
            finally
            {
                round.Release();
            }

            // A head that arrived between the last check and the release found the loop busy: pick it up now (fail-
            // closed: only while an append waits for it).
            if (_latest.TryGetValue(log.Id, out var newest) && newest.Size > done
                && (_options.Mode == WitnessingMode.FailOpen || (_waiters.TryGetValue(log.Id, out var left) && left.Any)))
            {
                StartRounds(log);
            }
        });
    }

    /// <summary>
    /// Fail-open: waits until <see cref="WitnessingOptions.FailOpenRoundIntervalMilliseconds"/> have passed since the
    /// log's last round started, so the round that follows asks for the newest checkpoint of that moment.
    /// </summary>
    private async Task PaceAsync(int logId)
    {
        if (!_roundStarted.TryGetValue(logId, out var started))
        {
            return;
        }

        var wait = _failOpenInterval - _time.GetElapsedTime(started);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time);
        }
    }

    /// <summary>
    /// One round: all witnesses at once. Met once their verified lines satisfy the quorum; the note carries the lines
    /// collected (null when none is to be kept: fail-closed below the quorum, or no line at all).
    /// </summary>
    private async Task<(bool Met, string? Note)> CollectAsync(LogInstance log, TreeHead head)
    {
        var policy = _policy!;
        var started = Stopwatch.GetTimestamp();
        using var budget = new CancellationTokenSource(TimeSpan.FromMilliseconds(_options.BudgetMilliseconds));
        var timeout = TimeSpan.FromMilliseconds(Math.Min(_options.WitnessTimeoutMilliseconds, _options.BudgetMilliseconds));
        var proofs = new RoundProofs(_proofs);
        var pending = _clients.ToDictionary(c => (Task<string?>)c.CosignAsync(log, head, timeout, proofs, budget.Token), c => c);
        var lines = new Dictionary<string, string>(StringComparer.Ordinal);
        var met = policy.IsSatisfiedBy(new HashSet<string>());
        var expired = Task.Delay(Timeout.InfiniteTimeSpan, budget.Token);
        while (!met && pending.Count > 0)
        {
            var next = await Task.WhenAny(pending.Keys.Cast<Task>().Append(expired));
            if (next == expired)
            {
                break;
            }

            var done = (Task<string?>)next;
            var client = pending[done];
            pending.Remove(done);
            try
            {
                if (await done is { } line)
                {
                    lines[client.Witness.Name] = line;
                    met = policy.IsSatisfiedBy(lines.Keys.ToHashSet(StringComparer.Ordinal));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or NpgsqlException or Storage.LogStorageException)
            {
                WitnessingMetrics.Failures.WithLabels(client.Witness.Name, "proof").Inc();
            }
        }

        // Requests not yet sent (their witness still busy with an earlier round) are not needed now; those in flight
        // finish within their own timeout, so the witness's work is not thrown away and the next round knows its size.
        await budget.CancelAsync();
        foreach (var straggler in pending.Keys)
        {
            _ = straggler.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        WitnessingMetrics.QuorumWait.WithLabels(log.Name, met ? "met" : "unmet").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (!met)
        {
            LogQuorumUnmet(_logger, log.Name, head.Size, lines.Count);
            if (_options.Mode == WitnessingMode.FailClosed || lines.Count == 0)
            {
                return (false, null);
            }
        }

        // Cosignatures follow the log's own signature, in policy order.
        return (met, head.Checkpoint + string.Concat(policy.Witnesses.Where(w => lines.ContainsKey(w.Name)).Select(w => lines[w.Name])));
    }

    private async Task StoreAsync(int logId, long size, string note)
    {
        try
        {
            await using var command = _dataSource.CreateCommand("""
                INSERT INTO log_cosigned_checkpoints (log_id, tree_size, note, cosigned_at) VALUES ($1, $2, $3, now())
                ON CONFLICT (log_id) DO UPDATE SET tree_size = EXCLUDED.tree_size, note = EXCLUDED.note, cosigned_at = EXCLUDED.cosigned_at
                WHERE log_cosigned_checkpoints.tree_size <= EXCLUDED.tree_size
                """);
            command.Parameters.AddWithValue(logId);
            command.Parameters.AddWithValue(size);
            command.Parameters.AddWithValue(note);
            await command.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException e)
        {
            // This process still serves it; another process picks it up on its next store.
            LogStoreFailed(_logger, logId, e);
        }
    }

    private static WitnessPolicy LoadPolicy(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > WitnessPolicy.MaxBytes)
            {
                throw new FormatException($"a witness policy is at most {WitnessPolicy.MaxBytes} bytes");
            }

            var policy = WitnessPolicy.Parse(File.ReadAllText(path));
            if (policy.Witnesses.Any(w => w.Url is null))
            {
                throw new FormatException("every witness line needs a URL for the log to reach it");
            }

            return policy;
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Witnessing:PolicyFile {path}: {e.Message}", e);
        }
    }

    /// <summary>Fail-closed appends waiting for a cosigned checkpoint of at least their head's size.</summary>
    private sealed class Waiters
    {
        private readonly List<(long Size, TaskCompletionSource Done)> _list = [];

        public bool Any
        {
            get
            {
                lock (_list)
                {
                    return _list.Count > 0;
                }
            }
        }

        public Task Add(long size)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_list)
            {
                _list.Add((size, done));
            }

            return done.Task;
        }

        /// <summary>Completes every waiter whose head a cosigned checkpoint of <paramref name="cosignedSize"/> covers.</summary>
        public void Release(long cosignedSize)
        {
            lock (_list)
            {
                foreach (var (_, done) in _list.Where(w => w.Size <= cosignedSize))
                {
                    done.TrySetResult();
                }

                _list.RemoveAll(w => w.Size <= cosignedSize);
            }
        }

        public void Remove(Task waiter)
        {
            lock (_list)
            {
                _list.RemoveAll(w => w.Done.Task == waiter);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Log} at size {Size}: witness quorum not met within the budget ({Cosigned} cosignatures)")]
    private static partial void LogQuorumUnmet(ILogger logger, string log, long size, int cosigned);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not store the cosigned checkpoint of log {LogId}")]
    private static partial void LogStoreFailed(ILogger logger, int logId, Exception exception);
}
