namespace TransparencyLog.Merkle.Tests;

public sealed class MerkleFrontierTests
{
    private const int MaxSize = 70;

    private static readonly NaiveMerkle Tree = new(MaxSize);

    [Fact]
    public void Append_EverySizeUpTo70_RootEqualsTheNaiveMth()
    {
        var frontier = MerkleFrontier.Empty;
        Assert.Equal(Tree.Root(0), frontier.Root);
        for (var n = 1; n <= MaxSize; n++)
        {
            frontier.Append(Tree.Leaf(n - 1));
            Assert.Equal(n, frontier.Size);
            Assert.Equal(Tree.Root(n), frontier.Root);
        }
    }

    [Fact]
    public void TryFromConsistencyProof_EveryPairOfSizes_FrontierExtendsToTheLargerRoot()
    {
        for (var m = 1; m < MaxSize; m++)
        {
            for (var n = m + 1; n <= MaxSize; n++)
            {
                var proof = Tree.Proof(m, n);
                Assert.True(MerkleFrontier.TryFromConsistencyProof(m, n, proof, Tree.Root(m), Tree.Root(n), out var frontier), $"{m}->{n}");
                Assert.Equal(Tree.Root(m), frontier.Root);
                for (var i = m; i < n; i++)
                {
                    frontier.Append(Tree.Leaf(i));
                }

                Assert.Equal(Tree.Root(n), frontier.Root);

                // Without tree 1's root only a power-of-two size is refused (the proof leaves that root out).
                var unanchored = MerkleFrontier.TryFromConsistencyProof(m, n, proof, null, Tree.Root(n), out var derived);
                Assert.Equal((m & (m - 1)) != 0, unanchored);
                if (unanchored)
                {
                    Assert.Equal(Tree.Root(m), derived.Root);
                }
            }
        }
    }

    [Fact]
    public void TryFromConsistencyProof_TamperedProofOrWrongRoots_False()
    {
        var proof = Tree.Proof(13, 50);
        var tampered = proof.ToList();
        tampered[1] = Tree.Leaf(0);

        Assert.False(MerkleFrontier.TryFromConsistencyProof(13, 50, tampered, null, Tree.Root(50), out _));
        Assert.False(MerkleFrontier.TryFromConsistencyProof(13, 50, proof, Tree.Root(12), Tree.Root(50), out _));
        Assert.False(MerkleFrontier.TryFromConsistencyProof(13, 50, proof, null, Tree.Root(49), out _));
        Assert.False(MerkleFrontier.TryFromConsistencyProof(13, 50, proof.Take(proof.Count - 1).ToList(), null, Tree.Root(50), out _));
        Assert.False(MerkleFrontier.TryFromConsistencyProof(13, 50, [.. proof, Tree.Leaf(1)], null, Tree.Root(50), out _));
        Assert.False(MerkleFrontier.TryFromConsistencyProof(50, 13, proof, null, Tree.Root(13), out _));
    }
}
