namespace TransparencyLog.Merkle.Tests;

public sealed class TileTests
{
    [Theory]
    [InlineData(0, "000")]
    [InlineData(5, "005")]
    [InlineData(999, "999")]
    [InlineData(1000, "x001/000")]
    [InlineData(1234067, "x001/x234/067")]
    [InlineData(long.MaxValue, "x009/x223/x372/x036/x854/x775/807")]
    public void FormatIndex_Number_UsesThreeDigitGroups(long n, string expected) =>
        Assert.Equal(expected, TileMath.FormatIndex(n));

    [Fact]
    public void FormatIndex_Negative_ThrowsArgumentOutOfRange() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TileMath.FormatIndex(-1));

    [Theory]
    [InlineData(0, 5L, 256, "tile/0/005")]
    [InlineData(1, 1234067L, 17, "tile/1/x001/x234/067.p/17")]
    [InlineData(63, 0L, 1, "tile/63/000.p/1")]
    [InlineData(2, long.MaxValue, 255, "tile/2/x009/x223/x372/x036/x854/x775/807.p/255")]
    public void Path_AnyTile_RoundTripsThroughTryParse(int level, long index, int width, string expected)
    {
        var tile = new TileId(level, index, width);

        Assert.Equal(expected, tile.Path);
        Assert.True(TileId.TryParse(expected, out var parsed, out var isEntries));
        Assert.False(isEntries);
        Assert.Equal(tile, parsed);
    }

    [Theory]
    [InlineData("tile/entries/000.p/3", 0L, 3)]
    [InlineData("tile/entries/x001/000", 1000L, 256)]
    public void TryParse_EntriesPath_ParsesLevelZeroBundle(string path, long index, int width)
    {
        Assert.True(TileId.TryParse(path, out var tile, out var isEntries));
        Assert.True(isEntries);
        Assert.Equal(new TileId(0, index, width), tile);
        Assert.Equal(path, tile.EntriesPath);
    }

    [Fact]
    public void TryParse_EveryIndexUpTo3000_RoundTrips()
    {
        for (long n = 0; n < 3000; n++)
        {
            var path = new TileId(0, n, TileMath.Width).Path;
            Assert.True(TileId.TryParse(path, out var tile, out _), path);
            Assert.Equal(n, tile.Index);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("tile/0")]
    [InlineData("tile/0/")]
    [InlineData("tile/0/5")]
    [InlineData("tile/0/0005")]
    [InlineData("tile/0/001/234")]
    [InlineData("tile/0/x000/234")]
    [InlineData("tile/0/x1/234")]
    [InlineData("tile/0/y001/234")]
    [InlineData("tile/0/x001/x234")]
    [InlineData("tile/0/x001//234")]
    [InlineData("tile/0/005/")]
    [InlineData("tile/0/00a")]
    [InlineData("tile/0/-05")]
    [InlineData("tile/00/005")]
    [InlineData("tile/01/005")]
    [InlineData("tile/64/005")]
    [InlineData("tile/+1/005")]
    [InlineData("tile/-1/005")]
    [InlineData("tile/0/005.p/0")]
    [InlineData("tile/0/005.p/256")]
    [InlineData("tile/0/005.p/017")]
    [InlineData("tile/0/005.p/")]
    [InlineData("tile/0/005.p/1x")]
    [InlineData("tile/0/005.q/1")]
    [InlineData("tile/entry/005")]
    [InlineData("tile/entries/005.p/0")]
    [InlineData("Tile/0/005")]
    [InlineData("/tile/0/005")]
    [InlineData("tile/0/x009/x223/x372/x036/x854/x775/808")]
    [InlineData("tile/0/x999/x999/x999/x999/x999/x999/999")]
    public void TryParse_NonCanonicalOrGarbage_ReturnsFalse(string? path) =>
        Assert.False(TileId.TryParse(path, out _, out _));

    [Theory]
    [InlineData(-1, 0, 1)]
    [InlineData(64, 0, 1)]
    [InlineData(0, -1, 1)]
    [InlineData(0, 0, 0)]
    [InlineData(0, 0, 257)]
    public void Constructor_OutOfRange_Throws(int level, long index, int width) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TileId(level, index, width));

    [Fact]
    public void TilesForTreeSize_70000_MatchesSpecExample()
    {
        var tiles = TileMath.TilesForTreeSize(70_000);

        var expected = Enumerable.Range(0, 273).Select(i => new TileId(0, i, 256))
            .Append(new TileId(0, 273, 112))
            .Append(new TileId(1, 0, 256))
            .Append(new TileId(1, 1, 17))
            .Append(new TileId(2, 0, 1));
        Assert.Equal(expected, tiles);
        Assert.Equal(277, tiles.Count);
        Assert.Equal(new TileId(1, 1, 17), tiles[275]);
    }

    [Theory]
    [InlineData(0L, 0)]
    [InlineData(1L, 1)]
    [InlineData(256L, 2)]
    [InlineData(65_536L, 258)]
    public void TilesForTreeSize_SmallSizes_CountsEveryLevel(long size, int count) =>
        Assert.Equal(count, TileMath.TilesForTreeSize(size).Count);

    [Fact]
    public void TilesForTreeSize_TooManyTiles_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TileMath.TilesForTreeSize(long.MaxValue));

    [Fact]
    public void TilesForTreeSize_LargeTree_IsIndexedWithoutMaterialising()
    {
        var tiles = TileMath.TilesForTreeSize(1L << 38);

        Assert.Equal((1L << 30) + (1L << 22) + (1L << 14) + (1L << 6) + 1, tiles.Count);
        Assert.Equal(new TileId(4, 0, 64), tiles[^1]);
        Assert.Equal(new TileId(0, (1L << 30) - 1, 256), tiles[(1 << 30) - 1]);
        Assert.Equal(new TileId(1, 0, 256), tiles[1 << 30]);
    }

    [Theory]
    [InlineData(0, 70_000L, 112, 273L)]
    [InlineData(1, 70_000L, 17, 1L)]
    [InlineData(2, 70_000L, 1, 0L)]
    [InlineData(3, 70_000L, 0, 0L)]
    [InlineData(8, long.MaxValue, 0, 0L)]
    [InlineData(7, long.MaxValue, 127, 0L)]
    [InlineData(63, long.MaxValue, 0, 0L)]
    public void PartialWidthAndFullTileCount_Size_FollowSpecFormula(int level, long size, int width, long full)
    {
        Assert.Equal(width, TileMath.PartialWidth(level, size));
        Assert.Equal(full, TileMath.FullTileCount(level, size));
    }

    [Theory]
    [InlineData(0, 5L, 0, 0L, 5, 1)]
    [InlineData(0, 300L, 0, 1L, 44, 1)]
    [InlineData(3, 40L, 0, 1L, 64, 8)]
    [InlineData(7, 1L, 0, 0L, 128, 128)]
    [InlineData(8, 5L, 1, 0L, 5, 1)]
    [InlineData(9, 200L, 1, 1L, 144, 2)]
    [InlineData(62, 0L, 7, 0L, 0, 64)]
    public void Locate_Node_FindsTileAndRun(int level, long index, int tileLevel, long tileIndex, int offset, int count) =>
        Assert.Equal((tileLevel, tileIndex, offset, count), TileMath.Locate(new NodeId(level, index)));

    [Fact]
    public void Locate_EveryPerfectNodeOfLargeTree_FoldsToNaiveHash()
    {
        const int size = 70_000;
        var leaves = Enumerable.Range(0, size).Select(i => Rfc6962.HashLeaf(NaiveMerkle.LeafData(i))).ToArray();
        var tiles = new InMemoryTiles(leaves);

        for (var level = 0; (1 << level) <= size; level++)
        {
            var count = size >> level;
            // Every node at low levels would be slow to check against a direct fold; sample the edges and a stride.
            for (long index = 0; index < count; index += Math.Max(1, count / 97))
            {
                Check(level, index);
            }

            Check(level, count - 1);
        }

        void Check(int level, long index)
        {
            var expected = Rfc6962.RootFromLeafHashes(leaves.AsSpan((int)(index << level), 1 << level));
            Assert.Equal(expected, tiles.NodeHash(new NodeId(level, index)));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(6)]
    public void FoldPerfect_NotPowerOfTwo_Throws(int length) =>
        Assert.Throws<ArgumentException>(() => TileMath.FoldPerfect(new Hash[length]));

    [Fact]
    public void FoldPerfect_OneEntry_IsTheEntry()
    {
        var entry = Rfc6962.HashLeaf([7]);

        Assert.Equal(entry, TileMath.FoldPerfect([entry]));
    }
}
