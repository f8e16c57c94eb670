using System.Text.Json;
using System.Text.RegularExpressions;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Interop.Tests.SigstoreJs;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>A system of its own: rotating its Rekor v1 log would change the trust every other interop test relies on.</summary>
public sealed class ShardedSystem : IAsyncLifetime
{
    public LocalSystem System { get; } = new();

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

/// <summary>
/// The Rekor v1 shard rotation runbook (docs/rotation.md) end to end on a system started by <c>./run.sh</c>: bundles
/// signed before the rotation and after it both verify, with <c>tlog verify-blob</c> and with sigstore-js, against the
/// trusted root that carries both shard keys with their validFor windows; the old root refuses the new shard's bundles.
/// </summary>
// A collection of its own (the class's), so it runs beside the shared system's tests rather than after them: every
// port of every system comes from TestPorts, which claims it for the test process, so two systems starting at once
// never pick the same one.
public sealed partial class ShardRotationInteropTests(ShardedSystem sharded) : IClassFixture<ShardedSystem>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ShardRotate_OldAndNewBundles_VerifyWithTlogAndSigstoreJsAgainstTheMergedTrustedRoot()
    {
        var system = sharded.System;
        var run = SigstoreJsRun.Start(system, "shards");
        var rekor = system["REKOR_URL"];
        string[] keyless = ["--fulcio-url", system["FULCIO_URL"], "--rekor-url", rekor];

        var before = run.PathOf("before.txt");
        await File.WriteAllTextAsync(before, $"signed before the rotation {Guid.NewGuid()}\n");
        await run.TlogSucceedsAsync(["sign-blob", before, "--identity-token", await run.TokenAsync(), .. keyless, "--bundle", before + ".sigstore.json"]);

        // The operator's command, as docs/rotation.md gives it for a ./run.sh system (development shard key).
        var name = new Uri(rekor).Authority;
        var rotated = await LocalSystem.RunAsync(
            "dotnet",
            [Path.Combine(Repository.Root, "src", "TransparencyLog.LogService", "bin", Repository.Configuration, "net10.0", "TransparencyLog.LogService.dll"),
             "shard", "rotate", "--connection", $"Host=127.0.0.1;Port={system.PostgresPort};Username=postgres;Database=transparency_log",
             "--password-file", Path.Combine(system.DataDirectory, "pg", "superuser-password"),
             "--name", name, "--state-directory", Path.Combine(system.DataDirectory, "keys")],
            null, s_timeout);
        Assert.True(rotated.ExitCode == 0, rotated.Output);
        var frozenAt = FrozenAt().Match(rotated.StandardOutput).Groups[1].Value;

        // No restart: the running service appends to the new shard.
        var after = run.PathOf("after.txt");
        await File.WriteAllTextAsync(after, $"signed after the rotation {Guid.NewGuid()}\n");
        await run.TlogSucceedsAsync(["sign-blob", after, "--identity-token", await run.TokenAsync(), .. keyless, "--bundle", after + ".sigstore.json"]);

        var (oldIndex, oldProofIndex, oldLogId) = Entry(before + ".sigstore.json");
        var (newIndex, newProofIndex, newLogId) = Entry(after + ".sigstore.json");
        Assert.Equal(oldIndex, oldProofIndex);
        Assert.NotEqual(oldLogId, newLogId);
        using var http = new HttpClient();
        using var info = JsonDocument.Parse(await http.GetStringAsync(rekor + "/api/v1/log"));
        var shard = Assert.Single(info.RootElement.GetProperty("inactiveShards").EnumerateArray().ToList());
        var frozenSize = shard.GetProperty("treeSize").GetInt64();
        Assert.True(oldIndex < frozenSize);
        Assert.Equal(frozenSize + newProofIndex, newIndex);

        // The runbook's trusted root: the old shard's key ends and the new one's starts at the rotation.
        var merged = run.PathOf("trusted_root.rotated.json");
        await run.TlogSucceedsAsync(
            "trusted-root", "create", "--ca-url", system["FULCIO_URL"], "--rekor-url", rekor, "--merge", system["TRUSTED_ROOT"],
            "--valid-from", frozenAt, "--out", merged);
        using (var root = JsonDocument.Parse(await File.ReadAllTextAsync(merged)))
        {
            var v1 = root.RootElement.GetProperty("tlogs").EnumerateArray()
                .Where(t => t.GetProperty("baseUrl").GetString() == rekor).ToList();
            Assert.Equal(2, v1.Count);
            Assert.True(v1[0].GetProperty("publicKey").GetProperty("validFor").TryGetProperty("end", out _));
            Assert.False(v1[1].GetProperty("publicKey").GetProperty("validFor").TryGetProperty("end", out _));
        }

        foreach (var file in new[] { before, after })
        {
            await run.TlogSucceedsAsync(
                "verify-blob", file, "--bundle", file + ".sigstore.json", "--trusted-root", merged,
                "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
            await run.NodeAsync("verify.mjs", "--artifact", file, "--bundle", file + ".sigstore.json", "--trusted-root", merged, "--legacy");
        }

        // The root from before the rotation still verifies old bundles, and knows nothing of the new shard's key.
        await run.TlogSucceedsAsync(
            "verify-blob", before, "--bundle", before + ".sigstore.json", "--trusted-root", system["TRUSTED_ROOT"],
            "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
        var refused = await run.TlogAsync(
            "verify-blob", after, "--bundle", after + ".sigstore.json", "--trusted-root", system["TRUSTED_ROOT"],
            "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
        Assert.NotEqual(0, refused.ExitCode);
    }

    private static (long LogIndex, long ProofIndex, string LogId) Entry(string bundlePath)
    {
        using var bundle = JsonDocument.Parse(File.ReadAllText(bundlePath));
        var entry = bundle.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0];
        return (
            long.Parse(entry.GetProperty("logIndex").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(entry.GetProperty("inclusionProof").GetProperty("logIndex").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            entry.GetProperty("logId").GetProperty("keyId").GetString()!);
    }

    [GeneratedRegex(@"frozen: .*, at (\S+Z)")]
    private static partial Regex FrozenAt();
}
