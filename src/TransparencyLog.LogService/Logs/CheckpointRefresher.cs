using Npgsql;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// Re-signs each log's checkpoint when it has not changed for its refresh interval, so monitors can tell a quiet log
/// from a stalled one. The head row lock makes concurrent refreshers (several processes) harmless.
/// </summary>
internal sealed partial class CheckpointRefresher(
    LogRegistry registry,
    NpgsqlDataSource dataSource,
    LogHeads heads,
    ProofService proofs,
    IntegrityMonitor integrity,
    StorageAvailability availability,
    TimeProvider time,
    ILogger<CheckpointRefresher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // Follows a `shard rotate` run while this process serves, before anyone appends to it.
                if (registry.TryGet(LogKind.RekorV1, out _))
                {
                    await registry.RefreshRekorShardsAsync(stoppingToken);
                }
            }
            catch (Exception e) when (StorageAvailability.IsOutage(e))
            {
                // Reported (once per outage) by the refresh below or by whoever meets it first.
                availability.ReportFailure(e);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                Log.RefreshFailed(logger, "rekor-v1 shards", e);
            }

            // A read-only (frozen) period log signs nothing new: its last checkpoint is its final one.
            foreach (var log in registry.All.Where(static l => !l.Options.ReadOnly))
            {
                try
                {
                    await RefreshIfStaleAsync(log, stoppingToken);
                    availability.ReportSuccess();
                }
                catch (Exception e) when (StorageAvailability.IsOutage(e))
                {
                    // Also the probe that notices the database is back while no request needs it.
                    availability.ReportFailure(e);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or LogStorageException)
                {
                    Log.RefreshFailed(logger, log.Name, e);
                }
            }
        }
    }

    public async Task<bool> RefreshIfStaleAsync(LogInstance log, CancellationToken cancellationToken)
    {
        if (integrity.IsSuspended(log.Id))
        {
            return false;
        }

        // A plain read of the primary first (also the probe that tells, every second, when the primary is back): the
        // head row is locked, which makes appends wait, only when the checkpoint looks stale; the locked read decides.
        var interval = TimeSpan.FromSeconds(log.Options.CheckpointRefreshSeconds);
        await using (var peek = dataSource.CreateCommand("SELECT checkpoint_time FROM logs WHERE id = $1"))
        {
            peek.Parameters.AddWithValue(log.Id);
            if (await peek.ExecuteScalarAsync(cancellationToken) is DateTime signed
                && time.GetUtcNow() - new DateTimeOffset(signed, TimeSpan.Zero) < interval)
            {
                return false;
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var read = new NpgsqlCommand("SELECT tree_size, root_hash, checkpoint_time FROM log_lock_head($1)", connection, transaction);
        read.Parameters.AddWithValue(log.Id);
        long size;
        Merkle.Hash root;
        DateTimeOffset signedAt;
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            size = reader.GetInt64(0);
            root = Merkle.Hash.FromBytes((byte[])reader[1]);
            signedAt = reader.GetFieldValue<DateTimeOffset>(2);
        }

        var now = time.GetUtcNow();
        if (now - signedAt < interval)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        // Re-sign only a head whose root the stored tiles give; anything else was not written by a sequencer.
        var computed = await proofs.RootAsync(log.Id, size, cancellationToken);
        if (computed != root)
        {
            await transaction.RollbackAsync(cancellationToken);
            integrity.Suspend(log, $"logs row (head) root_hash: expected {computed} (the root of the tiles at size {size}), found {root}");
            return false;
        }

        var checkpoint = await log.SignCheckpointAsync(size, root, now, cancellationToken);
        await using var update = new NpgsqlCommand("SELECT log_refresh_checkpoint($1, $2, $3)", connection, transaction);
        update.Parameters.AddWithValue(log.Id);
        update.Parameters.AddWithValue(checkpoint);
        update.Parameters.AddWithValue(now);
        await update.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        heads.Observe(log.Id, new TreeHead(size, root, checkpoint, now));
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Log {LogName}: re-signing the checkpoint failed")]
        public static partial void RefreshFailed(ILogger logger, string logName, Exception exception);
    }
}
