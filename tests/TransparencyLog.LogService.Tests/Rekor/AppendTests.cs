using System.Net;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Rekor;

public sealed class AppendTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task PostEntry_ValidHashedRekord_Returns201WithEveryFieldAndVerifiableProof()
    {
        var (proposal, _) = log.Entries.NewHashedRekord();
        using var response = await log.PostAsync("/api/v1/log/entries", proposal);
        var json = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var entry = RekorEntry.Parse(json);
        Assert.Equal($"/api/v1/log/entries/{entry.Uuid}", response.Headers.Location?.OriginalString);
        Assert.Equal(80, entry.Uuid.Length);
        entry.AssertVerifies(log.PublicKey, log.Service.LogName);

        // The stored body is the canonical form of what was proposed: the same keys, sorted, no whitespace.
        var body = JsonDocument.Parse(Convert.FromBase64String(entry.BodyBase64)).RootElement;
        Assert.Equal("hashedrekord", body.GetProperty("kind").GetString());
        Assert.Equal("0.0.1", body.GetProperty("apiVersion").GetString());
    }

    [Fact]
    public async Task PostEntry_ManyEntriesSequentialAndConcurrent_EveryResponseAndLaterReadVerifies()
    {
        var appended = new List<RekorEntry>();
        for (var i = 0; i < 40; i++)
        {
            appended.Add(await log.AppendAsync(log.Entries.NewHashedRekord().Json));
        }

        foreach (var concurrency in new[] { 3, 17, 64, 200 })
        {
            var batch = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => log.AppendAsync(log.Entries.NewHashedRekord().Json)));
            appended.AddRange(batch);
        }

        foreach (var entry in appended)
        {
            entry.AssertVerifies(log.PublicKey, log.Service.LogName);
        }

        // Indices are distinct, and every entry reads back with a proof against the latest head.
        Assert.Equal(appended.Count, appended.Select(e => e.LogIndex).Distinct().Count());
        foreach (var entry in appended.Where((_, i) => i % 7 == 0))
        {
            var read = RekorEntry.Parse(await log.Client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}"));
            Assert.Equal(entry.BodyBase64, read.BodyBase64);
            Assert.Equal(entry.IntegratedTime, read.IntegratedTime);
            Assert.True(read.TreeSize >= entry.TreeSize);
            read.AssertVerifies(log.PublicKey, log.Service.LogName);
        }
    }

    [Fact]
    public async Task PostEntry_Duplicate_Returns409WithExistingLocationAndChangesNothing()
    {
        var (proposal, _) = log.Entries.NewHashedRekord();
        var first = await log.AppendAsync(proposal);
        var sizeBefore = await TreeSizeAsync();

        using var again = await log.PostAsync("/api/v1/log/entries", proposal);
        var error = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(409, error.GetProperty("code").GetInt32());
        Assert.Contains(first.Uuid, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/api/v1/log/entries/{first.Uuid}", again.Headers.Location?.OriginalString);
        Assert.Equal(sizeBefore, await TreeSizeAsync());

        // What a fetchOnConflict client does next: follow the location.
        var fetched = RekorEntry.Parse(await log.Client.GetStringAsync(again.Headers.Location!.OriginalString));
        Assert.Equal(first.LogIndex, fetched.LogIndex);
    }

    [Fact]
    public async Task PostEntry_SameEntryConcurrently_ExactlyOneAppended()
    {
        var (proposal, _) = log.Entries.NewHashedRekord();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => log.PostAsync("/api/v1/log/entries", proposal)));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task PostEntry_NewEntriesAtOnceWithOneAlreadyLogged_NewOnesTakeTheNextIndicesAndTheOldOneIs409()
    {
        var (logged, _) = log.Entries.NewHashedRekord();
        var first = await log.AppendAsync(logged);
        var sizeBefore = await TreeSizeAsync();

        // Sent at once, so the old entry shares a batch with new ones: the sequencer's one-round-trip write refuses
        // the batch (the leaf is in the log), which is then written the ordinary way.
        var proposals = Enumerable.Range(0, 30).Select(_ => log.Entries.NewHashedRekord().Json).Append(logged).ToList();
        var responses = await Task.WhenAll(proposals.Select(p => log.PostAsync("/api/v1/log/entries", p)));
        try
        {
            Assert.Equal(HttpStatusCode.Conflict, responses[^1].StatusCode);
            Assert.Equal($"/api/v1/log/entries/{first.Uuid}", responses[^1].Headers.Location?.OriginalString);
            var created = new List<RekorEntry>();
            foreach (var response in responses.SkipLast(1))
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                created.Add(RekorEntry.Parse(await response.Content.ReadAsStringAsync()));
            }

            Assert.Equal(
                Enumerable.Range(0, 30).Select(i => sizeBefore + i),
                created.Select(e => e.LogIndex).Order());
            foreach (var entry in created)
            {
                entry.AssertVerifies(log.PublicKey, log.Service.LogName);
            }

            Assert.Equal(sizeBefore + 30, await TreeSizeAsync());
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task GetEntry_ByUuidAndByEntryId_ReturnsTheSameEntry()
    {
        var entry = await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        var byEntryId = RekorEntry.Parse(await log.Client.GetStringAsync($"/api/v1/log/entries/{entry.Uuid}"));
        var byUuid = RekorEntry.Parse(await log.Client.GetStringAsync($"/api/v1/log/entries/{entry.Uuid[16..]}"));
        Assert.Equal(entry.LogIndex, byEntryId.LogIndex);
        Assert.Equal(entry.LogIndex, byUuid.LogIndex);
        byUuid.AssertVerifies(log.PublicKey, log.Service.LogName);
    }

    [Fact]
    public async Task RetrieveEntries_ByUuidIndexAndProposedEntry_ReturnsEachEntry()
    {
        var (proposal, _) = log.Entries.NewHashedRekord();
        var a = await log.AppendAsync(proposal);
        var b = await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        var request = $$"""{"entryUUIDs":["{{a.Uuid}}"],"logIndexes":[{{b.LogIndex}}],"entries":[{{proposal}}]}""";
        using var response = await log.PostAsync("/api/v1/log/entries/retrieve", request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
            .Select(e => RekorEntry.Parse(e.GetRawText())).ToList();
        Assert.Equal([a.LogIndex, b.LogIndex, a.LogIndex], items.Select(i => i.LogIndex));
    }

    [Fact]
    public async Task SearchIndex_ByArtifactHashAndPublicKey_FindsTheEntry()
    {
        var (proposal, sha256) = log.Entries.NewHashedRekord();
        var entry = await log.AppendAsync(proposal);

        using var byHash = await log.PostAsync("/api/v1/index/retrieve", $$"""{"hash":"sha256:{{sha256}}"}""");
        Assert.Equal([entry.Uuid], JsonSerializer.Deserialize<string[]>(await byHash.Content.ReadAsStringAsync())!);

        using var byKey = await log.PostAsync("/api/v1/index/retrieve", $$"""{"publicKey":{"format":"x509","content":"{{log.Entries.PublicKeyPemBase64}}"},"hash":"{{sha256}}","operator":"and"}""");
        Assert.Equal([entry.Uuid], JsonSerializer.Deserialize<string[]>(await byKey.Content.ReadAsStringAsync())!);

        using var none = await log.PostAsync("/api/v1/index/retrieve", $$"""{"hash":"sha256:{{new string('0', 64)}}"}""");
        Assert.Empty(JsonSerializer.Deserialize<string[]>(await none.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task GetLogInfo_AfterAppend_DescribesTheSignedCheckpoint()
    {
        await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        var info = JsonDocument.Parse(await log.Client.GetStringAsync("/api/v1/log")).RootElement;
        var note = info.GetProperty("signedTreeHead").GetString()!;
        Assert.True(new NoteVerifier(log.Service.LogName, log.PublicKey).TryVerifyCheckpoint(note, out var checkpoint));
        Assert.Equal(info.GetProperty("treeSize").GetInt64(), checkpoint!.Size);
        Assert.Equal(info.GetProperty("rootHash").GetString(), Hash.FromBytes(checkpoint.RootHash).ToString());
        Assert.StartsWith($"{log.Service.LogName} - {info.GetProperty("treeID").GetString()}\n", note, StringComparison.Ordinal);

        // The tlog-tiles checkpoint and the C2SP verifier key agree with it.
        var vkey = (await log.Client.GetStringAsync("/api/v1/log/verifierKey")).Trim();
        Assert.True(new NoteVerifier(vkey).Verify(await log.Client.GetStringAsync("/checkpoint")));
    }

    [Fact]
    public async Task GetPublicKey_ReturnsPemWhoseHashIsTheLogId()
    {
        var entry = await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        Assert.Equal(log.PublicKey.LogIdHex, entry.LogId);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----\n", await log.Client.GetStringAsync("/api/v1/log/publicKey"), StringComparison.Ordinal);
    }

    private async Task<long> TreeSizeAsync() =>
        JsonDocument.Parse(await log.Client.GetStringAsync("/api/v1/log")).RootElement.GetProperty("treeSize").GetInt64();
}
