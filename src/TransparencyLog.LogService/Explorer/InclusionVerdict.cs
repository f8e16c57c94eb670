using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// The server's own check that an entry, exactly as stored now, is in the log's current signed checkpoint: the leaf
/// hash is recomputed from the stored body (never taken from the stored leaf hash), the proof is built from tiles,
/// and the root it leads to must be the one the checkpoint signs, whose signature must verify with the log's key.
/// </summary>
internal sealed record InclusionVerdict(bool Verified, IReadOnlyList<string> Problems, TreeHead Head, IReadOnlyList<Hash> Proof, Hash ComputedLeafHash)
{
    public static async Task<InclusionVerdict> CheckAsync(
        LogInstance log, ExplorerEntry entry, TreeHead head, ProofService proofs, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var leaf = Rfc6962.HashLeaf(entry.Body);
        if (leaf != entry.LeafHash)
        {
            problems.Add($"the stored body hashes to leaf {leaf}, not to the leaf {entry.LeafHash} that was logged: the entry was changed after it was appended");
        }

        var checkpointRoot = head.Root;
        if (!new NoteVerifier(log.VerifierKey).TryVerifyCheckpoint(head.Checkpoint, out var checkpoint) || checkpoint is null)
        {
            problems.Add("the current checkpoint's signature does not verify with the log's key");
        }
        else if (checkpoint.Size != head.Size || !checkpoint.RootHash.AsSpan().SequenceEqual(head.Root.ToArray()))
        {
            problems.Add("the current checkpoint does not sign the log's recorded tree head");
            checkpointRoot = Hash.FromBytes(checkpoint.RootHash);
        }

        IReadOnlyList<Hash> proof = [];
        if (entry.Index >= head.Size)
        {
            problems.Add($"the entry is not yet covered by the current checkpoint (tree size {head.Size})");
        }
        else
        {
            proof = await proofs.InclusionAsync(log.Id, entry.Index, head.Size, cancellationToken);
            if (!ProofVerifier.VerifyInclusion(entry.Index, head.Size, leaf, proof, checkpointRoot))
            {
                problems.Add($"the inclusion proof from this entry does not lead to the signed root of tree size {head.Size}");
            }
        }

        return new InclusionVerdict(problems.Count == 0, problems, head, proof, leaf);
    }

    /// <summary>Whether the Rekor v1 signed entry timestamp verifies over the stored body, time and index.</summary>
    public static bool SetVerifies(LogInstance log, ExplorerEntry entry) =>
        entry.EntrySignature is { } set
        && SignedEntryTimestamp.Verify(log.Signer.PublicKey, set, Convert.ToBase64String(entry.Body), entry.IntegratedTime, entry.Index);
}
