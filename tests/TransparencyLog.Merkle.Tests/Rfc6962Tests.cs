using System.Security.Cryptography;

namespace TransparencyLog.Merkle.Tests;

public sealed class Rfc6962Tests
{
    // transparency-dev/merkle testonly/constants.go: LeafInputs and RootHashes.
    private static readonly string[] LeafInputs =
    [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ];

    private static readonly string[] ExpectedRoots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    public static TheoryData<int> Sizes => [0, 1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RootFromLeafHashes_KnownLeaves_MatchesPublishedRoot(int size)
    {
        var leaves = LeafInputs.Take(size).Select(l => Rfc6962.HashLeaf(Convert.FromHexString(l))).ToArray();

        Assert.Equal(ExpectedRoots[size], Rfc6962.RootFromLeafHashes(leaves).ToString());
    }

    [Fact]
    public void EmptyRoot_Always_IsSha256OfNothing() =>
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Rfc6962.EmptyRoot.ToString());

    [Fact]
    public void HashChildren_TwoHashes_IsSha256OfPrefixedConcatenation()
    {
        var left = Rfc6962.HashLeaf([1]);
        var right = Rfc6962.HashLeaf([2]);

        var expected = SHA256.HashData([0x01, .. left.ToArray(), .. right.ToArray()]);

        Assert.Equal(Hash.FromBytes(expected), Rfc6962.HashChildren(left, right));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(4096)]
    [InlineData((1 << 20) - 1)]
    [InlineData(1 << 20)]
    [InlineData(3 << 20)]
    public void HashLeaf_AnyLength_IsSha256OfZeroPrefixedData(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);

        var expected = SHA256.HashData([0x00, .. data]);

        Assert.Equal(Hash.FromBytes(expected), Rfc6962.HashLeaf(data));
    }

    [Fact]
    public void RootFromLeafHashes_UpTo300Leaves_MatchesNaiveMth()
    {
        var naive = new NaiveMerkle(300);
        var leaves = Enumerable.Range(0, 300).Select(naive.Leaf).ToArray();

        for (var n = 0; n <= 300; n++)
        {
            Assert.Equal(naive.Root(n), Rfc6962.RootFromLeafHashes(leaves.AsSpan(0, n)));
        }
    }
}
