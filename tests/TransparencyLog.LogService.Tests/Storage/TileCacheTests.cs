using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>
/// The tile cache holds at most its bytes whatever the log size (the service's memory stays flat), gives up level-0
/// tiles before the tiles above them, and never trades a wider tile for a narrower one.
/// </summary>
public sealed class TileCacheTests : IAsyncDisposable
{
    // Never connected to: Remember and Holds work on memory only.
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");

    [Fact]
    public void Remember_MoreTilesThanItsBytes_HoldsAtMostItsBytesAndKeepsUpperLevels()
    {
        var full = new TileNodes(Entries(TileMath.Width, 0)).Bytes;
        var limit = 40 * full;
        var tiles = Store(limit);

        for (var i = 0; i < 4; i++)
        {
            tiles.Remember(1, new TileKey(1, i), Entries(TileMath.Width, i));
        }

        for (var i = 0; i < 1_000; i++)
        {
            tiles.Remember(1, new TileKey(0, i), Entries(TileMath.Width, i));
            Assert.InRange(tiles.CachedBytes, full, limit);
        }

        Assert.All(Enumerable.Range(0, 4), i => Assert.True(tiles.Holds(1, new TileKey(1, i), TileMath.Width)));
        Assert.True(tiles.Holds(1, new TileKey(0, 999), TileMath.Width));
        Assert.False(tiles.Holds(1, new TileKey(0, 0), 1));
        Assert.Equal(36, Enumerable.Range(0, 1_000).Count(i => tiles.Holds(1, new TileKey(0, i), 1)));
    }

    [Fact]
    public void Remember_OnlyUpperTilesBeyondItsBytes_EvictsOldestFirst()
    {
        var full = new TileNodes(Entries(TileMath.Width, 0)).Bytes;
        var tiles = Store(10 * full);

        for (var i = 0; i < 30; i++)
        {
            tiles.Remember(1, new TileKey(2, i), Entries(TileMath.Width, i));
        }

        Assert.InRange(tiles.CachedBytes, 0, 10 * full);
        Assert.False(tiles.Holds(1, new TileKey(2, 0), 1));
        Assert.True(tiles.Holds(1, new TileKey(2, 29), TileMath.Width));
    }

    [Fact]
    public void Remember_NarrowerAfterWider_KeepsWider()
    {
        var tiles = Store(1024 * 1024);
        tiles.Remember(1, new TileKey(0, 3), Entries(10, 3));
        var bytesAt10 = tiles.CachedBytes;
        tiles.Remember(1, new TileKey(0, 3), Entries(200, 3));
        var held = tiles.Remember(1, new TileKey(0, 3), Entries(50, 3));

        Assert.Equal(200, held.Width);
        Assert.True(tiles.Holds(1, new TileKey(0, 3), 200));
        Assert.Equal(new TileNodes(Entries(200, 3)).Bytes, tiles.CachedBytes);
        Assert.True(tiles.CachedBytes > bytesAt10);
        Assert.False(tiles.Holds(2, new TileKey(0, 3), 1));
    }

    [Fact]
    public void Remember_CacheTurnedOff_HoldsNothing()
    {
        var tiles = Store(0);
        var nodes = tiles.Remember(1, new TileKey(1, 0), Entries(TileMath.Width, 0));

        Assert.Equal(TileMath.Width, nodes.Width);
        Assert.False(tiles.Holds(1, new TileKey(1, 0), 1));
        Assert.Equal(0, tiles.CachedBytes);
    }

    [Fact]
    public void Read_FullTilesBeyondItsRoom_CachedWhileRoomThenOnlyTheirSummaries()
    {
        Assert.Equal(TileNodes.FullTileBytes, new TileNodes(Entries(TileMath.Width, 0)).Bytes);
        // With a summary cache (off by default since the rows hold the summaries, migration 0015).
        var tiles = Store(3 * TileNodes.FullTileBytes, summaryBytes: 100 * TileSummaries.BytesEach);
        tiles.Remember(1, new TileKey(1, 0), Entries(TileMath.Width, 100));

        for (var i = 0; i < 5; i++)
        {
            var nodes = tiles.Read(1, new TileKey(0, i), Entries(TileMath.Width, i));
            Assert.Equal(TileMath.Width, nodes.Width);
            Assert.True(tiles.Summaries.TryGet(1, i, out var summary));
            Assert.Equal(TileSummaries.Summarize(Entries(TileMath.Width, i)), summary);
        }

        // Room for two level-0 tiles beside the level-1 tile: the first two stay, the later ones took no one's place.
        Assert.True(tiles.Holds(1, new TileKey(1, 0), TileMath.Width));
        Assert.True(tiles.Holds(1, new TileKey(0, 0), TileMath.Width));
        Assert.True(tiles.Holds(1, new TileKey(0, 1), TileMath.Width));
        Assert.False(tiles.Holds(1, new TileKey(0, 2), 1));
        Assert.False(tiles.HasRoomForFullTile);

        // A partial tile (it will grow) is cached as before, and has no summary.
        tiles.Read(1, new TileKey(0, 9), Entries(100, 9));
        Assert.True(tiles.Holds(1, new TileKey(0, 9), 100));
        Assert.False(tiles.Summaries.TryGet(1, 9, out _));
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private TileStore Store(long bytes, long summaryBytes = 0) =>
        new(new ReadReplica(_dataSource, null), Options.Create(new StorageOptions { TileCacheBytes = bytes, TileSummaryCacheBytes = summaryBytes }));

    private static Hash[] Entries(int count, int seed) =>
        [.. Enumerable.Range(0, count).Select(i => Rfc6962.HashLeaf(BitConverter.GetBytes((seed * 1_000) + i)))];
}
