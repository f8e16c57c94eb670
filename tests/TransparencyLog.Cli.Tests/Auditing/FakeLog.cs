using TransparencyLog.Tests.Shared;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Tests.Auditing;

/// <summary>
/// A Rekor v1 log reduced to what an auditor reads (<c>/api/v1/log</c>, <c>/api/v1/log/proof</c>), served on loopback
/// from an in-memory tree. Tests swap its leaves or its signing key to make it misbehave.
/// </summary>
internal sealed class FakeLog : IAsyncDisposable
{
    public const string Name = "fake.log.test";

    private readonly WebApplication _app;

    private FakeLog(WebApplication app, LogSigner key)
    {
        _app = app;
        Key = key;
        SigningKey = key;
    }

    public List<byte[]> Leaves { get; } = [];

    /// <summary>The key whose public half the auditor trusts.</summary>
    public LogSigner Key { get; }

    /// <summary>The key checkpoints are actually signed with (differs when a test simulates a bad signature).</summary>
    public LogSigner SigningKey { get; set; }

    public string Url => _app.Urls.First();

    public string VerifierKey => new NoteSigner(Name, Key).VerifierKey;

    public void Append(int count, string prefix = "entry")
    {
        for (var i = 0; i < count; i++)
        {
            Leaves.Add(Encoding.UTF8.GetBytes($"{prefix}-{Leaves.Count}"));
        }
    }

    public static async Task<FakeLog> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var log = new FakeLog(app, LogSigner.Generate(LogKeyType.EcdsaP256));
        app.MapGet("/api/v1/log", () =>
        {
            var hashes = log.LeafHashes();
            var root = ReferenceMerkle.Root(hashes);
            var checkpoint = SignedNote.SignAsync(
                new Checkpoint($"{Name} - 42", hashes.Length, root.ToArray()).ToNoteText(),
                new NoteSigner(Name, log.SigningKey)).Completed();
            return Results.Json(new { rootHash = root.ToString(), treeSize = hashes.Length, signedTreeHead = checkpoint, treeID = "42" });
        });
        app.MapGet("/api/v1/log/proof", (int firstSize, int lastSize) =>
        {
            var hashes = log.LeafHashes()[..lastSize];
            return Results.Json(new
            {
                rootHash = ReferenceMerkle.Root(hashes).ToString(),
                hashes = ReferenceMerkle.ConsistencyProof(firstSize, hashes).Select(static h => h.ToString()).ToArray(),
            });
        });
        await app.StartAsync();
        return log;
    }

    private Hash[] LeafHashes() => [.. Leaves.Select(static l => Rfc6962.HashLeaf(l))];

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Key.Dispose();
    }
}
