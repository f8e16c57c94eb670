using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.RekorV2;

/// <summary>A fresh database and a running log service with the Rekor v2 log enabled, for one test class.</summary>
public sealed class RekorV2Fixture : IAsyncLifetime
{
    public const string LogName = "rekor-v2.test.local";

    private LogServiceProcess? _service;

    private TestDatabase? _database;

    internal HttpClient Client => (_service ?? throw new InvalidOperationException("not started")).Client;

    /// <summary>The Rekor v2 log key, as a trusted root would carry it.</summary>
    internal LogPublicKey PublicKey { get; private set; } = null!;

    internal string KeyDirectory { get; } = Directory.CreateTempSubdirectory("tlog-keys-").FullName;

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("rekorv2");
        var app = _database.App;
        _service = await LogServiceProcess.StartAsync(app, KeyDirectory, settings: new Dictionary<string, string>
        {
            ["Logs__RekorV2__Enabled"] = "true",
            ["Logs__RekorV2__Name"] = LogName,
            ["Logs__RekorV2__StateDirectory"] = KeyDirectory,
        });
        PublicKey = LogPublicKey.FromPem(await Client.GetStringAsync("/api/v2/log/publicKey"));
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Directory.Delete(KeyDirectory, recursive: true);
    }

    internal Task<HttpResponseMessage> PostAsync(string json) =>
        Client.PostAsync("/api/v2/log/entries", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Posts, expects 201, and checks the answer the way @sigstore/verify checks a v2 bundle entry.</summary>
    internal async Task<V2Entry> AppendAsync(string json)
    {
        using var response = await PostAsync(json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {text}");
        var entry = V2Entry.Parse(text);
        VerifyAsSigstoreJs(entry);
        return entry;
    }

    /// <summary>The current signed tree head of the v2 log, verified with the log key.</summary>
    internal async Task<Checkpoint> CheckpointAsync()
    {
        var note = await Client.GetStringAsync("/api/v2/checkpoint");
        Assert.True(new NoteVerifier(LogName, PublicKey).TryVerifyCheckpoint(note, out var checkpoint), note);
        return checkpoint!;
    }

    /// <summary>
    /// The 32-byte log ID computed here from the key alone, independently of the service:
    /// SHA-256(name || 0x0A || 0x01 || raw Ed25519 key), the untruncated C2SP key hash rekor-tiles uses.
    /// </summary>
    internal byte[] ExpectedLogId()
    {
        Assert.Equal(LogKeyType.Ed25519, PublicKey.KeyType);
        var raw = PublicKey.Spki[^32..];
        return SHA256.HashData([.. Encoding.UTF8.GetBytes(LogName), 0x0A, 0x01, .. raw]);
    }

    /// <summary>
    /// What @sigstore/verify 3.x does with a v2 entry and a trusted root holding this log's key and
    /// <c>checkpointKeyId</c> = logId[:4]: find the signature whose key hint is the checkpoint key ID, verify it, then
    /// check the inclusion proof of the leaf (canonicalizedBody) against the checkpoint's size and root.
    /// </summary>
    internal void VerifyAsSigstoreJs(V2Entry entry)
    {
        var logId = ExpectedLogId();
        Assert.Equal(logId, entry.LogId);
        Assert.Equal("0", entry.IntegratedTime);
        Assert.EndsWith("\n", entry.Checkpoint, StringComparison.Ordinal);

        var signatureLine = entry.Checkpoint.Split('\n').Single(l => l.StartsWith("\u2014 ", StringComparison.Ordinal));
        var parts = signatureLine.Split(' ');
        Assert.Equal(LogName, parts[1]);
        Assert.Equal(logId[..4], Convert.FromBase64String(parts[2])[..4]);
        Assert.True(new NoteVerifier(LogName, PublicKey).TryVerifyCheckpoint(entry.Checkpoint, out var checkpoint));
        Assert.Equal(LogName, checkpoint!.Origin);
        Assert.Empty(checkpoint.Extensions);

        // The legacy client also compares the proof's own root and size with the checkpoint's: keep them identical.
        Assert.Equal(checkpoint.Size, entry.TreeSize);
        Assert.Equal(checkpoint.RootHash, entry.RootHash);
        Assert.Equal(entry.LogIndex, entry.ProofLogIndex);
        Assert.True(ProofVerifier.VerifyInclusion(
            entry.LogIndex, checkpoint.Size, Rfc6962.HashLeaf(entry.Body), entry.Hashes, Hash.FromBytes(checkpoint.RootHash)));
    }
}

/// <summary>A parsed v2 <c>TransparencyLogEntry</c> (protobuf-JSON: int64 as strings, bytes as base64).</summary>
internal sealed record V2Entry(
    long LogIndex,
    byte[] LogId,
    string Kind,
    string Version,
    string IntegratedTime,
    long ProofLogIndex,
    byte[] RootHash,
    long TreeSize,
    Hash[] Hashes,
    string Checkpoint,
    byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public static V2Entry Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var proof = root.GetProperty("inclusionProof");
        return new V2Entry(
            long.Parse(root.GetProperty("logIndex").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            root.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64(),
            root.GetProperty("kindVersion").GetProperty("kind").GetString()!,
            root.GetProperty("kindVersion").GetProperty("version").GetString()!,
            root.GetProperty("integratedTime").GetString()!,
            long.Parse(proof.GetProperty("logIndex").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            proof.GetProperty("rootHash").GetBytesFromBase64(),
            long.Parse(proof.GetProperty("treeSize").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            [.. proof.GetProperty("hashes").EnumerateArray().Select(h => Hash.FromBytes(h.GetBytesFromBase64()))],
            proof.GetProperty("checkpoint").GetProperty("envelope").GetString()!,
            root.GetProperty("canonicalizedBody").GetBytesFromBase64());
    }
}
