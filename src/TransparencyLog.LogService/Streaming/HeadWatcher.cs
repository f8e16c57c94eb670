using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Logs;

namespace TransparencyLog.LogService.Streaming;

/// <summary>
/// Wakes stream subscribers when the Rekor v1 log grows, in global (virtual) indices across shards: the size it
/// publishes is the active shard's start plus its committed size, so a shard rotation only ever moves it forward.
/// It reads committed heads only (what the sequencer recorded
/// in <see cref="LogHeads"/> after its commit, or the database for other processes' appends), so a subscriber never
/// sees an entry that is not durable, and the sequencer knows nothing of streams. Polls only while someone waits.
/// </summary>
internal sealed partial class HeadWatcher(
    LogRegistry registry, Hosting.LogOpening opening, LogHeads heads, IOptions<EntryStreamOptions> options, TimeProvider time, ILogger<HeadWatcher> logger)
    : BackgroundService
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _grown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _wanted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiters;
    private long _size = -1;

    /// <summary>The committed global size, waiting (at most until cancelled) until it exceeds <paramref name="known"/>.</summary>
    public async Task<long> WaitBeyondAsync(long known, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task grown;
            lock (_lock)
            {
                if (_size > known)
                {
                    return _size;
                }

                grown = _grown.Task;
                _waiters++;
                _wanted.TrySetResult();
            }

            try
            {
                await grown.WaitAsync(cancellationToken);
            }
            finally
            {
                lock (_lock)
                {
                    _waiters--;
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await opening.WhenOpenAsync(stoppingToken);
        var interval = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            Task wanted;
            lock (_lock)
            {
                if (_waiters == 0)
                {
                    _wanted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                wanted = _wanted.Task;
            }

            try
            {
                await wanted.WaitAsync(stoppingToken);
                // The active shard is looked up each time: a rotation (followed by the registry) moves it.
                var log = registry.Get(LogKind.RekorV1);
                var head = await heads.GetServableAsync(log.Id, fresh: false, stoppingToken);
                Publish(log.ShardStart + head.Size);
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.PollFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Publish(long size)
    {
        TaskCompletionSource? woken = null;
        lock (_lock)
        {
            if (size > _size)
            {
                _size = size;
                woken = _grown;
                _grown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        woken?.TrySetResult();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the log head for entry streams failed; retrying")]
        public static partial void PollFailed(ILogger logger, Exception exception);
    }
}
