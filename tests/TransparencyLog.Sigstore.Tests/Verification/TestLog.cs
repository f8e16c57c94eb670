using TransparencyLog.Tests.Shared;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.Sigstore.Tests.Verification;

/// <summary>
/// A Rekor v1 log in memory: real canonical bodies (through <see cref="ProposedEntryParser"/>), a real RFC 6962 tree
/// of several leaves, SETs and a checkpoint signed as the log service signs them.
/// </summary>
internal sealed class TestLog : IDisposable
{
    public const string Host = "rekor.test";
    public const string BaseUrl = "https://rekor.test";

    private readonly List<byte[]> _bodies = [];

    public TestLog()
    {
        Signer = LogSigner.Generate(LogKeyType.EcdsaP256);
        NoteSigner = new NoteSigner(Host, Signer);

        // Unrelated entries around ours, so that proofs have siblings on both sides.
        for (var i = 0; i < 3; i++)
        {
            _bodies.Add(Encoding.UTF8.GetBytes($"{{\"filler\":{i}}}"));
        }
    }

    public LogSigner Signer { get; }

    public NoteSigner NoteSigner { get; }

    public int Size => _bodies.Count;

    /// <summary>Canonicalizes and appends a proposed entry; returns its index.</summary>
    public long Append(JsonObject proposedEntry)
    {
        var proposed = ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(proposedEntry.ToJsonString()), new EntryLimits());
        _bodies.Add(proposed.CanonicalBody);
        return _bodies.Count - 1;
    }

    public void AppendFiller(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _bodies.Add(Encoding.UTF8.GetBytes($"{{\"after\":{_bodies.Count}}}"));
        }
    }

    public byte[] Body(long index) => _bodies[(int)index];

    public Hash Root => ReferenceMerkle.Root([.. _bodies.Select(static b => Rfc6962.HashLeaf(b))]);

    public string SignedCheckpoint() =>
        SignedNote.SignAsync(new Checkpoint($"{Host} - 1234", Size, Root.ToArray(), ["Timestamp: 1"]).ToNoteText(), NoteSigner).Completed();

    /// <summary>The bundle entry for <paramref name="index"/> at the current tree size, as sigstore-js maps a Rekor 201.</summary>
    public TransparencyLogEntry Entry(long index, long integratedTime, string kind, string version)
    {
        var body = Body(index);
        var set = SignedEntryTimestamp.SignAsync(Signer, Convert.ToBase64String(body), integratedTime, index).Completed();
        var leaves = _bodies.Select(static b => Rfc6962.HashLeaf(b)).ToArray();
        var proof = ReferenceMerkle.InclusionProof(index, leaves);
        return new TransparencyLogEntry(
            index,
            Signer.LogId,
            new KindVersion(kind, version),
            integratedTime,
            set,
            new InclusionProof(index, Root.ToArray(), Size, [.. proof.Select(static h => h.ToArray())], SignedCheckpoint()),
            body);
    }

    public void Dispose() => Signer.Dispose();
}
