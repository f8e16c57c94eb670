using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>
/// At start-up, in the background: first fills, on the primary, the stored summaries (migration 0015) of full level-0
/// tiles stored before that migration (<c>tile_summaries_fill</c>, 256 tiles per call, newest first; a log written since
/// has none to fill, the call finds nothing); then, when a summary cache is configured
/// (<see cref="StorageOptions.TileSummaryCacheBytes"/>, default 0), computes the summaries of the stored full tiles for as
/// many as it holds, on the standby when there is one. Until a tile's summary is stored or held, a read of one of its
/// entries fetches the whole tile; reads are served meanwhile. <c>tlog_tile_summary_warmup_running</c> is 1 until it is done.
/// </summary>
internal sealed partial class TileSummaryWarmup(
    LogOpening opening, LogRegistry registry, TileStore tiles, ReadReplica replica, IOptions<StorageOptions> options, ILogger<TileSummaryWarmup> logger)
    : BackgroundService
{
    private const int TilesPerStatement = 512;

    private const int TilesPerFill = 256;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TileSummaryWarmup)
        {
            return;
        }

        LogServiceMetrics.TileSummaryWarmupRunning.Set(1);
        try
        {
            await opening.WhenOpenAsync(stoppingToken);
            // Off the start-up path: the first await above may have completed synchronously.
            await Task.Yield();
            var started = Stopwatch.GetTimestamp();
            long filled = 0;
            foreach (var log in registry.All)
            {
                filled += await FillAsync(log, stoppingToken);
            }

            if (filled > 0)
            {
                Log.Filled(logger, filled, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }

            if (tiles.Summaries.Capacity > 0)
            {
                started = Stopwatch.GetTimestamp();
                long warmed = 0;
                foreach (var log in registry.All)
                {
                    warmed += await WarmAsync(log, tiles.Summaries.Capacity - warmed, stoppingToken);
                }

                Log.Warmed(logger, warmed, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // Not needed for correctness: reads fetch whole tiles and keep their summaries as before.
            Log.WarmupFailed(logger, e);
        }
        finally
        {
            LogServiceMetrics.TileSummaryWarmupRunning.Set(0);
        }
    }

    /// <summary>Stores the summaries the log's full level-0 tiles lack (those stored before migration 0015).</summary>
    private async Task<long> FillAsync(LogInstance log, CancellationToken cancellationToken)
    {
        long filled = 0;
        while (true)
        {
            // Always the primary: a standby is read-only, and replays what this writes.
            await using var command = replica.Primary.CreateCommand("SELECT tile_summaries_fill($1, $2)");
            command.Parameters.AddWithValue(log.Id);
            command.Parameters.AddWithValue(TilesPerFill);
            var count = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
            filled += count;
            if (count < TilesPerFill)
            {
                return filled;
            }
        }
    }

    private async Task<long> WarmAsync(LogInstance log, long budget, CancellationToken cancellationToken)
    {
        long warmed = 0;
        var below = long.MaxValue;
        while (warmed < budget)
        {
            await using var command = replica.Reads.CreateCommand("""
                SELECT idx, hashes FROM tiles
                WHERE log_id = $1 AND level = 0 AND idx < $2 AND octet_length(hashes) = $3
                ORDER BY idx DESC LIMIT $4
                """);
            command.Parameters.AddWithValue(log.Id);
            command.Parameters.AddWithValue(below);
            command.Parameters.AddWithValue(TileMath.Width * Hash.Size);
            command.Parameters.AddWithValue((int)Math.Min(TilesPerStatement, budget - warmed));
            var read = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    below = reader.GetInt64(0);
                    read++;
                    if (!tiles.Summaries.TryGet(log.Id, below, out _))
                    {
                        tiles.Summaries.Remember(log.Id, below, TileSummaries.Summarize(TileStore.Decode((byte[])reader[1])));
                    }
                }
            }

            warmed += read;
            if (read < TilesPerStatement)
            {
                break;
            }
        }

        return warmed;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Tile summaries: {Tiles} full level-0 tiles summarized in {Seconds:F1} s")]
        public static partial void Warmed(ILogger logger, long tiles, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Tile summaries: {Tiles} full level-0 tiles stored before migration 0015 given their summary in {Seconds:F1} s")]
        public static partial void Filled(ILogger logger, long tiles, double seconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Tile summaries: the start-up pass stopped; reads of tiles without a stored summary fetch them whole")]
        public static partial void WarmupFailed(ILogger logger, Exception exception);
    }
}
