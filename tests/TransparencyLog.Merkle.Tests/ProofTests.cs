namespace TransparencyLog.Merkle.Tests;

/// <summary>Every proof for every tree size up to <see cref="MaxSize"/>, against the naive RFC 6962 reference.</summary>
public sealed class ProofTests
{
    private const int MaxSize = 300;

    private static readonly NaiveMerkle Naive = new(MaxSize);

    [Fact]
    public void Inclusion_EveryIndexUpTo300_MatchesNaivePathAndVerifies()
    {
        for (var n = 1; n <= MaxSize; n++)
        {
            var root = Naive.Root(n);
            for (var m = 0; m < n; m++)
            {
                var expected = Naive.Path(m, n);

                var plan = ProofPlanner.Inclusion(m, n);
                var proof = plan.Assemble([.. plan.Nodes.Select(Naive.Node)]);

                Assert.Equal(expected, proof);
                Assert.Equal(expected.Count, plan.ProofLength);
                Assert.Equal(plan.Nodes.Count, plan.Nodes.Distinct().Count());
                Assert.All(plan.Nodes, node => Assert.True((node.Index + 1) << node.Level <= n));
                Assert.True(ProofVerifier.VerifyInclusion(m, n, Naive.Leaf(m), proof, root), $"index {m}, size {n}");
                Assert.Equal(root, ProofVerifier.RootFromInclusionProof(m, n, Naive.Leaf(m), proof));
            }
        }
    }

    [Fact]
    public void Consistency_EverySizePairUpTo300_MatchesNaiveProofAndVerifies()
    {
        for (var n = 1; n <= MaxSize; n++)
        {
            var root2 = Naive.Root(n);
            for (var m = 1; m <= n; m++)
            {
                var expected = Naive.Proof(m, n);

                var plan = ProofPlanner.Consistency(m, n);
                var proof = plan.Assemble([.. plan.Nodes.Select(Naive.Node)]);

                Assert.Equal(expected, proof);
                Assert.Equal(plan.Nodes.Count, plan.Nodes.Distinct().Count());
                Assert.All(plan.Nodes, node => Assert.True((node.Index + 1) << node.Level <= n));
                Assert.True(ProofVerifier.VerifyConsistency(m, n, proof, Naive.Root(m), root2), $"sizes {m}, {n}");
            }
        }
    }

    [Fact]
    public void ProofPlan_FromTilesOfLargeTree_MatchesNaiveProofs()
    {
        // Larger than one level-1 tile (65,536 leaves), so plans reach into level-1 and level-2 tiles.
        const int size = 70_000;
        var leaves = Enumerable.Range(0, size).Select(i => Rfc6962.HashLeaf(NaiveMerkle.LeafData(i))).ToArray();
        var tiles = new InMemoryTiles(leaves);
        var random = new Random(6962);
        var sizes = new[] { 1, 255, 256, 257, 65_535, 65_536, 65_537, 69_999, size }
            .Concat(Enumerable.Range(0, 40).Select(_ => random.Next(1, size + 1)));

        foreach (var n in sizes)
        {
            var root = Rfc6962.RootFromLeafHashes(leaves.AsSpan(0, n));
            var index = random.Next(n);
            var inclusion = ProofPlanner.Inclusion(index, n);
            var inclusionProof = inclusion.Assemble([.. inclusion.Nodes.Select(tiles.NodeHash)]);
            Assert.True(ProofVerifier.VerifyInclusion(index, n, leaves[index], inclusionProof, root), $"index {index}, size {n}");

            var old = random.Next(1, n + 1);
            var consistency = ProofPlanner.Consistency(old, n);
            var consistencyProof = consistency.Assemble([.. consistency.Nodes.Select(tiles.NodeHash)]);
            var oldRoot = Rfc6962.RootFromLeafHashes(leaves.AsSpan(0, old));
            Assert.True(ProofVerifier.VerifyConsistency(old, n, consistencyProof, oldRoot, root), $"sizes {old}, {n}");
        }
    }

    [Fact]
    public void Inclusion_HugeTree_PlansWithoutOverflow()
    {
        var plan = ProofPlanner.Inclusion(long.MaxValue - 1, long.MaxValue);

        Assert.Equal(62, plan.ProofLength);
        Assert.Contains(new NodeId(61, 2), plan.Nodes);
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(5, 5)]
    [InlineData(0, 0)]
    public void Inclusion_IndexOutsideTree_ThrowsArgumentOutOfRange(long index, long size) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ProofPlanner.Inclusion(index, size));

    [Theory]
    [InlineData(0, 5)]
    [InlineData(-1, 5)]
    [InlineData(6, 5)]
    public void Consistency_InvalidSizes_ThrowsArgumentOutOfRange(long size1, long size2) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ProofPlanner.Consistency(size1, size2));

    [Fact]
    public void Consistency_EqualSizes_IsEmpty()
    {
        var plan = ProofPlanner.Consistency(7, 7);

        Assert.Empty(plan.Nodes);
        Assert.Empty(plan.Assemble([]));
    }

    [Fact]
    public void Assemble_WrongNumberOfHashes_ThrowsArgumentException()
    {
        var plan = ProofPlanner.Inclusion(3, 10);

        Assert.Throws<ArgumentException>(() => plan.Assemble(new Hash[plan.Nodes.Count + 1]));
        Assert.Throws<ArgumentException>(() => plan.Assemble(new Hash[plan.Nodes.Count - 1]));
    }
}
