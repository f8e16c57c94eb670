using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text.Json;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.LogService.Tests.Streaming;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Logs;

/// <summary>
/// A frozen Rekor v1 shard stays readable by every route a client or auditor uses: its head by <c>treeID</c>
/// (<c>GET /api/v1/log?treeID=</c>), its final checkpoint and tiles under <c>/shards/{treeID}/</c>, and the entry
/// stream, which goes on from the frozen shard's last entry into the next shard in global indices.
/// </summary>
public sealed class FrozenShardServingTests() : ShardedLogTest("frozen")
{
    [Fact]
    public async Task FrozenShard_ReadByTreeIdTilesAndStream_ServedWithItsFinalHead()
    {
        var client = Service.Client;
        var name = Service.LogName;
        var oldKey = LogPublicKey.FromPem(await client.GetStringAsync("/api/v1/log/publicKey"));
        var oldTree = (await InfoAsync("")).GetProperty("treeID").GetString()!;
        var bodies = new List<byte[]>();
        for (var i = 0; i < 7; i++)
        {
            bodies.Add(Convert.FromBase64String((await AppendAsync()).BodyBase64));
        }

        // A stream opened before the rotation, from the first entry: it must cross into the next shard.
        await using var stream = await SseStream.OpenAsync(client, "/api/v1/log/stream?from=0");

        Assert.Equal(0, await RotateAsync());
        for (var i = 0; i < 4; i++)
        {
            bodies.Add(Convert.FromBase64String((await AppendAsync()).BodyBase64));
        }

        var info = await InfoAsync("");
        var newTree = info.GetProperty("treeID").GetString()!;
        Assert.NotEqual(oldTree, newTree);
        var frozenSize = Assert.Single(info.GetProperty("inactiveShards").EnumerateArray().ToList()).GetProperty("treeSize").GetInt64();
        Assert.Equal(7, frozenSize);

        // GET /api/v1/log?treeID=: the frozen shard's final head, signed by its own key under its own origin.
        var frozen = await InfoAsync($"?treeID={oldTree}");
        Assert.Equal(oldTree, frozen.GetProperty("treeID").GetString());
        Assert.Equal(frozenSize, frozen.GetProperty("treeSize").GetInt64());
        Assert.False(frozen.TryGetProperty("inactiveShards", out _));
        Assert.True(new NoteVerifier(name, oldKey).TryVerifyCheckpoint(frozen.GetProperty("signedTreeHead").GetString()!, out var frozenHead));
        Assert.Equal($"{name} - {oldTree}", frozenHead!.Origin);
        Assert.Equal(frozen.GetProperty("rootHash").GetString(), Hash.FromBytes(frozenHead.RootHash).ToString());
        // The active shard's tree ID answers as the plain request does, with the list of inactive shards.
        Assert.Equal(info.GetProperty("treeSize").GetInt64(), (await InfoAsync($"?treeID={newTree}")).GetProperty("treeSize").GetInt64());
        Assert.Single((await InfoAsync($"?treeID={newTree}")).GetProperty("inactiveShards").EnumerateArray());

        // /shards/{treeID}/checkpoint and tiles: the frozen shard's hash tile and entry bundle rebuild its final root.
        var checkpoint = await client.GetStringAsync($"/shards/{oldTree}/checkpoint");
        Assert.True(new NoteVerifier(name, oldKey).TryVerifyCheckpoint(checkpoint, out var served));
        Assert.Equal(frozenSize, served!.Size);
        Assert.Equal(frozenHead.RootHash, served.RootHash);
        var tile = await client.GetByteArrayAsync($"/shards/{oldTree}/tile/0/000.p/{frozenSize}");
        var leaves = Enumerable.Range(0, (int)frozenSize).Select(i => Hash.FromBytes(tile.AsSpan(i * 32, 32))).ToArray();
        Assert.Equal(Hash.FromBytes(frozenHead.RootHash), Rfc6962.RootFromLeafHashes(leaves));
        var bundle = await client.GetByteArrayAsync($"/shards/{oldTree}/tile/entries/000.p/{frozenSize}");
        Assert.Equal(bodies.Take((int)frozenSize).Select(b => Rfc6962.HashLeaf(b)), ReadBundle(bundle).Select(b => Rfc6962.HashLeaf(b)));

        // The active shard by its tree ID: the same checkpoint as the root path, its first tile holding the new entries.
        var newKey = LogPublicKey.FromPem(await client.GetStringAsync($"/api/v1/log/publicKey?treeID={newTree}"));
        Assert.True(new NoteVerifier(name, newKey).TryVerifyCheckpoint(await client.GetStringAsync($"/shards/{newTree}/checkpoint"), out var active));
        Assert.Equal($"{name} - {newTree}", active!.Origin);
        var newBundle = await client.GetByteArrayAsync($"/shards/{newTree}/tile/entries/000.p/4");
        Assert.Equal(bodies.Skip((int)frozenSize).Select(b => Rfc6962.HashLeaf(b)), ReadBundle(newBundle).Select(b => Rfc6962.HashLeaf(b)));

        // Beyond the frozen shard's end, an unknown or malformed tree ID: 404, and 400 from the Rekor API.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/shards/{oldTree}/tile/0/000.p/{frozenSize + 1}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/shards/{oldTree}/tile/0/000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/shards/12345/checkpoint")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/shards/-1/tile/0/000.p/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/shards/{new string('9', 300)}/checkpoint")).StatusCode);
        using (var unknown = await client.GetAsync("/api/v1/log?treeID=12345"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            Assert.Contains("unknown treeID 12345", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The stream: every global index once, in order, across the boundary, each the entry stored there.
        var seen = new List<StreamEvent>();
        while (seen.Count < bodies.Count)
        {
            seen.Add(await stream.NextAsync());
        }

        Assert.Equal(Enumerable.Range(0, bodies.Count).Select(i => (long)i), seen.Select(e => e.Id));
        for (var i = 0; i < bodies.Count; i++)
        {
            using var data = JsonDocument.Parse(seen[i].Data);
            Assert.Equal(bodies[i], Convert.FromBase64String(data.RootElement.GetProperty("body").GetString()!));
        }

        // A stream started now starts at the global size; one started inside the frozen shard reads on into the next.
        await using var late = await SseStream.OpenAsync(client, $"/api/v1/log/stream?from={frozenSize - 1}");
        Assert.Equal([frozenSize - 1, frozenSize], [(await late.NextAsync()).Id, (await late.NextAsync()).Id]);
        await using var fresh = await SseStream.OpenAsync(client, "/api/v1/log/stream");
        await AppendAsync();
        Assert.Equal(bodies.Count, (await fresh.NextAsync()).Id);
    }

    private static List<byte[]> ReadBundle(byte[] bundle)
    {
        var bodies = new List<byte[]>();
        for (var offset = 0; offset < bundle.Length;)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(bundle.AsSpan(offset));
            bodies.Add(bundle.AsSpan(offset + 2, length).ToArray());
            offset += 2 + length;
        }

        return bodies;
    }

    private Task<RekorEntry> AppendAsync() => AppendAsync(Entries.NewHashedRekord().Json);
}
