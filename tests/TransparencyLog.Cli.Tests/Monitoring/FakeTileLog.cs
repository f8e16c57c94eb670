using TransparencyLog.Tests.Shared;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>
/// A c2sp.org/tlog-tiles log on loopback built from an in-memory list of entries: checkpoint, hash tiles, entry
/// bundles, the verifier key and the entry stream (<c>/api/v1/log/stream</c>), and Rekor v1's REST API over the same
/// entries (<c>/api/v1/log</c>, <c>/proof</c>, <c>/entries/retrieve</c>). Tests rewrite its history to make it fork or
/// shrink, can make it drop every stream after a few events, and can turn its tiles off (a log with the API only).
/// </summary>
internal sealed class FakeTileLog : IAsyncDisposable
{
    public const string Name = "fake.tiles.test";

    private readonly WebApplication _app;
    private readonly LogSigner _key = LogSigner.Generate(LogKeyType.EcdsaP256);
    private readonly Lock _lock = new();
    private readonly List<byte[]> _entries = [];
    private Dictionary<(int Level, long Index), Hash[]> _tiles = [];
    private int _streamConnections;
    private int _retrieveRequests;

    private FakeTileLog(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    public string VerifierKey => new NoteSigner(Name, _key).VerifierKey;

    /// <summary>When set, each stream is cut after this many events (the client must resume).</summary>
    public int? DropStreamAfter { get; set; }

    public int StreamConnections => Volatile.Read(ref _streamConnections);

    /// <summary>False: every tiles path (and the checkpoint) answers 404, as a Rekor v1 log without tiles.</summary>
    public bool ServeTiles { get; set; } = true;

    /// <summary>When set, the API serves this body for that index instead of the logged one (the tree is unchanged).</summary>
    public (long Index, byte[] Body)? ServeInstead { get; set; }

    /// <summary>Entry retrieval requests served (ten entries at most each).</summary>
    public int RetrieveRequests => Volatile.Read(ref _retrieveRequests);

    public long Size
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public void Append(params byte[][] entries)
    {
        lock (_lock)
        {
            _entries.AddRange(entries);
            Rebuild();
        }
    }

    /// <summary>Replaces entry <paramref name="index"/>: history rewritten, size unchanged.</summary>
    public void Replace(int index, byte[] entry)
    {
        lock (_lock)
        {
            _entries[index] = entry;
            Rebuild();
        }
    }

    public void Truncate(int size)
    {
        lock (_lock)
        {
            _entries.RemoveRange(size, _entries.Count - size);
            Rebuild();
        }
    }

    public static async Task<FakeTileLog> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var log = new FakeTileLog(app);
        app.MapGet("/checkpoint", () => log.ServeTiles ? Results.Text(log.Checkpoint(), "text/plain; charset=utf-8") : Results.NotFound());
        app.MapGet("/api/v1/log/verifierKey", () => Results.Text(log.VerifierKey + "\n"));
        app.MapGet("/tile/{**path}", (string path) => log.ServeTiles && log.Tile(path) is { } bytes ? Results.Bytes(bytes, "application/octet-stream") : Results.NotFound());
        app.MapGet("/api/v1/log", log.LogInfo);
        app.MapGet("/api/v1/log/proof", (long firstSize, long lastSize) => log.ConsistencyProof(firstSize, lastSize));
        app.MapPost("/api/v1/log/entries/retrieve", (RetrieveRequest request) => log.Retrieve(request.LogIndexes));
        app.MapGet("/api/v1/log/stream", log.StreamAsync);
        await app.StartAsync();
        return log;
    }

    private string Checkpoint()
    {
        lock (_lock)
        {
            var edge = TreeEdge.Empty;
            edge.Append([.. _entries.Select(static e => Rfc6962.HashLeaf(e))]);
            return SignedNote.SignAsync(new Checkpoint(Name, _entries.Count, edge.Root.ToArray()).ToNoteText(), new NoteSigner(Name, _key)).Completed();
        }
    }

    private IResult LogInfo()
    {
        lock (_lock)
        {
            return Results.Json(new { rootHash = Root(_entries.Count).ToString(), treeSize = _entries.Count, signedTreeHead = Checkpoint(), treeID = "1" });
        }
    }

