using System.Collections.ObjectModel;

namespace TransparencyLog.Merkle;

/// <summary>
/// The stored nodes an inclusion or consistency proof needs, and how to turn their hashes into the proof.
/// </summary>
/// <remarks>
/// Every proof hash is the hash of a perfect subtree, except at most one "ephemeral" node on the right border of the
/// tree, whose subtree is not complete at this size. That node is fetched as the perfect nodes covering its range
/// and folded by <see cref="Assemble"/>. So any proof for a size up to the current one can be built from the tiles of
/// the current tree.
/// </remarks>
public sealed class ProofPlan
{
    private readonly NodeId[] _nodes;

    // Nodes[_ephemeralStart.._ephemeralEnd) cover the ephemeral node's leaves, left to right, and become one hash.
    private readonly int _ephemeralStart;
    private readonly int _ephemeralEnd;

    internal ProofPlan(NodeId[] nodes, int ephemeralStart, int ephemeralEnd)
    {
        _nodes = nodes;
        _ephemeralStart = ephemeralStart;
        _ephemeralEnd = ephemeralEnd;
        Nodes = new ReadOnlyCollection<NodeId>(nodes);
        ProofLength = ephemeralEnd > ephemeralStart ? nodes.Length - (ephemeralEnd - ephemeralStart) + 1 : nodes.Length;
    }

    /// <summary>The perfect nodes to fetch, each exactly once, in the order <see cref="Assemble"/> expects.</summary>
    public IReadOnlyList<NodeId> Nodes { get; }

    /// <summary>The number of hashes <see cref="Assemble"/> returns.</summary>
    public int ProofLength { get; }

    /// <summary>Builds the proof, in RFC 9162 order (from the leaf level upward).</summary>
    /// <param name="nodeHashes">The hash of each node in <see cref="Nodes"/>, in the same order.</param>
    /// <exception cref="ArgumentException">The number of hashes differs from the number of nodes.</exception>
    public Hash[] Assemble(IReadOnlyList<Hash> nodeHashes)
    {
        ArgumentNullException.ThrowIfNull(nodeHashes);
        if (nodeHashes.Count != _nodes.Length)
        {
            throw new ArgumentException(
                $"The plan has {_nodes.Length} nodes; got {nodeHashes.Count} hashes.", nameof(nodeHashes));
        }

        var proof = new Hash[ProofLength];
        var written = 0;
        for (var i = 0; i < _ephemeralStart; i++)
        {
            proof[written++] = nodeHashes[i];
        }

        if (_ephemeralEnd > _ephemeralStart)
        {
            // The covering nodes shrink from left to right, so the fold goes right to left like any MTH.
            var ephemeral = nodeHashes[_ephemeralEnd - 1];
            for (var i = _ephemeralEnd - 2; i >= _ephemeralStart; i--)
            {
                ephemeral = Rfc6962.HashChildren(nodeHashes[i], ephemeral);
            }

            proof[written++] = ephemeral;
        }

        for (var i = _ephemeralEnd; i < _nodes.Length; i++)
        {
            proof[written++] = nodeHashes[i];
        }

        return proof;
    }
}
