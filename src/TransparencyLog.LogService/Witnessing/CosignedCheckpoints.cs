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
            cosigned = await witnessing.LatestCosignedAsync(log.Id, cancellationToken);
        }

        if (cosigned is not { } found || found.Size < head.Size)
        {
            return null;
        }

        var proof = found.Size == head.Size ? [] : await proofs.ConsistencyAsync(log.Id, head.Size, found.Size, cancellationToken);
        return new CosignedCheckpoint(found.Note, found.Size, proof);
    }
}
