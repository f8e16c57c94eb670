using System.Numerics;

namespace TransparencyLog.Merkle;

/// <summary>
/// Verifies RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs. Proofs must have exactly the length
/// the tree shape implies: truncated or padded proofs are rejected, not tolerated.
/// </summary>
public static class ProofVerifier
{
    /// <summary>
    /// True if <paramref name="proof"/> shows that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the
    /// tree of <paramref name="size"/> leaves with root <paramref name="root"/>. False for any out-of-range argument.
    /// </summary>
    public static bool VerifyInclusion(long index, long size, in Hash leafHash, IReadOnlyList<Hash> proof, in Hash root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        return TryRootFromInclusionProof(index, size, leafHash, proof, out var computed, out _) && computed == root;
    }

    /// <summary>The root implied by an inclusion proof; compare it with a trusted root to verify the proof.</summary>
    /// <exception cref="InvalidProofException">
    /// The index is not within the tree, or the proof does not have the length the tree shape requires.
    /// </exception>
    public static Hash RootFromInclusionProof(long index, long size, in Hash leafHash, IReadOnlyList<Hash> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        return TryRootFromInclusionProof(index, size, leafHash, proof, out var root, out var error)
            ? root
            : throw new InvalidProofException(error);
    }

    /// <summary>
    /// True if <paramref name="proof"/> shows that the tree of <paramref name="size2"/> leaves with root
    /// <paramref name="root2"/> extends the tree of <paramref name="size1"/> leaves with root <paramref name="root1"/>.
    /// Equal sizes need an empty proof and equal roots. Size 0 is rejected: there is nothing to be consistent with.
    /// </summary>
    public static bool VerifyConsistency(long size1, long size2, IReadOnlyList<Hash> proof, in Hash root1, in Hash root2)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 <= 0 || size2 < size1)
        {
            return false;
        }

        if (size1 == size2)
        {
            return proof.Count == 0 && root1 == root2;
        }

        // Tree 1's last perfect subtree (level `shift`) is the start of an inclusion path into tree 2. Its hash is
        // proof[0], unless it is the whole of tree 1, in which case the verifier already holds it as root1.
        var shift = BitOperations.TrailingZeroCount(size1);
        var (inner, border) = Decompose(size1 - 1, size2);
        inner -= shift;
        var seedFromProof = size1 != 1L << shift;
        var start = seedFromProof ? 1 : 0;
        if (proof.Count != start + inner + border)
        {
            return false;
        }

        var seed = seedFromProof ? proof[0] : root1;
        var path = (size1 - 1) >> shift;

        // Both roots come from the same path: tree 1 uses only the left siblings (set bits of the path), tree 2 all.
        var hash1 = seed;
        var hash2 = seed;
        for (var i = 0; i < inner; i++)
        {
            var sibling = proof[start + i];
            if ((path >> i & 1) == 1)
            {
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
            hash1 = Rfc6962.HashChildren(proof[i], hash1);
            hash2 = Rfc6962.HashChildren(proof[i], hash2);
        }

        return hash1 == root1 && hash2 == root2;
    }

    private static bool TryRootFromInclusionProof(
        long index, long size, in Hash leafHash, IReadOnlyList<Hash> proof, out Hash root, out string error)
    {
        root = default;
        if (index < 0 || size <= 0 || index >= size)
        {
            error = $"Index {index} is not within a tree of size {size}.";
            return false;
        }

        var (inner, border) = Decompose(index, size);
        if (proof.Count != inner + border)
        {
            error = $"An inclusion proof for index {index} in a tree of size {size} has {inner + border} hashes; got {proof.Count}.";
            return false;
        }

        var hash = leafHash;
        for (var i = 0; i < inner; i++)
        {
            // Bit i of the index says whether the path node is a right child (sibling on the left) at level i.
            hash = (index >> i & 1) == 0
                ? Rfc6962.HashChildren(hash, proof[i])
                : Rfc6962.HashChildren(proof[i], hash);
        }

        for (var i = inner; i < proof.Count; i++)
        {
            hash = Rfc6962.HashChildren(proof[i], hash);
        }

        root = hash;
        error = string.Empty;
        return true;
    }

    /// <summary>
    /// Splits the path of leaf <paramref name="index"/> in a tree of <paramref name="size"/> leaves: the lower
    /// <c>inner</c> levels are where it differs from the path of the last leaf, and every level has a sibling there;
    /// above, on the right border, only the left siblings (set bits of the index) exist.
    /// </summary>
    private static (int Inner, int Border) Decompose(long index, long size)
    {
        var inner = 64 - BitOperations.LeadingZeroCount((ulong)(index ^ (size - 1)));
        var border = BitOperations.PopCount((ulong)(index >> inner));
        return (inner, border);
    }
}
