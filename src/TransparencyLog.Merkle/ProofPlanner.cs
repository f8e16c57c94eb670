using System.Numerics;

namespace TransparencyLog.Merkle;

/// <summary>Plans RFC 9162 inclusion and consistency proofs as lists of stored perfect nodes.</summary>
public static class ProofPlanner
{
    private static readonly ProofPlan EmptyPlan = new([], 0, 0);

    /// <exception cref="ArgumentOutOfRangeException">Unless 0 &lt;= <paramref name="index"/> &lt; <paramref name="size"/>.</exception>
    public static ProofPlan Inclusion(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        return PathToRoot(new NodeId(0, index), size, includeStart: false);
    }

    /// <exception cref="ArgumentOutOfRangeException">Unless 0 &lt; <paramref name="size1"/> &lt;= <paramref name="size2"/>.</exception>
    public static ProofPlan Consistency(long size1, long size2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2);
        if (size1 == size2)
        {
            return EmptyPlan;
        }

        // The proof is the inclusion path, in the larger tree, of the largest perfect subtree ending at size1,
        // preceded by that subtree itself unless it is the whole of tree 1 (the verifier already has root1).
        var level = BitOperations.TrailingZeroCount(size1);
        var start = new NodeId(level, (size1 >> level) - 1);
        return PathToRoot(start, size2, includeStart: start.Index != 0);
    }

    private static ProofPlan PathToRoot(NodeId start, long size, bool includeStart)
    {
        var nodes = new List<NodeId>(2 * 64);
        if (includeStart)
        {
            nodes.Add(start);
        }

        // The fork is the ancestor of start whose right sibling contains leaf position `size`: below the fork every
        // sibling is a complete subtree; the fork's sibling is cut off by the end of the tree (the ephemeral node,
        // empty if the tree ends exactly where it begins); above it every sibling lies to the left.
        var inner = BitLength(start.Index ^ (size >> start.Level)) - 1;
        for (var i = 0; i < inner; i++)
        {
            nodes.Add(new NodeId(start.Level + i, (start.Index >> i) ^ 1));
        }

        var forkLevel = start.Level + inner;
        var begin = (start.Index >> inner) << forkLevel;
        var end = begin + (1L << forkLevel);

        // [end, size) is shorter than 2^forkLevel: one perfect node per set bit, largest (leftmost) first.
        var ephemeralStart = nodes.Count;
        var position = end;
        for (var level = forkLevel - 1; level >= 0; level--)
        {
            if (((size - end) >> level & 1) != 0)
            {
                nodes.Add(new NodeId(level, position >> level));
                position += 1L << level;
            }
        }

        var ephemeralEnd = nodes.Count;

        // [0, begin) is the left border: one perfect node per set bit of begin, nearest (smallest) first.
        for (var level = forkLevel + 1; level < 63; level++)
        {
            if ((begin >> level & 1) != 0)
            {
                nodes.Add(new NodeId(level, (begin >> level) - 1));
            }
        }

        return new ProofPlan([.. nodes], ephemeralStart, ephemeralEnd);
    }

    private static int BitLength(long value) => 64 - BitOperations.LeadingZeroCount((ulong)value);
}
