using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Proofs;

/// <summary>
/// At start-up, computes the summaries (<see cref="TileSummaries"/>) of the stored full level-0 tiles, newest first, for
/// as many as the summary cache holds, in the background: until a tile's summary is held, a read of one of its entries
/// fetches the whole tile. One statement per 512 tiles, on the standby when there is one; reads are served meanwhile.
/// <c>tlog_tile_summary_warmup_running</c> is 1 until it is done.
/// </summary>
internal sealed partial class TileSummaryWarmup(
    LogOpening opening, LogRegistry registry, TileStore tiles, ReadReplica replica, IOptions<StorageOptions> options, ILogger<TileSummaryWarmup> logger)
    : BackgroundService
{
    private const int TilesPerStatement = 512;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TileSummaryWarmup || tiles.Summaries.Capacity == 0)
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
            long warmed = 0;
            foreach (var log in registry.All)
            {
                warmed += await WarmAsync(log, tiles.Summaries.Capacity - warmed, stoppingToken);
            }

            Log.Warmed(logger, warmed, Stopwatch.GetElapsedTime(started).TotalSeconds);
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

        [LoggerMessage(Level = LogLevel.Warning, Message = "Tile summaries: the start-up pass stopped; reads fill them as they fetch tiles")]
        public static partial void WarmupFailed(ILogger logger, Exception exception);
    }
}
