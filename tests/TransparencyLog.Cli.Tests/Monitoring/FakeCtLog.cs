using System.Buffers.Binary;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>
/// An RFC 6962 CT log on loopback with no tiles, over an in-memory list of MerkleTreeLeaf values: get-sth (signed
/// TreeHeadSignature), get-sth-consistency, get-entries cut to <see cref="PageCap"/> entries, and its public key. Tests
/// make it sign a forked head, shrink, or sign badly.
/// </summary>
internal sealed class FakeCtLog : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LogSigner _key = LogSigner.Generate(LogKeyType.EcdsaP256);
    private readonly Lock _lock = new();
    private readonly List<byte[]> _leaves = [];

    private FakeCtLog(WebApplication app) => _app = app;

    /// <summary>The log's URL, as a CT log list names it (its API is under <c>/ct/v1</c>... here <c>URL/v1</c>).</summary>
    public string Url => _app.Urls.First() + "/ct";

    /// <summary>At most this many entries per get-entries answer, whatever was asked.</summary>
    public int PageCap { get; set; } = 7;

    /// <summary>When set, get-sth states this root (validly signed) instead of the tree's: a forked view.</summary>
    public Hash? ForkedRoot { get; set; }

    /// <summary>When set, the STH's signature does not verify.</summary>
    public bool BreakSignature { get; set; }

    public int GetEntriesRequests => Volatile.Read(ref _getEntries);

    private int _getEntries;

    public void Append(params byte[][] leaves)
    {
        lock (_lock)
        {
            _leaves.AddRange(leaves);
        }
    }

    public void Truncate(int size)
    {
        lock (_lock)
        {
            _leaves.RemoveRange(size, _leaves.Count - size);
        }
    }

    public static async Task<FakeCtLog> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var log = new FakeCtLog(app);
        app.MapGet("/ct/v1/get-sth", log.GetSthAsync);
        app.MapGet("/ct/v1/get-sth-consistency", (long first, long second) => log.Consistency(first, second));
        app.MapGet("/ct/v1/get-entries", (long start, long end) => log.Entries(start, end));
        app.MapGet("/ct/v1/public-key", () => Results.Text(log._key.PublicKeyPem, "application/x-pem-file"));
        await app.StartAsync();
        return log;
    }

    private async Task<IResult> GetSthAsync()
    {
        long size;
        Hash root;
        lock (_lock)
        {
            size = _leaves.Count;
            root = ForkedRoot ?? Root(_leaves.Count);
        }

        const ulong timestamp = 1_700_000_000_000;
        var input = new byte[2 + 8 + 8 + Hash.Size];
        input[1] = 1;
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(2), timestamp);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(10), (ulong)size);
        root.CopyTo(input.AsSpan(18));
        var signature = await _key.SignAsync(input);
        if (BreakSignature)
        {
            signature[^1] ^= 1;
        }

        var signed = new byte[4 + signature.Length];
        signed[0] = 4;
        signed[1] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(signed.AsSpan(2), (ushort)signature.Length);
        signature.CopyTo(signed, 4);
        return Results.Json(new { tree_size = size, timestamp, sha256_root_hash = root.ToBase64(), tree_head_signature = Convert.ToBase64String(signed) });
    }

    private IResult Consistency(long first, long second)
    {
        lock (_lock)
        {
            if (first < 0 || first > second || second > _leaves.Count)
            {
                return Results.BadRequest();
            }

            if (first == 0 || first == second)
            {
                return Results.Json(new { consistency = Array.Empty<string>() });
            }

            var hashes = _leaves.Select(static l => Rfc6962.HashLeaf(l)).ToArray();
            var plan = ProofPlanner.Consistency(first, second);
            var nodes = plan.Nodes.Select(n => Rfc6962.RootFromLeafHashes(hashes.AsSpan((int)(n.Index << n.Level), 1 << n.Level))).ToList();
            return Results.Json(new { consistency = plan.Assemble(nodes).Select(static h => h.ToBase64()) });
        }
    }

    private IResult Entries(long start, long end)
    {
        Interlocked.Increment(ref _getEntries);
        lock (_lock)
        {
            if (start < 0 || end < start || start >= _leaves.Count)
            {
                return Results.BadRequest();
            }

            var last = Math.Min(Math.Min(end, _leaves.Count - 1), start + PageCap - 1);
            var entries = _leaves.Skip((int)start).Take((int)(last - start + 1)).Select(static l => new { leaf_input = Convert.ToBase64String(l), extra_data = "" });
            return Results.Json(new { entries = entries.ToArray() });
        }
    }

    private Hash Root(int size) => Rfc6962.RootFromLeafHashes([.. _leaves.Take(size).Select(static l => Rfc6962.HashLeaf(l))]);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _key.Dispose();
    }
}
