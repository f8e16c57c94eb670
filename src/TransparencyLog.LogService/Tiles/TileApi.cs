using System.Buffers.Binary;
using Microsoft.AspNetCore.Mvc;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Witnessing;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tiles;

/// <summary>
/// The c2sp.org/tlog-tiles read API of the Rekor v1 log, on the same host: any tlog-tiles client can verify the log
/// without our code. Tiles are content-deterministic, so every tile served (full or partial) is cacheable forever.
/// </summary>
internal static class TileApi
{
    private const string Immutable = "public, max-age=31536000, immutable";

    /// <summary>Serves one log's <c>{prefix}/checkpoint</c> and <c>{prefix}/tile/...</c>.</summary>
    public static IEndpointRouteBuilder MapTiles(this IEndpointRouteBuilder app, string prefix, LogKind kind) =>
        app.MapTiles(prefix, registry => registry.Get(kind));

    /// <summary>Serves <c>{prefix}/checkpoint</c> and <c>{prefix}/tile/...</c> of the log <paramref name="logOf"/> names.</summary>
    public static IEndpointRouteBuilder MapTiles(this IEndpointRouteBuilder app, string prefix, Func<LogRegistry, LogInstance> logOf)
    {
        var tileApi = app.MapGroup(prefix).AnswerStorageOutage(
            (status, message) => TypedResults.Text(message + "\n", "text/plain; charset=utf-8", statusCode: status));
        tileApi.MapGet("/checkpoint", (HttpContext context, LogRegistry registry, LogHeads heads, CheckpointWitnessing witnessing) =>
            GetCheckpointAsync(context, logOf(registry), heads, witnessing));
        tileApi.MapGet("/tile/{**path}", (string path, HttpContext context, LogRegistry registry, [AsParameters] TileSources sources) =>
            GetTileAsync(path, context, logOf(registry), sources));
        return app;
    }

    /// <summary>
    /// Every Rekor v1 shard's tiles by tree ID (decimal, as <c>treeID</c> in <c>GET /api/v1/log</c>):
    /// <c>/shards/{treeID}/checkpoint</c> and <c>/shards/{treeID}/tile/...</c>. A frozen shard serves its final
    /// checkpoint and every tile up to its final size forever; the active shard is served here too (and at the root).
    /// </summary>
    public static IEndpointRouteBuilder MapShardTiles(this IEndpointRouteBuilder app)
    {
        var tileApi = app.MapGroup("/shards/{treeID}").AnswerStorageOutage(
            (status, message) => TypedResults.Text(message + "\n", "text/plain; charset=utf-8", statusCode: status));
        tileApi.MapGet("/checkpoint", (string treeID, HttpContext context, LogRegistry registry, LogHeads heads, CheckpointWitnessing witnessing) =>
            ShardOf(registry, treeID) is { } log ? GetCheckpointAsync(context, log, heads, witnessing) : Task.FromResult(UnknownShard()));
        tileApi.MapGet("/tile/{**path}", (string treeID, string path, HttpContext context, LogRegistry registry, [AsParameters] TileSources sources) =>
            ShardOf(registry, treeID) is { } log ? GetTileAsync(path, context, log, sources) : Task.FromResult(UnknownShard()));
        return app;
    }

    private static LogInstance? ShardOf(LogRegistry registry, string treeID) =>
        treeID.Length <= 20 && long.TryParse(treeID, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? registry.RekorShards.FirstOrDefault(s => s.TreeId == id)
            : null;

    private static IResult UnknownShard() =>
        TypedResults.Text("no Rekor v1 shard has this tree ID\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> GetCheckpointAsync(HttpContext context, LogInstance log, LogHeads heads, CheckpointWitnessing witnessing)
    {
        var head = await heads.GetServableAsync(log.Id, fresh: true, context.RequestAborted);
        context.Response.Headers.CacheControl = "no-cache";
        // With a witness policy, the checkpoint carrying the witnesses' cosignatures (docs/witness.md).
        var note = await witnessing.ServedCheckpointAsync(log, head, context.RequestAborted);
        return TypedResults.Text(note, "text/plain; charset=utf-8");
    }

    private static async Task<IResult> GetTileAsync(string path, HttpContext context, LogInstance log, TileSources sources)
    {
        if (path.Length > 128 || !TileId.TryParse("tile/" + path, out var tile, out var isEntries))
        {
            return TypedResults.NotFound();
        }

        var (heads, tiles, entries, bundles) = sources;
        if (isEntries && tile.IsFull && bundles.TryGet(log.Id, tile.Index, out var cachedBundle))
        {
            context.Response.Headers.CacheControl = Immutable;
            return TypedResults.Bytes(cachedBundle, "application/octet-stream");
        }

        // A head seen earlier answers for every tile it covers, also while the database is unavailable; a tile beyond
        // it needs the current head, so then the outage is the answer (503), not a 404 that may be untrue.
        var head = await heads.GetServableAsync(log.Id, fresh: false, context.RequestAborted);
        if (!Exists(tile, isEntries ? 0 : tile.Level, head.Size))
        {
            head = await heads.GetNewestAsync(log.Id, context.RequestAborted);
            if (!Exists(tile, isEntries ? 0 : tile.Level, head.Size))
            {
                return TypedResults.NotFound();
            }
        }

        context.Response.Headers.CacheControl = Immutable;
        if (isEntries)
        {
            var bodies = await entries.GetBodiesAsync(log.Id, tile.Index * TileMath.Width, tile.Width, context.RequestAborted);
            if (bodies.Count != tile.Width)
            {
                throw new LogStorageException($"log {log.Name}: entry bundle {tile.Index} is missing entries");
            }

            var bundle = new byte[bodies.Sum(b => 2 + b.Length)];
            var offset = 0;
            foreach (var body in bodies)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bundle.AsSpan(offset), checked((ushort)body.Length));
                body.CopyTo(bundle, offset + 2);
                offset += 2 + body.Length;
            }

            if (tile.IsFull)
            {
                bundles.Add(log.Id, tile.Index, bundle);
            }

            return TypedResults.Bytes(bundle, "application/octet-stream");
        }

        var key = new TileKey(tile.Level, tile.Index);
        var read = await tiles.ReadAsync(log.Id, new Dictionary<TileKey, int> { [key] = tile.Width }, context.RequestAborted);
        return TypedResults.Bytes(TileStore.Encode(read[key].Entries.AsSpan(0, tile.Width)), "application/octet-stream");
    }

    /// <summary>Where tiles come from: the head that says which exist, hash tiles, entries, cached full bundles.</summary>
    private sealed record TileSources(
        [FromServices] LogHeads Heads, [FromServices] TileStore Tiles, [FromServices] EntryStore Entries, [FromServices] EntryBundleCache Bundles);

    /// <summary>Whether a tile of this width exists for some tree size up to <paramref name="size"/>.</summary>
    private static bool Exists(TileId tile, int level, long size)
    {
        var full = TileMath.FullTileCount(level, size);
        if (tile.Index < full)
        {
            return true;
        }

        // A partial tile of width W exists at the edge once the edge tile holds at least W entries.
        return !tile.IsFull && tile.Index == full && TileMath.PartialWidth(level, size) >= tile.Width;
    }
}
