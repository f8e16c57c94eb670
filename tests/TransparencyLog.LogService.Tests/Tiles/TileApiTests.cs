using System.Buffers.Binary;
using System.Net;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Tiles;

public sealed class TileApiTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task Tiles_AcrossTileBoundaries_RecomputeTheCheckpointRootWithoutOurCode()
    {
        // At least 600 entries: two full level-0 tiles, a partial one, and a partial level-1 tile of 2.
        for (var i = 0; i < 6; i++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => log.AppendAsync(log.Entries.NewHashedRekord().Json)));
        }

        var vkey = (await log.Client.GetStringAsync("/api/v1/log/verifierKey")).Trim();
        var note = await log.Client.GetStringAsync("/checkpoint");
        Assert.True(new NoteVerifier(vkey).TryVerifyCheckpoint(note, out var checkpoint));
        var size = checkpoint!.Size;
        Assert.InRange(size, 600, 700);
        var paths = Enumerable.Range(0, (int)(size / 256)).Select(i => TileMath.FormatIndex(i)).ToList();
        if (size % 256 != 0)
        {
            paths.Add($"{TileMath.FormatIndex(size / 256)}.p/{size % 256}");
        }

        // A tlog-tiles client: read level-0 tiles and entry bundles, check each entry hashes to its tile hash, and
        // rebuild the root from the leaves alone.
        var leaves = new List<Hash>();
        foreach (var path in paths)
        {
            using var tile = await log.Client.GetAsync($"/tile/0/{path}");
            Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
            Assert.Contains("immutable", tile.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
            var hashes = await tile.Content.ReadAsByteArrayAsync();
            var bundle = await log.Client.GetByteArrayAsync($"/tile/entries/{path}");
            var offset = 0;
            for (var i = 0; i < hashes.Length / 32; i++)
            {
                var length = BinaryPrimitives.ReadUInt16BigEndian(bundle.AsSpan(offset));
                Assert.Equal(Hash.FromBytes(hashes.AsSpan(i * 32, 32)), Rfc6962.HashLeaf(bundle.AsSpan(offset + 2, length)));
                offset += 2 + length;
                leaves.Add(Hash.FromBytes(hashes.AsSpan(i * 32, 32)));
            }

            Assert.Equal(bundle.Length, offset);
        }

        Assert.Equal(Hash.FromBytes(checkpoint.RootHash), Rfc6962.RootFromLeafHashes(leaves.ToArray()));

        // Level 1 holds the roots of the two full level-0 tiles.
        var level1 = await log.Client.GetByteArrayAsync($"/tile/1/000.p/{size / 256}");
        Assert.Equal(Rfc6962.RootFromLeafHashes(leaves.Take(256).ToArray()), Hash.FromBytes(level1.AsSpan(0, 32)));
        Assert.Equal(Rfc6962.RootFromLeafHashes(leaves.Skip(256).Take(256).ToArray()), Hash.FromBytes(level1.AsSpan(32, 32)));

        // An earlier partial width of a tile is still served (its prefix never changes).
        Assert.Equal(hashesPrefix(await log.Client.GetByteArrayAsync($"/tile/0/{paths[^1]}"), 10), await log.Client.GetByteArrayAsync("/tile/0/002.p/10"));
        static byte[] hashesPrefix(byte[] tile, int count) => tile[..(count * 32)];
    }

    [Theory]
    [InlineData("/tile/0/999")]
    [InlineData("/tile/0/000.p/255")]
    [InlineData("/tile/3/000.p/1")]
    [InlineData("/tile/0/5")]
    [InlineData("/tile/0/000.p/0")]
    [InlineData("/tile/x/000")]
    [InlineData("/tile/entries/999")]
    public async Task Tile_NotYetExistingOrMalformed_Returns404(string path)
    {
        await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        using var response = await log.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
