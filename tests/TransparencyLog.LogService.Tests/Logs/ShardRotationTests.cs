using System.Globalization;
using System.Net;
using System.Text.Json;
using Npgsql;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Logs;

/// <summary>
/// Rekor v1 shard rotation against a running service: `shard rotate` freezes the active tree and starts the next one
/// while the service keeps serving; writers go on without a restart, indices continue globally, the frozen shard keeps
/// answering with its own key, tree ID and final checkpoint, and the database refuses any change to it.
/// </summary>
public sealed class ShardRotationTests() : ShardedLogTest("shards")
{
    [Fact]
    public async Task ShardRotate_WhileServing_NewEntriesContinueGlobalIndexAndOldShardStillServes()
    {
        var client = Service.Client;
        var name = Service.LogName;
        var oldKey = LogPublicKey.FromPem(await client.GetStringAsync("/api/v1/log/publicKey"));
        var oldTree = (await InfoAsync()).GetProperty("treeID").GetString()!;
        var before = new List<(RekorEntry Entry, string Digest)>();
        for (var i = 0; i < 5; i++)
        {
            var (json, digest) = Entries.NewHashedRekord();
            before.Add((await AppendAsync(json), digest));
        }

        // Writers keep writing while the rotation happens; none of them may fail.
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var written = new List<RekorEntry>();
            while (!stop.IsCancellationRequested)
            {
                written.Add(await AppendAsync(Entries.NewHashedRekord().Json));
            }

            return written;
        })).ToArray();
        await Task.Delay(200);

        var output = new StringWriter();
        var error = new StringWriter();
        var rotated = await RotateAsync(output, error);
        Assert.True(rotated == 0, error.ToString());
        Assert.Contains("frozen: tree " + oldTree, output.ToString(), StringComparison.Ordinal);

        var after = new List<(RekorEntry Entry, string Digest)>();
        for (var i = 0; i < 3; i++)
        {
            var (json, digest) = Entries.NewHashedRekord();
            after.Add((await AppendAsync(json), digest));
        }

        await stop.CancelAsync();
        var concurrent = (await Task.WhenAll(writers)).SelectMany(w => w).ToList();

        // GET /api/v1/log: the new shard is active, the old one is listed with its final signed tree head.
        var info = await InfoAsync();
        var newTree = info.GetProperty("treeID").GetString()!;
        Assert.NotEqual(oldTree, newTree);
        var shard = Assert.Single(info.GetProperty("inactiveShards").EnumerateArray().ToList());
        Assert.Equal(oldTree, shard.GetProperty("treeID").GetString());
        var frozenSize = shard.GetProperty("treeSize").GetInt64();
        Assert.True(new NoteVerifier(name, oldKey).TryVerifyCheckpoint(shard.GetProperty("signedTreeHead").GetString()!, out var frozenHead));
        Assert.Equal($"{name} - {oldTree}", frozenHead!.Origin);
        Assert.Equal(frozenSize, frozenHead.Size);
        Assert.Equal(shard.GetProperty("rootHash").GetString(), Hash.FromBytes(frozenHead.RootHash).ToString());

        // The new shard has its own key (publicKey?treeID= gives each shard's) and signs over global indices.
        var newKey = LogPublicKey.FromPem(await client.GetStringAsync($"/api/v1/log/publicKey?treeID={newTree}"));
        Assert.NotEqual(oldKey.LogIdHex, newKey.LogIdHex);
        Assert.Equal(oldKey.LogIdHex, LogPublicKey.FromPem(await client.GetStringAsync($"/api/v1/log/publicKey?treeID={oldTree}")).LogIdHex);
        var oldTreeHex = long.Parse(oldTree, CultureInfo.InvariantCulture).ToString("x16", CultureInfo.InvariantCulture);
        var newTreeHex = long.Parse(newTree, CultureInfo.InvariantCulture).ToString("x16", CultureInfo.InvariantCulture);
        foreach (var entry in before.Select(b => b.Entry).Concat(concurrent).Concat(after.Select(a => a.Entry)))
        {
            if (entry.Uuid.StartsWith(oldTreeHex, StringComparison.Ordinal))
            {
                Assert.True(entry.LogIndex < frozenSize);
                entry.AssertVerifiesInShard(oldKey, $"{name} - {oldTree}", 0);
            }
            else
            {
                Assert.StartsWith(newTreeHex, entry.Uuid, StringComparison.Ordinal);
                entry.AssertVerifiesInShard(newKey, $"{name} - {newTree}", frozenSize);
            }
        }

        // Global indices: every one from 0 to the end exactly once, the new shard's continuing the old one's.
        var all = before.Select(b => b.Entry).Concat(concurrent).Concat(after.Select(a => a.Entry)).ToList();
        Assert.Equal(Enumerable.Range(0, all.Count).Select(i => (long)i), all.Select(e => e.LogIndex).Order());
        Assert.Equal(frozenSize + info.GetProperty("treeSize").GetInt64(), all.Count);
        Assert.All(after, a => Assert.True(a.Entry.LogIndex >= frozenSize));

        // Reads by global index, by UUID and entry ID, retrieve and search reach both shards.
        foreach (var (entry, digest) in new[] { before[1], after[1] })
        {
            var byIndex = RekorEntry.Parse(await client.GetStringAsync($"/api/v1/log/entries?logIndex={entry.LogIndex}"));
            Assert.Equal(entry.Uuid, byIndex.Uuid);
            Assert.Equal(entry.ProofIndex, byIndex.ProofIndex);
            var key = entry.Uuid.StartsWith(oldTreeHex, StringComparison.Ordinal) ? oldKey : newKey;
            byIndex.AssertVerifiesInShard(key, entry.Uuid.StartsWith(oldTreeHex, StringComparison.Ordinal) ? $"{name} - {oldTree}" : $"{name} - {newTree}",
                entry.Uuid.StartsWith(oldTreeHex, StringComparison.Ordinal) ? 0 : frozenSize);
            Assert.Equal(entry.LogIndex, RekorEntry.Parse(await client.GetStringAsync($"/api/v1/log/entries/{entry.Uuid}")).LogIndex);
            Assert.Equal(entry.LogIndex, RekorEntry.Parse(await client.GetStringAsync($"/api/v1/log/entries/{entry.Uuid[16..]}")).LogIndex);

            using var search = await Service.Client.PostAsync("/api/v1/index/retrieve", Json($$"""{"hash":"sha256:{{digest}}"}"""));
            Assert.Equal([entry.Uuid], JsonSerializer.Deserialize<string[]>(await search.Content.ReadAsStringAsync())!);
        }

        using (var retrieve = await client.PostAsync("/api/v1/log/entries/retrieve",
            Json($$"""{"logIndexes":[{{before[2].Entry.LogIndex}},{{after[2].Entry.LogIndex}}],"entryUUIDs":["{{before[3].Entry.Uuid}}"]}""")))
        {
            var items = JsonDocument.Parse(await retrieve.Content.ReadAsStringAsync()).RootElement.EnumerateArray()
                .Select(i => RekorEntry.Parse(i.GetRawText()).LogIndex).ToList();
            // Rekor's order: entryUUIDs first, then logIndexes.
            Assert.Equal([before[3].Entry.LogIndex, before[2].Entry.LogIndex, after[2].Entry.LogIndex], items);
        }

        // A consistency proof within the frozen shard, named by its tree ID.
        using (var proof = await client.GetAsync($"/api/v1/log/proof?firstSize=1&lastSize={frozenSize}&treeID={oldTree}"))
        {
            Assert.Equal(HttpStatusCode.OK, proof.StatusCode);
            Assert.Equal(Hash.FromBytes(frozenHead.RootHash).ToString(),
                JsonDocument.Parse(await proof.Content.ReadAsStringAsync()).RootElement.GetProperty("rootHash").GetString());
        }

        // An entry of the frozen shard proposed again is that entry, not a new one in the active shard.
        var (againJson, _) = (Entries.HashedRekord(BodyField(before[0].Entry, "digest"), BodyField(before[0].Entry, "signature"), Entries.PublicKeyPemBase64), "");
        using (var again = await client.PostAsync("/api/v1/log/entries", Json(againJson)))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.EndsWith(before[0].Entry.Uuid, again.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/log/entries?logIndex={all.Count}")).StatusCode);
    }

    [Fact]
    public async Task FrozenShard_AnyChange_RefusedByTheDatabase()
    {
        await AppendAsync(Entries.NewHashedRekord().Json);
        var oldTree = long.Parse((await InfoAsync()).GetProperty("treeID").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(0, await RotateAsync());

        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            "UPDATE logs SET frozen_at = NULL WHERE tree_id = $1",
            "UPDATE logs SET checkpoint_time = now() WHERE tree_id = $1",
            "UPDATE logs SET tree_size = tree_size + 1 WHERE tree_id = $1",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue(oldTree);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
        }
    }

    [Fact]
    public async Task ShardRotate_BadInput_RefusedWithReasonAndNothingChanged()
    {
        var error = new StringWriter();
        Assert.Equal(2, await ShardCommand.RunAsync(["rotate", "--connection", Admin, "--name", Service.LogName], TextWriter.Null, error));
        Assert.Contains("exactly one of --key and --state-directory", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await ShardCommand.RunAsync(["grow"], TextWriter.Null, TextWriter.Null));

        var tree = (await InfoAsync()).GetProperty("treeID").GetString()!;
        error = new StringWriter();
        Assert.Equal(1, await ShardCommand.RunAsync(
            ["rotate", "--connection", Admin, "--name", "no.such.log", "--state-directory", KeyDirectory], TextWriter.Null, error));
        Assert.Contains("no active Rekor v1 log named no.such.log", error.ToString(), StringComparison.Ordinal);

        error = new StringWriter();
        Assert.Equal(1, await ShardCommand.RunAsync(
            ["rotate", "--connection", Admin, "--name", Service.LogName, "--state-directory", KeyDirectory, "--tree-id", tree], TextWriter.Null, error));
        Assert.Contains("new tree ID", error.ToString(), StringComparison.Ordinal);

        var info = await InfoAsync();
        Assert.Equal(tree, info.GetProperty("treeID").GetString());
        Assert.Empty(info.GetProperty("inactiveShards").EnumerateArray());
    }

    private static string BodyField(RekorEntry entry, string field)
    {
        var spec = JsonDocument.Parse(Convert.FromBase64String(entry.BodyBase64)).RootElement.GetProperty("spec");
        return field == "digest"
            ? spec.GetProperty("data").GetProperty("hash").GetProperty("value").GetString()!
            : spec.GetProperty("signature").GetProperty("content").GetString()!;
    }
}
