using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Rekor;

/// <summary>Reads entries together with an inclusion proof against one signed tree head.</summary>
internal sealed class EntryReader(EntryStore entries, LogHeads heads, ProofService proofs)
{
    public async Task<VerifiedEntry?> ByIndexAsync(LogInstance log, long index, CancellationToken cancellationToken)
    {
        var head = await heads.GetAsync(log.Id, fresh: false, cancellationToken);
        if (index >= head.Size)
        {
            // Possibly appended by another process since the cached head was read (or not yet replayed by a standby).
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
            if (index >= head.Size)
            {
                return null;
            }
        }

        var stored = await entries.GetByIndexAsync(log.Id, index, cancellationToken);
        return stored is null ? null : await WithProofAsync(log, stored, head, cancellationToken);
    }

    public async Task<VerifiedEntry?> ByLeafHashAsync(LogInstance log, Hash leafHash, CancellationToken cancellationToken)
    {
        var stored = await entries.GetByLeafHashAsync(log.Id, leafHash, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        var head = await heads.GetAsync(log.Id, fresh: false, cancellationToken);
        if (stored.Index >= head.Size)
        {
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
        }

        return await WithProofAsync(log, stored, head, cancellationToken);
    }

    private async Task<VerifiedEntry> WithProofAsync(LogInstance log, StoredEntry stored, TreeHead head, CancellationToken cancellationToken)
    {
        var proof = await proofs.InclusionAsync(log.Id, stored.Index, head.Size, cancellationToken);

        // Check our own answer before giving it out: a proof that fails here would fail at every verifier.
        if (!ProofVerifier.VerifyInclusion(stored.Index, head.Size, stored.LeafHash, proof, head.Root))
        {
            throw new LogStorageException($"log {log.Name}: inclusion proof for entry {stored.Index} at size {head.Size} does not verify");
        }

        return new VerifiedEntry(stored.Index, stored.Body, stored.IntegratedTime, stored.EntrySignature, stored.LeafHash, head, proof);
    }
}
