using System.Text.Json;

namespace TransparencyLog.Cli.Tests.Auditing;

public sealed class VerifyConsistencyTests : IAsyncLifetime
{
    private readonly CliRunner _cli = new();
    // Assigned in InitializeAsync, which xunit runs before every test.
    private FakeLog _log = null!;

    private string StatePath => _cli.PathOf("state");

    public async Task InitializeAsync() => _log = await FakeLog.StartAsync();

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _cli.Dispose();
    }

    private Task<(int ExitCode, string Out, string Err)> AuditAsync(params string[] extra) =>
        _cli.RunAsync(["log", "verify-consistency", "--rekor-url", _log.Url, "--vkey", _log.VerifierKey, "--state", StatePath, .. extra]);

    [Fact]
    public async Task VerifyConsistency_FirstRun_TrustsAndSavesCheckpoint()
    {
        _log.Append(3);

        var (exitCode, output, _) = await AuditAsync();

        Assert.Equal(0, exitCode);
        Assert.Contains("trusting", output, StringComparison.Ordinal);
        Assert.Contains("\n3\n", await File.ReadAllTextAsync(StatePath), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    [InlineData(4, 7)]
    [InlineData(5, 16)]
    [InlineData(8, 8)]
    public async Task VerifyConsistency_ConsistentGrowth_AcceptsAndSavesNewCheckpoint(int before, int after)
    {
        _log.Append(before);
        Assert.Equal(0, (await AuditAsync()).ExitCode);
        _log.Append(after - before);

        var (exitCode, output, _) = await AuditAsync("--output", "json");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(after, json.RootElement.GetProperty("treeSize").GetInt64());
        Assert.Equal(before, json.RootElement.GetProperty("previousSize").GetInt64());
        Assert.Contains($"\n{after}\n", await File.ReadAllTextAsync(StatePath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyConsistency_ForkedLog_FailsLoudlyAndKeepsState()
    {
        _log.Append(3);
        Assert.Equal(0, (await AuditAsync()).ExitCode);
        var saved = await File.ReadAllTextAsync(StatePath);

        // Same origin and key, different history: the old size now has a different root.
        _log.Leaves.Clear();
        _log.Append(5, "forked");
        var (exitCode, output, err) = await AuditAsync("--output", "json");

        Assert.Equal(4, exitCode);
        Assert.Contains("LOG INCONSISTENT", err, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("LOG_INCONSISTENT", json.RootElement.GetProperty("code").GetString());
        Assert.Equal(saved, await File.ReadAllTextAsync(StatePath));
    }

    [Fact]
    public async Task VerifyConsistency_DifferentRootAtSameSize_FailsLoudlyAndKeepsState()
    {
        _log.Append(4);
        Assert.Equal(0, (await AuditAsync()).ExitCode);
        var saved = await File.ReadAllTextAsync(StatePath);
        _log.Leaves[2] = "tampered"u8.ToArray();

        var (exitCode, _, err) = await AuditAsync();

        Assert.Equal(4, exitCode);
        Assert.Contains("FORKED", err, StringComparison.Ordinal);
        Assert.Equal(saved, await File.ReadAllTextAsync(StatePath));
    }

    [Fact]
    public async Task VerifyConsistency_ShrunkLog_FailsLoudlyAndKeepsState()
    {
        _log.Append(6);
        Assert.Equal(0, (await AuditAsync()).ExitCode);
        _log.Leaves.RemoveAt(5);

        var (exitCode, _, err) = await AuditAsync();

        Assert.Equal(4, exitCode);
        Assert.Contains("ROLLED BACK", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyConsistency_BadCheckpointSignature_FailsLoudlyAndKeepsState()
    {
        _log.Append(3);
        Assert.Equal(0, (await AuditAsync()).ExitCode);
        var saved = await File.ReadAllTextAsync(StatePath);
        _log.Append(2);
        using var impostor = TransparencyLog.Sigstore.Keys.LogSigner.Generate(TransparencyLog.Sigstore.Keys.LogKeyType.EcdsaP256);
        _log.SigningKey = impostor;

        var (exitCode, _, err) = await AuditAsync();

        Assert.Equal(4, exitCode);
        Assert.Contains("CHECKPOINT SIGNATURE INVALID", err, StringComparison.Ordinal);
        Assert.Equal(saved, await File.ReadAllTextAsync(StatePath));
    }

    [Fact]
    public async Task VerifyConsistency_PublicKeyInsteadOfVkey_Verifies()
    {
        _log.Append(2);
        var keyFile = _cli.WriteFile("log.pub", _log.Key.PublicKeyPem);

        var (exitCode, _, _) = await _cli.RunAsync("log", "verify-consistency", "--rekor-url", _log.Url, "--public-key", keyFile, "--state", StatePath);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task VerifyConsistency_DefaultState_LivesUnderHomeConfig()
    {
        _log.Append(2);

        var (exitCode, output, _) = await _cli.RunAsync("log", "verify-consistency", "--rekor-url", _log.Url, "--vkey", _log.VerifierKey, "--output", "json");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        var state = json.RootElement.GetProperty("state").GetString()!;
        Assert.StartsWith(Path.Combine(_cli.Directory, ".config", "tlog", "checkpoints"), state, StringComparison.Ordinal);
        Assert.True(File.Exists(state));
    }
}
