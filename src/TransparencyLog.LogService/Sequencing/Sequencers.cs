using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Witnessing;

namespace TransparencyLog.LogService.Sequencing;

/// <summary>One sequencer per log this process serves, created when the log is opened.</summary>
internal sealed class Sequencers(
    NpgsqlDataSource dataSource,
    TileStore tiles,
    EntryCache entries,
    ProofService proofs,
    LogHeads heads,
    IntegrityMonitor integrity,
    StorageAvailability availability,
    TimeProvider time,
    CheckpointWitnessing witnessing,
    IOptions<SequencerOptions> options,
    ILoggerFactory loggers) : IAsyncDisposable
{
    /// <summary>The latencies of this process's recent appends, over every log (the explorer's health page).</summary>
    public AppendLatencies Latencies { get; } = new();

    private readonly Dictionary<int, Sequencer> _byLog = [];

    public Sequencer For(LogInstance log)
    {
        lock (_byLog)
        {
            if (!_byLog.TryGetValue(log.Id, out var sequencer))
            {
                sequencer = new Sequencer(log, dataSource, tiles, entries, proofs, heads, integrity, availability, time, witnessing, options.Value, loggers.CreateLogger<Sequencer>(), Latencies);
                _byLog[log.Id] = sequencer;
            }

            return sequencer;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Sequencer[] all;
        lock (_byLog)
        {
            all = [.. _byLog.Values];
            _byLog.Clear();
        }

        foreach (var sequencer in all)
        {
            await sequencer.DisposeAsync();
        }
    }
}
