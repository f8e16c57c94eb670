using System.Text.Json;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>A Rekor v1 LogEntry as a client reads it, and the checks a client makes on it.</summary>
internal sealed record RekorEntry(
    string Uuid,
    string BodyBase64,
    long IntegratedTime,
    string LogId,
    long LogIndex,
    string Checkpoint,
    IReadOnlyList<Hash> Hashes,
    long ProofIndex,
    Hash RootHash,
    long TreeSize,
    byte[] Set)
{
    public Hash LeafHash => Rfc6962.HashLeaf(Convert.FromBase64String(BodyBase64));

    public static RekorEntry Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var property = document.RootElement.EnumerateObject().Single();
        var value = property.Value;
        var proof = value.GetProperty("verification").GetProperty("inclusionProof");
        return new RekorEntry(
            property.Name,
            value.GetProperty("body").GetString()!,
            value.GetProperty("integratedTime").GetInt64(),
            value.GetProperty("logID").GetString()!,
            value.GetProperty("logIndex").GetInt64(),
            proof.GetProperty("checkpoint").GetString()!,
            proof.GetProperty("hashes").EnumerateArray().Select(h => Hash.FromHex(h.GetString()!)).ToList(),
            proof.GetProperty("logIndex").GetInt64(),
            Hash.FromHex(proof.GetProperty("rootHash").GetString()!),
            proof.GetProperty("treeSize").GetInt64(),
            Convert.FromBase64String(value.GetProperty("verification").GetProperty("signedEntryTimestamp").GetString()!));
    }

    /// <summary>
    /// Everything sigstore-js and the legacy verifier check: SET, checkpoint signature, proof against the checkpoint,
    /// and proof root/size equal to the checkpoint's.
    /// </summary>
    public void AssertVerifies(LogPublicKey key, string logName)
    {
        Assert.Equal(key.LogIdHex, LogId);
        Assert.Equal(LogIndex, ProofIndex);
        Assert.True(SignedEntryTimestampVerifies(key), "the signed entry timestamp does not verify");
        Assert.True(new NoteVerifier(logName, key).TryVerifyCheckpoint(Checkpoint, out var checkpoint), "the checkpoint signature does not verify");
        Assert.Equal(TreeSize, checkpoint!.Size);
        Assert.Equal(RootHash, Hash.FromBytes(checkpoint.RootHash));
        Assert.True(ProofVerifier.VerifyInclusion(LogIndex, TreeSize, LeafHash, Hashes, RootHash), $"the inclusion proof of {LogIndex} at size {TreeSize} does not verify");
        Assert.EndsWith(LeafHash.ToString(), Uuid, StringComparison.Ordinal);
    }

    /// <summary>
    /// <see cref="AssertVerifies"/> for an entry of a Rekor v1 shard starting at global index <paramref name="shardStart"/>:
    /// the entry's index (and its SET) is global, the proof's index is the shard's own.
    /// </summary>
    public void AssertVerifiesInShard(LogPublicKey key, string origin, long shardStart)
    {
        Assert.Equal(key.LogIdHex, LogId);
        Assert.Equal(shardStart + ProofIndex, LogIndex);
        Assert.True(SignedEntryTimestampVerifies(key), "the signed entry timestamp does not verify over the global index");
        var name = origin[..origin.IndexOf(" - ", StringComparison.Ordinal)];
        Assert.True(new NoteVerifier(name, key).TryVerifyCheckpoint(Checkpoint, out var checkpoint), "the checkpoint signature does not verify");
        Assert.Equal(origin, checkpoint!.Origin);
        Assert.Equal(TreeSize, checkpoint.Size);
        Assert.Equal(RootHash, Hash.FromBytes(checkpoint.RootHash));
        Assert.True(ProofVerifier.VerifyInclusion(ProofIndex, TreeSize, LeafHash, Hashes, RootHash), $"the inclusion proof of {ProofIndex} at size {TreeSize} does not verify");
        Assert.EndsWith(LeafHash.ToString(), Uuid, StringComparison.Ordinal);
    }

    public bool SignedEntryTimestampVerifies(LogPublicKey key) =>
        Sigstore.Rekor.SignedEntryTimestamp.Verify(key, Set, BodyBase64, IntegratedTime, LogIndex);
}
