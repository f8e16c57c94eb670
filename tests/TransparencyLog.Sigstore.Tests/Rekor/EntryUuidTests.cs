using System.Security.Cryptography;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.Sigstore.Tests.Rekor;

public sealed class EntryUuidTests
{
    [Fact]
    public void LeafHash_Body_IsSha256OfZeroPrefix()
    {
        var body = "{\"a\":1}"u8.ToArray();
        Assert.Equal(SHA256.HashData([0x00, .. body]), EntryUuid.LeafHash(body));
    }

    [Fact]
    public void EntryId_TreeIdAndLeaf_Is80LowercaseHex()
    {
        var leaf = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var id = EntryUuid.EntryId(0x45CDB4B6C1D7C51AL, leaf);

        Assert.Equal(80, id.Length);
        Assert.StartsWith("45cdb4b6c1d7c51a000102", id, StringComparison.Ordinal);
        Assert.True(EntryUuid.TryParse(id, out var treeId, out var parsed));
        Assert.Equal(0x45CDB4B6C1D7C51AL, treeId);
        Assert.Equal(leaf, parsed);
    }

    [Fact]
    public void TryParse_Uuid_HasNoTreeId()
    {
        var uuid = EntryUuid.FromLeafHash(new byte[32]);
        Assert.True(EntryUuid.TryParse(uuid.ToUpperInvariant(), out var treeId, out var leaf));
        Assert.Null(treeId);
        Assert.Equal(new byte[32], leaf);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public void TryParse_Invalid_ReturnsFalse(string id) => Assert.False(EntryUuid.TryParse(id, out _, out _));
}
