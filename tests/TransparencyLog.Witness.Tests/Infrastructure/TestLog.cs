using TransparencyLog.Tests.Shared;
using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>
/// A transparency log kept in memory: random leaves, checkpoints signed with a real key (Ed25519 or ECDSA), and
/// consistency proofs built from <see cref="ProofPlanner"/> plans over the leaves, as a real log builds them from tiles.
/// </summary>
internal sealed class TestLog : IDisposable
{
    private readonly List<Hash> _leaves = [];
    private readonly LogSigner _key;
    private readonly NoteSigner _signer;

    public TestLog(string origin, LogKeyType keyType = LogKeyType.Ed25519, string? keyName = null)
    {
        Origin = origin;
        _key = LogSigner.Generate(keyType);
        _signer = new NoteSigner(keyName ?? origin, _key);
    }

    public string Origin { get; }

    public string VerifierKey => _signer.VerifierKey;

    public long Size => _leaves.Count;

    /// <summary>A copy of this log with the same key and leaves, to fork from.</summary>
    public TestLog Fork()
    {
        var fork = new TestLog(Origin, _key, _signer);
        fork._leaves.AddRange(_leaves);
        return fork;
    }

    private TestLog(string origin, LogSigner key, NoteSigner signer)
    {
        Origin = origin;
        _key = key;
        _signer = signer;
    }

    public TestLog Append(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _leaves.Add(Rfc6962.HashLeaf(RandomNumberGenerator.GetBytes(32)));
        }

        return this;
    }

    public Hash Root(long size) => Rfc6962.RootFromLeafHashes(_leaves.Take((int)size).ToArray());

    /// <summary>The log-signed checkpoint at <paramref name="size"/> (the current size by default).</summary>
    public string Checkpoint(long? size = null, params string[] extensions)
    {
        var n = size ?? Size;
        return SignedNote.SignAsync(new Checkpoint(Origin, n, Root(n).ToArray(), extensions).ToNoteText(), _signer).Completed();
    }

    /// <summary>A checkpoint for any root, with this log's valid signature (a log that misbehaves).</summary>
    public string SignedCheckpoint(long size, Hash root) =>
        SignedNote.SignAsync(new Checkpoint(Origin, size, root.ToArray()).ToNoteText(), _signer).Completed();

    public Hash[] Proof(long from, long to)
    {
        if (from == 0 || from == to)
        {
            return [];
        }

        var plan = ProofPlanner.Consistency(from, to);
        return plan.Assemble(plan.Nodes.Select(node =>
        {
            var start = (int)(node.Index << node.Level);
            var count = 1 << node.Level;
            return Rfc6962.RootFromLeafHashes(_leaves.Skip(start).Take(count).ToArray());
        }).ToArray());
    }

    /// <summary>An add-checkpoint body: <c>old N</c>, the proof lines, an empty line, the note.</summary>
    public static string Body(long old, IEnumerable<Hash> proof, string note)
    {
        var builder = new StringBuilder().Append("old ").Append(old).Append('\n');
        foreach (var hash in proof)
        {
            builder.Append(Convert.ToBase64String(hash.ToArray())).Append('\n');
        }

        return builder.Append('\n').Append(note).ToString();
    }

    /// <summary>The body asking to cosign the current size, proved from <paramref name="old"/>.</summary>
    public string BodyFrom(long old) => Body(old, Proof(old, Size), Checkpoint());

    public void Dispose()
    {
    }
}
