using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.RekorV2;

/// <summary>
/// Rekor v2 logs of successive periods hosted by one service (<c>Logs:RekorV2Periods</c>): each under its own path
/// with its own tree, Ed25519 key and origin (<c>HOST:PORT/PATH</c>), reachable by an unmodified client that appends
/// <c>/api/v2/...</c> to the base URL <c>http://HOST:PORT/PATH</c>; a frozen (read-only) one keeps serving what it holds
/// and refuses appends with a stable error.
/// </summary>
public sealed class RekorV2PeriodTests : IAsyncLifetime
{
    private readonly string _keyDirectory = Directory.CreateTempSubdirectory("tlog-periods-").FullName;
    private readonly int _port = ServiceProcess.FreePort();
    private TestDatabase? _database;
    private string _app = "";

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("periods");
        _app = _database.App;
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Directory.Delete(_keyDirectory, recursive: true);
    }

    [Fact]
    public async Task PeriodLogs_TwoServedAtOnce_EachHasItsOwnTreeKeyOriginAndBaseUrl()
    {
        await using var service = await StartAsync(oldFrozen: false);
        var client = service.Client;
        var a = await PeriodAsync(client, "2026a");
        var b = await PeriodAsync(client, "2026b");
        Assert.NotEqual(a.Key.Spki, b.Key.Spki);

        var inA = new[] { await AppendAsync(client, a), await AppendAsync(client, a) };
        var inB = await AppendAsync(client, b);
        // Separate trees: each starts at index 0.
        Assert.Equal([0L, 1L], inA.Select(e => e.LogIndex));
        Assert.Equal(0, inB.LogIndex);

        foreach (var period in new[] { a, b })
        {
            // The trusted-root item: baseUrl carries the path; a client appending /api/v2/checkpoint reaches this log.
            using var instance = JsonDocument.Parse(await client.GetStringAsync($"/{period.Path}/api/v2/log/tlogInstance"));
            var baseUrl = instance.RootElement.GetProperty("baseUrl").GetString()!;
            Assert.Equal($"http://127.0.0.1:{_port}/{period.Path}", baseUrl);
            Assert.Equal(period.LogId, instance.RootElement.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64());
            var note = await client.GetStringAsync(new Uri(baseUrl + "/api/v2/checkpoint"));
            Assert.True(new NoteVerifier(period.Name, period.Key).TryVerifyCheckpoint(note, out var checkpoint), note);
            Assert.Equal(period.Name, checkpoint!.Origin);

            // What @sigstore/verify does with the signature line: the signer name, as a regular expression, must
            // match this log's baseUrl; the other period's name must not (each log's checkpoints find only its key).
            var signer = note.Split('\n').Single(l => l.StartsWith("\u2014 ", StringComparison.Ordinal)).Split(' ')[1];
            Assert.Equal(period.Name, signer);
            Assert.Matches(new Regex(signer), baseUrl);
            var other = period == a ? b : a;
            Assert.DoesNotMatch(new Regex(other.Name), baseUrl);
        }

        Assert.Equal(2, (await CheckpointAsync(client, a)).Size);
        Assert.Equal(1, (await CheckpointAsync(client, b)).Size);
        var bundle = await client.GetByteArrayAsync("/2026a/api/v2/tile/entries/000.p/2");
        Assert.Equal(2 + inA[0].Body.Length + 2 + inA[1].Body.Length, bundle.Length);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/2026c/api/v2/checkpoint")).StatusCode);
        // The unnamed v2 log is not enabled here: its routes do not exist.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v2/checkpoint")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        // Each period's routes are in the OpenAPI document under their own operation ids.
        using var openApi = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = openApi.RootElement.GetProperty("paths");
        Assert.Equal("createEntry_2026a", paths.GetProperty("/2026a/api/v2/log/entries").GetProperty("post").GetProperty("operationId").GetString());
        Assert.Equal("getCheckpointV2_2026b", paths.GetProperty("/2026b/api/v2/checkpoint").GetProperty("get").GetProperty("operationId").GetString());
    }

    [Fact]
    public async Task PeriodLog_ReadOnly_RefusesAppendsWithStableErrorAndStillServesItsEntries()
    {
        V2Entry old;
        Checkpoint before;
        Period a;
        await using (var service = await StartAsync(oldFrozen: false))
        {
            a = await PeriodAsync(service.Client, "2026a");
            await AppendAsync(service.Client, a);
            old = await AppendAsync(service.Client, a);
            before = await CheckpointAsync(service.Client, a);
        }

        // The next period takes over: the service restarts with the old one read-only, same keys, same database.
        await using var frozen = await StartAsync(oldFrozen: true);
        var client = frozen.Client;
        Assert.Equal(a.Key.Spki, (await PeriodAsync(client, "2026a")).Key.Spki);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var body in new[] { V2Requests.EcdsaHashedRekord(key).Json, "{not json", "" })
        {
            using var refused = await client.PostAsync("/2026a/api/v2/log/entries", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal(9, error.RootElement.GetProperty("code").GetInt32());
            Assert.Contains($"the log {a.Name} is frozen (read-only)", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Nothing changed, and everything it held is still served: checkpoint, tiles, search with proofs.
        var after = await CheckpointAsync(client, a);
        Assert.Equal(before.Size, after.Size);
        Assert.Equal(before.RootHash, after.RootHash);
        var tile = await client.GetByteArrayAsync("/2026a/api/v2/tile/0/000.p/2");
        Assert.Equal(Hash.FromBytes(before.RootHash), Rfc6962.RootFromLeafHashes([Hash.FromBytes(tile.AsSpan(0, 32)), Hash.FromBytes(tile.AsSpan(32, 32))]));
        var digest = JsonDocument.Parse(old.Body).RootElement.GetProperty("spec").GetProperty("hashedRekordV002").GetProperty("data").GetProperty("digest").GetString()!;
        using (var search = await client.PostAsync("/2026a/api/v2/index/retrieve",
            new StringContent($$"""{"hash":"sha256:{{Convert.ToHexStringLower(Convert.FromBase64String(digest))}}"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, search.StatusCode);
            using var found = JsonDocument.Parse(await search.Content.ReadAsStringAsync());
            var entry = V2Entry.Parse(Assert.Single(found.RootElement.GetProperty("entries").EnumerateArray().ToList()).GetRawText());
            Assert.Equal(old.LogIndex, entry.LogIndex);
            Assert.True(ProofVerifier.VerifyInclusion(entry.LogIndex, entry.TreeSize, Rfc6962.HashLeaf(entry.Body), entry.Hashes, Hash.FromBytes(entry.RootHash)));
        }

        // The active period goes on taking entries.
        var b = await PeriodAsync(client, "2026b");
        Assert.Equal(0, (await AppendAsync(client, b)).LogIndex);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
    }

    [Theory]
    [InlineData("api")]
    [InlineData("tuf")]
    [InlineData("2026_a")]
    [InlineData("Upper")]
    [InlineData("-2026")]
    [InlineData("a23456789012345678901234567890123")]
    public void Paths_ReservedOrMalformed_RefusedWithTheRule(string path)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"Logs:RekorV2Periods:{path}:Name"] = "x.example/" + path })
            .Build();

        var refused = Assert.Throws<InvalidOperationException>(() => RekorV2PeriodConfiguration.Paths(configuration));
        Assert.Contains("1-32 lower-case letters, digits and '-'", refused.Message, StringComparison.Ordinal);
    }

    private Task<LogServiceProcess> StartAsync(bool oldFrozen) =>
        LogServiceProcess.StartAsync(_app, _keyDirectory, settings: new Dictionary<string, string>
        {
            ["Logs__RekorV2Periods__2026a__Name"] = $"127.0.0.1:{_port}/2026a",
            ["Logs__RekorV2Periods__2026a__StateDirectory"] = _keyDirectory,
            ["Logs__RekorV2Periods__2026a__ReadOnly"] = oldFrozen ? "true" : "false",
            ["Logs__RekorV2Periods__2026b__Name"] = $"127.0.0.1:{_port}/2026b",
            ["Logs__RekorV2Periods__2026b__StateDirectory"] = _keyDirectory,
        }, port: _port);

    private async Task<Period> PeriodAsync(HttpClient client, string path)
    {
        var key = LogPublicKey.FromPem(await client.GetStringAsync($"/{path}/api/v2/log/publicKey"));
        Assert.Equal(LogKeyType.Ed25519, key.KeyType);
        var name = $"127.0.0.1:{_port}/{path}";
        // The log ID computed here from the name and key alone: SHA-256(name || 0x0A || 0x01 || raw Ed25519 key).
        return new Period(path, name, key, SHA256.HashData([.. Encoding.UTF8.GetBytes(name), 0x0A, 0x01, .. key.Spki[^32..]]));
    }

    private static async Task<V2Entry> AppendAsync(HttpClient client, Period period)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var response = await client.PostAsync(
            $"/{period.Path}/api/v2/log/entries", new StringContent(V2Requests.EcdsaHashedRekord(key).Json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {text}");
        var entry = V2Entry.Parse(text);
        Assert.Equal(period.LogId, entry.LogId);
        Assert.True(new NoteVerifier(period.Name, period.Key).TryVerifyCheckpoint(entry.Checkpoint, out var checkpoint));
        Assert.True(ProofVerifier.VerifyInclusion(entry.LogIndex, checkpoint!.Size, Rfc6962.HashLeaf(entry.Body), entry.Hashes, Hash.FromBytes(checkpoint.RootHash)));
        return entry;
    }

    private static async Task<Checkpoint> CheckpointAsync(HttpClient client, Period period)
    {
        var note = await client.GetStringAsync($"/{period.Path}/api/v2/checkpoint");
        Assert.True(new NoteVerifier(period.Name, period.Key).TryVerifyCheckpoint(note, out var checkpoint), note);
        return checkpoint!;
    }

    private sealed record Period(string Path, string Name, LogPublicKey Key, byte[] LogId);
}
