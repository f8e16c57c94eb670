using TransparencyLog.Tests.Shared;
using System.Security.Cryptography;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary><c>tlog log info</c>, <c>log get</c> and the auditor <c>log verify-consistency</c> against the running log.</summary>
[Collection(SystemCollection.Name)]
public sealed class LogCommandTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);

    private async Task<(long Index, string Uuid)> AddEntryAsync(string name)
    {
        var file = _tlog.Write(name, $"entry {name} {Guid.NewGuid()}\n");
        var (keyFile, _) = _tlog.WriteKeyPair(name);
        var json = TlogRunner.Json(await _tlog.SucceedAsync("sign-blob", file, "--key", keyFile, "--rekor-url", system["REKOR_URL"], "-o", "json"));
        return (json.GetProperty("logIndex").GetInt64(), json.GetProperty("uuid").GetString()!);
    }

    [Fact]
    public async Task LogInfo_RunningLog_PrintsTreeSizeAndCheckpoint()
    {
        await AddEntryAsync("info.txt");

        var text = await _tlog.SucceedAsync("log", "info", "--rekor-url", system["REKOR_URL"]);
        var json = TlogRunner.Json(await _tlog.SucceedAsync("log", "info", "--rekor-url", system["REKOR_URL"], "--output", "json"));

        Assert.Contains("Tree size:", text.StandardOutput, StringComparison.Ordinal);
        Assert.True(json.GetProperty("treeSize").GetInt64() > 0);
        Assert.Equal(64, json.GetProperty("rootHash").GetString()!.Length);
        Assert.StartsWith(new Uri(system["REKOR_URL"]).Authority + " - ", json.GetProperty("signedTreeHead").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogInfo_NoUrl_ExitsTwo()
    {
        var result = await _tlog.RunAsync("log", "info");

        TlogRunner.AssertFailed(result, 2, "REKOR_URL");
    }

    [Fact]
    public async Task LogGet_IndexAndUuid_ReturnTheSameEntry()
    {
        var (index, uuid) = await AddEntryAsync("get.txt");

        var byIndex = TlogRunner.Json(await _tlog.SucceedAsync("log", "get", "--rekor-url", system["REKOR_URL"], "--index", index.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "json"));
        var byUuid = TlogRunner.Json(await _tlog.SucceedAsync("log", "get", "--rekor-url", system["REKOR_URL"], "--uuid", uuid, "-o", "json"));
        var text = await _tlog.SucceedAsync("log", "get", "--rekor-url", system["REKOR_URL"], "--uuid", uuid);

        Assert.Equal(uuid, byIndex.GetProperty("uuid").GetString());
        Assert.Equal(index.ToString(System.Globalization.CultureInfo.InvariantCulture), byUuid.GetProperty("tlogEntry").GetProperty("logIndex").GetString());
        Assert.Equal("hashedrekord", byUuid.GetProperty("tlogEntry").GetProperty("kindVersion").GetProperty("kind").GetString());
        Assert.Contains("Kind:            hashedrekord 0.0.1", text.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogGet_NeitherIndexNorUuid_ExitsTwo()
    {
        var result = await _tlog.RunAsync("log", "get", "--rekor-url", system["REKOR_URL"]);

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task LogGet_IndexBeyondTheLog_ExitsOne()
    {
        var result = await _tlog.RunAsync("log", "get", "--rekor-url", system["REKOR_URL"], "--index", "999999999");

        TlogRunner.AssertFailed(result, 1, "404");
    }

    [Fact]
    public async Task VerifyConsistency_FirstRunThenGrowth_SavesThenProvesConsistency()
    {
        await AddEntryAsync("consistency-1.txt");
        var state = _tlog.PathOf("rekor.checkpoint");

        var first = await VerifyConsistencyAsync(state);
        var saved = await File.ReadAllTextAsync(state);
        await AddEntryAsync("consistency-2.txt");
        var second = await VerifyConsistencyAsync(state);

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("No previous checkpoint", first.StandardOutput, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("Consistent:", second.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(saved, await File.ReadAllTextAsync(state));
    }

    [Fact]
    public async Task VerifyConsistency_ForkedStateFile_ExitsFourAndKeepsState()
    {
        var (state, forged) = await ForgedStateAsync("forked", sizeDelta: 0);

        var result = await VerifyConsistencyAsync(state);

        TlogRunner.AssertFailed(result, 4, "LOG FORKED");
        Assert.Equal(forged, await File.ReadAllTextAsync(state));
    }

    [Fact]
    public async Task VerifyConsistency_StateFromLargerTree_ExitsFourAsRollback()
    {
        var (state, forged) = await ForgedStateAsync("rollback", sizeDelta: 1000);

        var result = await VerifyConsistencyAsync(state, "-o", "json");

        Assert.Equal(4, result.ExitCode);
        Assert.Equal("LOG_INCONSISTENT", TlogRunner.Json(result).GetProperty("code").GetString());
        Assert.Equal(forged, await File.ReadAllTextAsync(state));
    }

    [Fact]
    public async Task VerifyConsistency_StateNotSignedByTheLog_ExitsOneAndKeepsState()
    {
        await AddEntryAsync("unsigned.txt");
        var state = _tlog.PathOf("unsigned.checkpoint");
        var text = $"{new Uri(system["REKOR_URL"]).Authority}\n1\n{Convert.ToBase64String(new byte[32])}\n\n— someone AAAAAA==\n";
        await File.WriteAllTextAsync(state, text);

        var result = await VerifyConsistencyAsync(state);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(text, await File.ReadAllTextAsync(state));
    }

    [Fact]
    public async Task VerifyConsistency_NoKey_ExitsTwo()
    {
        var result = await _tlog.RunAsync("log", "verify-consistency", "--rekor-url", system["REKOR_URL"], "--state", _tlog.PathOf("nokey"));

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(_tlog.PathOf("nokey")));
    }

    private Task<ProcessResult> VerifyConsistencyAsync(string state, params string[] extra) =>
        _tlog.RunAsync(["log", "verify-consistency", "--rekor-url", system["REKOR_URL"], "--vkey", system["REKOR_NOTE_VKEY"], "--state", state, .. extra]);

    /// <summary>
    /// A state file holding a checkpoint for the current size plus <paramref name="sizeDelta"/> with a random root,
    /// validly signed by the log's key.
    /// </summary>
    private async Task<(string State, string Forged)> ForgedStateAsync(string name, long sizeDelta)
    {
        await AddEntryAsync(name + ".txt");
        var state = _tlog.PathOf(name + ".checkpoint");
        var info = TlogRunner.Json(await _tlog.SucceedAsync("log", "info", "--rekor-url", system["REKOR_URL"], "-o", "json"));
        var forged = SignWithLogKey(info.GetProperty("signedTreeHead").GetString()!, info.GetProperty("treeSize").GetInt64() + sizeDelta, RandomNumberGenerator.GetBytes(32));
        await File.WriteAllTextAsync(state, forged);
        return (state, forged);
    }

    /// <summary>
    /// A checkpoint the log's own key signed for a tree it never published: what a log that forked or rolled back
    /// would show an auditor. The key is the development key run.sh keeps in the data directory.
    /// </summary>
    private string SignWithLogKey(string currentCheckpoint, long size, byte[] root)
    {
        // Rekor v1 origins are "<name> - <tree ID>"; the signature is made under the log's name.
        var origin = currentCheckpoint[..currentCheckpoint.IndexOf('\n', StringComparison.Ordinal)];
        Assert.True(SignedNote.TryParse(currentCheckpoint, out _, out var signatures));
        using var key = LogSigner.LoadPem(File.ReadAllText(Path.Combine(system.DataDirectory, "keys", "rekor-v1-key.pem")), null);
        return SignedNote.SignAsync(new Checkpoint(origin, size, root).ToNoteText(), new NoteSigner(signatures[0].Name, key)).Completed();
    }

    public void Dispose() => _tlog.Dispose();
}
