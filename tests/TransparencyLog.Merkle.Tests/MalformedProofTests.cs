namespace TransparencyLog.Merkle.Tests;

/// <summary>Every way a proof can be wrong must be rejected, for every proof in trees of up to 40 leaves.</summary>
public sealed class MalformedProofTests
{
    private const int MaxSize = 40;

    private static readonly NaiveMerkle Naive = new(MaxSize + 1);
    private static readonly Hash Extra = Rfc6962.HashLeaf("extra"u8);

    [Fact]
    public void VerifyInclusion_TruncatedOrExtended_ReturnsFalse()
    {
        ForEachInclusion((m, n, leaf, proof, root) =>
        {
            if (proof.Count > 0)
            {
                Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, proof[..^1], root));
                Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, proof[1..], root));
            }

            Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, [.. proof, Extra], root));
            Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, [Extra, .. proof], root));
            Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, [.. proof, root], root));
            Assert.Throws<InvalidProofException>(() => ProofVerifier.RootFromInclusionProof(m, n, leaf, [.. proof, Extra]));
        });
    }

    [Fact]
    public void VerifyInclusion_WrongIndex_ReturnsFalse()
    {
        ForEachInclusion((m, n, leaf, proof, root) =>
        {
            for (var other = 0; other < n; other++)
            {
                if (other != m)
                {
                    Assert.False(ProofVerifier.VerifyInclusion(other, n, leaf, proof, root), $"index {other} for {m}, size {n}");
                }
            }
        });
    }

    [Fact]
    public void VerifyInclusion_OneFlippedBit_ReturnsFalse()
    {
        ForEachInclusion((m, n, leaf, proof, root) =>
        {
            for (var i = 0; i < proof.Count; i++)
            {
                var corrupted = proof.ToArray();
                corrupted[i] = FlipBit(corrupted[i], (i * 37) + m + n);
                Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, corrupted, root));
            }

            Assert.False(ProofVerifier.VerifyInclusion(m, n, FlipBit(leaf, m), proof, root));
            Assert.False(ProofVerifier.VerifyInclusion(m, n, leaf, proof, FlipBit(root, n)));
        });
    }

    [Fact]
    public void VerifyInclusion_IndexOrSizeOutOfRange_ReturnsFalse()
    {
        ForEachInclusion((m, n, leaf, proof, root) =>
        {
            Assert.False(ProofVerifier.VerifyInclusion(n, n, leaf, proof, root));
            Assert.False(ProofVerifier.VerifyInclusion(n + 1, n, leaf, proof, root));
            Assert.False(ProofVerifier.VerifyInclusion(-1, n, leaf, proof, root));
            Assert.False(ProofVerifier.VerifyInclusion(m, 0, leaf, proof, root));
            Assert.False(ProofVerifier.VerifyInclusion(m, -n, leaf, proof, root));
            Assert.Throws<InvalidProofException>(() => ProofVerifier.RootFromInclusionProof(n, n, leaf, proof));
        });
    }

    [Fact]
    public void VerifyInclusion_EmptyTree_ReturnsFalse() =>
        Assert.False(ProofVerifier.VerifyInclusion(0, 0, Rfc6962.EmptyRoot, [], Rfc6962.EmptyRoot));

    [Fact]
    public void VerifyConsistency_TruncatedOrExtended_ReturnsFalse()
    {
        ForEachConsistency((m, n, proof, root1, root2) =>
        {
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof[..^1], root1, root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof[1..], root1, root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, [.. proof, Extra], root1, root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, [Extra, .. proof], root1, root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, [root1, .. proof], root1, root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, [], root1, root2));
        });
    }

    [Fact]
    public void VerifyConsistency_SwappedOrWrongRoots_ReturnsFalse()
    {
        ForEachConsistency((m, n, proof, root1, root2) =>
        {
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof, root2, root1));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof, root1, root1));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof, root2, root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof, FlipBit(root1, m), root2));
            Assert.False(ProofVerifier.VerifyConsistency(m, n, proof, root1, FlipBit(root2, n)));
        });
    }

    [Fact]
    public void VerifyConsistency_OneFlippedBit_ReturnsFalse()
    {
        ForEachConsistency((m, n, proof, root1, root2) =>
        {
            for (var i = 0; i < proof.Count; i++)
            {
                var corrupted = proof.ToArray();
                corrupted[i] = FlipBit(corrupted[i], (i * 37) + m + n);
                Assert.False(ProofVerifier.VerifyConsistency(m, n, corrupted, root1, root2), $"hash {i}, sizes {m}, {n}");
            }
        });
    }

    [Fact]
    public void VerifyConsistency_FirstLargerThanSecond_ReturnsFalse()
    {
        ForEachConsistency((m, n, proof, root1, root2) =>
        {
            Assert.False(ProofVerifier.VerifyConsistency(n, m, proof, root2, root1));
            Assert.False(ProofVerifier.VerifyConsistency(n, m, [], root2, root1));
        });
    }

    [Fact]
    public void VerifyConsistency_SizeZero_ReturnsFalse()
    {
        ForEachConsistency((m, n, proof, root1, root2) =>
        {
            Assert.False(ProofVerifier.VerifyConsistency(0, n, [], Rfc6962.EmptyRoot, root2));
            Assert.False(ProofVerifier.VerifyConsistency(0, n, proof, Rfc6962.EmptyRoot, root2));
            Assert.False(ProofVerifier.VerifyConsistency(-m, n, proof, root1, root2));
        });
        Assert.False(ProofVerifier.VerifyConsistency(0, 0, [], Rfc6962.EmptyRoot, Rfc6962.EmptyRoot));
    }

    [Fact]
    public void VerifyConsistency_EqualSizes_NeedsEmptyProofAndEqualRoots()
    {
        for (var n = 1; n <= MaxSize; n++)
        {
            var root = Naive.Root(n);
            Assert.True(ProofVerifier.VerifyConsistency(n, n, [], root, root));
            Assert.False(ProofVerifier.VerifyConsistency(n, n, [root], root, root));
            Assert.False(ProofVerifier.VerifyConsistency(n, n, [Extra], root, root));
            Assert.False(ProofVerifier.VerifyConsistency(n, n, [], root, Naive.Root(n + 1)));
        }
    }

    private static Hash FlipBit(Hash hash, int bit)
    {
        var bytes = hash.ToArray();
        bytes[bit / 8 % Hash.Size] ^= (byte)(1 << (bit % 8));
        return Hash.FromBytes(bytes);
    }

    private static void ForEachInclusion(Action<int, int, Hash, List<Hash>, Hash> check)
    {
        for (var n = 1; n <= MaxSize; n++)
        {
            for (var m = 0; m < n; m++)
            {
                var proof = Naive.Path(m, n);
                var leaf = Naive.Leaf(m);
                var root = Naive.Root(n);
                Assert.True(ProofVerifier.VerifyInclusion(m, n, leaf, proof, root));
                check(m, n, leaf, proof, root);
            }
        }
    }

    private static void ForEachConsistency(Action<int, int, List<Hash>, Hash, Hash> check)
    {
        for (var n = 2; n <= MaxSize; n++)
        {
            for (var m = 1; m < n; m++)
            {
                var proof = Naive.Proof(m, n);
                var root1 = Naive.Root(m);
                var root2 = Naive.Root(n);
                Assert.True(ProofVerifier.VerifyConsistency(m, n, proof, root1, root2));
                check(m, n, proof, root1, root2);
            }
        }
    }
}