    /// <summary>The proof as the log's current entries give it (so a rewritten history yields a proof that fails).</summary>
    private IResult ConsistencyProof(long first, long last)
    {
        lock (_lock)
        {
            if (first < 1 || first > last || last > _entries.Count)
            {
                return Results.Json(new { code = 400, message = "bad sizes" }, statusCode: 400);
            }

            var leaves = _entries.Select(static e => Rfc6962.HashLeaf(e)).ToArray();
            var plan = ProofPlanner.Consistency(first, last);
            var nodes = plan.Nodes.Select(n => Rfc6962.RootFromLeafHashes(leaves.AsSpan((int)(n.Index << n.Level), 1 << n.Level))).ToList();
            return Results.Json(new { rootHash = Root((int)last).ToString(), hashes = plan.Assemble(nodes).Select(static h => h.ToString()) });
        }
    }

    /// <summary>Rekor's shape: one <c>{uuid: entry}</c> map per entry found, in reverse order to show order is not relied on.</summary>
    private IResult Retrieve(long[] indexes)
    {
        Interlocked.Increment(ref _retrieveRequests);
        lock (_lock)
        {
            if (indexes.Length is 0 or > 10)
            {
                return Results.Json(new { code = 400, message = "at most 10 items per request" }, statusCode: 400);
            }

            var found = indexes.Where(i => i >= 0 && i < _entries.Count).Reverse().Select(i => new Dictionary<string, object>
            {
                [Rfc6962.HashLeaf(_entries[(int)i]).ToString()] = new { body = Convert.ToBase64String(ServeInstead is { } lie && lie.Index == i ? lie.Body : _entries[(int)i]), logIndex = i, integratedTime = 0 },
            });
            return Results.Json(found.ToArray());
        }
    }

    private Hash Root(int size) => Rfc6962.RootFromLeafHashes([.. _entries.Take(size).Select(static e => Rfc6962.HashLeaf(e))]);

    private sealed record RetrieveRequest(long[] LogIndexes);

    private void Rebuild()
    {
        var edge = TreeEdge.Empty;
        var tiles = new Dictionary<(int, long), Hash[]>();
        foreach (var (tile, hashes) in edge.Append([.. _entries.Select(static e => Rfc6962.HashLeaf(e))]))
        {
            tiles[(tile.Level, tile.Index)] = hashes;
        }

        _tiles = tiles;
    }

    private byte[]? Tile(string path)
    {
        var partial = path.IndexOf(".p/", StringComparison.Ordinal);
        var width = partial < 0 ? TileMath.Width : int.Parse(path[(partial + 3)..], CultureInfo.InvariantCulture);
        var head = partial < 0 ? path : path[..partial];
        var slash = head.IndexOf('/', StringComparison.Ordinal);
        var index = long.Parse(head[(slash + 1)..].Replace("x", "", StringComparison.Ordinal).Replace("/", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        lock (_lock)
        {
            if (head.StartsWith("entries/", StringComparison.Ordinal))
            {
                var start = index * TileMath.Width;
                if (start + width > _entries.Count)
                {
                    return null;
                }

                using var bundle = new MemoryStream();
                for (var i = start; i < start + width; i++)
                {
                    var length = new byte[2];
                    BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)_entries[(int)i].Length);
                    bundle.Write(length);
                    bundle.Write(_entries[(int)i]);
                }

                return bundle.ToArray();
            }

            var level = int.Parse(head[..slash], CultureInfo.InvariantCulture);
            // Any width up to the current one: a tile's prefix is the same tile at a smaller tree size.
            return _tiles.TryGetValue((level, index), out var hashes) && hashes.Length >= width
                ? [.. hashes.Take(width).SelectMany(static h => h.ToArray())]
                : null;
        }
    }

    private async Task StreamAsync(HttpContext context, long from)
    {
        Interlocked.Increment(ref _streamConnections);
        context.Response.ContentType = "text/event-stream";
        await context.Response.Body.FlushAsync(context.RequestAborted);
        var next = from;
        var sent = 0;
        try
        {
            while (!context.RequestAborted.IsCancellationRequested)
            {
                byte[]? entry = null;
                lock (_lock)
                {
                    if (next < _entries.Count)
                    {
                        entry = _entries[(int)next];
                    }
                }

                if (entry is null)
                {
                    await Task.Delay(10, context.RequestAborted);
                    continue;
                }

                var text = $"id: {next}\nevent: entry\ndata: {{\"logIndex\":{next},\"body\":\"{Convert.ToBase64String(entry)}\"}}\n\n";
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                next++;
                if (++sent == DropStreamAfter)
                {
                    context.Abort();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _key.Dispose();
    }
}
