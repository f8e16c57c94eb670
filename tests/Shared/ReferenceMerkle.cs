using TransparencyLog.Merkle;

namespace TransparencyLog.Tests.Shared;

/// <summary>
/// RFC 6962 §2.1 (MTH, PATH, PROOF) by its recursive definitions over the leaf hashes: deliberately naive and
/// independent of the production proof planner, for fake logs that tests verify our clients against.
/// </summary>
internal static class ReferenceMerkle
{
    /// <summary>MTH(D[n]).</summary>
    public static Hash Root(ReadOnlySpan<Hash> leaves)
    {
        if (leaves.Length == 0)
        {
            return Rfc6962.EmptyRoot;
        }

        if (leaves.Length == 1)
        {
            return leaves[0];
        }

        var k = LargestPowerOfTwoBelow(leaves.Length);
        return Rfc6962.HashChildren(Root(leaves[..k]), Root(leaves[k..]));
    }

    /// <summary>PATH(m, D[n]), leaf level first.</summary>
    public static List<Hash> InclusionProof(long m, ReadOnlySpan<Hash> leaves)
    {
        if (leaves.Length == 1)
        {
            return [];
        }

        var k = LargestPowerOfTwoBelow(leaves.Length);
        if (m < k)
        {
            var path = InclusionProof(m, leaves[..k]);
            path.Add(Root(leaves[k..]));
            return path;
        }

        var right = InclusionProof(m - k, leaves[k..]);
        right.Add(Root(leaves[..k]));
        return right;
    }

    /// <summary>PROOF(m, D[n]).</summary>
    public static List<Hash> ConsistencyProof(int m, ReadOnlySpan<Hash> leaves) => SubProof(m, leaves, true);

    private static List<Hash> SubProof(int m, ReadOnlySpan<Hash> leaves, bool complete)
    {
        var n = leaves.Length;
        if (m == n)
        {
            return complete ? [] : [Root(leaves)];
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            var proof = SubProof(m, leaves[..k], complete);
            proof.Add(Root(leaves[k..]));
            return proof;
        }

        var rest = SubProof(m - k, leaves[k..], false);
        rest.Add(Root(leaves[..k]));
        return rest;
    }

    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}
