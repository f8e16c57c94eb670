using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Witnessing;

/// <summary>
/// A cosigned checkpoint served beside an entry's inclusion proof: the proof's own checkpoint stays log-signed (sigstore
/// clients reject unknown signature lines), and this one, of the same or a larger size, carries the witnesses' lines,
/// with the consistency proof from the proof's tree to it (empty when the sizes are equal).
/// </summary>
internal sealed record CosignedCheckpoint(string Note, long Size, IReadOnlyList<Hash> ConsistencyProof);

/// <summary>Finds the cosigned checkpoint to put beside a proof against a given tree head.</summary>
internal sealed class CosignedCheckpoints(CheckpointWitnessing witnessing, ProofService proofs)
{
    // The last consistency proof made per log: every entry of a batch is answered beside the same cosigned checkpoint
    // from the same head, so the batch reads the tiles once (a proof between two sizes of the log never changes).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (long From, long To, IReadOnlyList<Hash> Proof)> _lastProof = new();

    /// <summary>
    /// The latest cosigned checkpoint of <paramref name="log"/> when it covers <paramref name="head"/> (size at least
    /// the head's), with the consistency proof from the head to it; null without witnessing, or when the cosigned
    /// checkpoint trails the head (fail-open, still collecting).
    /// </summary>
    public async Task<CosignedCheckpoint?> BesideAsync(LogInstance log, TreeHead head, CancellationToken cancellationToken)
    {
        if (!witnessing.Enabled)
        {
            return null;
        }

        var cosigned = witnessing.LatestKnown(log.Id);
        if (cosigned is not { } known || known.Size < head.Size)
        {
            cosigned = await witnessing.LatestCosignedBesideAsync(log.Id, cancellationToken);
        }

        if (cosigned is not { } found || found.Size < head.Size)
        {
            return null;
        }

        return new CosignedCheckpoint(found.Note, found.Size, await ConsistencyAsync(log.Id, head.Size, found.Size, cancellationToken));
    }

    private async Task<IReadOnlyList<Hash>> ConsistencyAsync(int logId, long from, long to, CancellationToken cancellationToken)
    {
        if (from == to)
        {
            return [];
        }

        if (_lastProof.TryGetValue(logId, out var last) && last.From == from && last.To == to)
        {
            return last.Proof;
        }

        var proof = await proofs.ConsistencyAsync(logId, from, to, cancellationToken);
        _lastProof[logId] = (from, to, proof);
        return proof;
    }
}
