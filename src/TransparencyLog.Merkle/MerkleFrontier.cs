using System.Numerics;

namespace TransparencyLog.Merkle;

/// <summary>
/// The roots of the perfect subtrees that make up a tree of <see cref="Size"/> leaves (one per set bit of the size,
/// largest first): enough to append leaves and compute the root, with O(log n) hashes. A follower of a log that serves
/// no tiles keeps one: the frontier of the verified size, taken from a consistency proof, extended with the entries
/// it read, must give the new signed root, which proves the entries are the ones the log committed to.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
public sealed class MerkleFrontier
{
    // _roots[i] is the subtree of the i-th set bit of Size counted from the top; the last is the smallest.
    private readonly List<Hash> _roots;

    private MerkleFrontier(long size, List<Hash> roots)
    {
        Size = size;
        _roots = roots;
    }

    /// <summary>A new, empty frontier.</summary>
    public static MerkleFrontier Empty => new(0, []);

    public long Size { get; private set; }

    /// <summary>The tree's root (RFC 6962 MTH); the empty tree's is SHA-256 of nothing.</summary>
    public Hash Root
    {
        get
        {
            if (_roots.Count == 0)
            {
                return Rfc6962.EmptyRoot;
            }

            var hash = _roots[^1];
            for (var i = _roots.Count - 2; i >= 0; i--)
            {
                hash = Rfc6962.HashChildren(_roots[i], hash);
            }

            return hash;
        }
    }

    /// <summary>Appends one leaf hash: it merges with every subtree of equal size before it, as the size's carries.</summary>
    public void Append(in Hash leafHash)
    {
        var hash = leafHash;
        for (var size = Size; (size & 1) == 1; size >>= 1)
        {
            hash = Rfc6962.HashChildren(_roots[^1], hash);
            _roots.RemoveAt(_roots.Count - 1);
        }

        _roots.Add(hash);
        Size++;
    }

    /// <summary>
    /// The frontier of the tree of <paramref name="size1"/> leaves, taken from an RFC 9162 consistency proof to the
    /// tree of <paramref name="size2"/> leaves with root <paramref name="root2"/>; false when the proof does not verify
    /// (also against <paramref name="root1"/> when given). Without <paramref name="root1"/> the frontier is still bound
    /// to <paramref name="root2"/> (every hash of it is on the path the proof rebuilds root2 from), except when
    /// <paramref name="size1"/> is a power of two: the proof then omits tree 1's root, so it must be given.
    /// </summary>
    public static bool TryFromConsistencyProof(
        long size1, long size2, IReadOnlyList<Hash> proof, Hash? root1, in Hash root2, out MerkleFrontier frontier)
    {
        ArgumentNullException.ThrowIfNull(proof);
        frontier = Empty;
        if (size1 <= 0 || size2 <= size1)
        {
            return false;
        }

        var shift = BitOperations.TrailingZeroCount(size1);
        var seedFromProof = size1 != 1L << shift;
        if (!seedFromProof && root1 is null)
        {
            return false;
        }

        var inner = 64 - BitOperations.LeadingZeroCount((ulong)((size1 - 1) ^ (size2 - 1))) - shift;
        var border = BitOperations.PopCount((ulong)((size1 - 1) >> (inner + shift)));
        var start = seedFromProof ? 1 : 0;
        if (proof.Count != start + inner + border)
        {
            return false;
        }

        // As ProofVerifier.VerifyConsistency; tree 1's root is folded from the seed and the left siblings only, and
        // those are exactly its perfect subtrees, smallest first.
        var seed = seedFromProof ? proof[0] : root1.GetValueOrDefault();
        var path = (size1 - 1) >> shift;
        var subtrees = new List<Hash> { seed };
        var hash1 = seed;
        var hash2 = seed;
        for (var i = 0; i < inner; i++)
        {
            var sibling = proof[start + i];
            if ((path >> i & 1) == 1)
            {
                subtrees.Add(sibling);
                hash1 = Rfc6962.HashChildren(sibling, hash1);
                hash2 = Rfc6962.HashChildren(sibling, hash2);
            }
            else
            {
                hash2 = Rfc6962.HashChildren(hash2, sibling);
            }
        }

        for (var i = start + inner; i < proof.Count; i++)
        {
            subtrees.Add(proof[i]);
            hash1 = Rfc6962.HashChildren(proof[i], hash1);
            hash2 = Rfc6962.HashChildren(proof[i], hash2);
        }

        if (hash2 != root2 || (root1 is { } expected && hash1 != expected))
        {
            return false;
        }

        subtrees.Reverse();
        frontier = new MerkleFrontier(size1, subtrees);
        return true;
    }
}
