using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Interop.Tests.SigstoreJs;

namespace TransparencyLog.Interop.Tests.Tuf;

/// <summary>
/// The TUF repository that <c>./run.sh</c> publishes at TUF_MIRROR: unmodified tuf-js and sigstore-js accept it and
/// refuse it when tampered with; <c>tlog initialize</c> takes trust from it; the ceremony commands publish through it.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class TufInteropTests(LocalSystem system)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    private string Ceremony => Path.Combine(system.DataDirectory, "tuf");

    private string Keys => Path.Combine(system.DataDirectory, "keys", "tuf");

    private async Task<ProcessResult> TlogAsync(SigstoreJsRun run, IReadOnlyDictionary<string, string>? extra, params string[] arguments)
    {
        var environment = new Dictionary<string, string>(system.Endpoints, StringComparer.Ordinal)
        {
            ["TLOG_TUF_CACHE"] = run.PathOf("tuf-cache"),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return await Repository.RunTlogAsync(arguments, environment, s_timeout, run.OutputDirectory);
    }

    private async Task TlogSucceedsAsync(SigstoreJsRun run, IReadOnlyDictionary<string, string>? extra, params string[] arguments)
    {
        var result = await TlogAsync(run, extra, arguments);
        Assert.True(result.ExitCode == 0, run.Failure(string.Join(' ', ["tlog", .. arguments]), result));
    }

    /// <summary>A new targets version through the ceremony commands, as a key holder publishes one.</summary>
    private async Task PublishNewTargetsAsync(SigstoreJsRun run)
    {
        var file = run.PathOf("note.json");
        await File.WriteAllTextAsync(file, $"{{\"note\":\"{Guid.NewGuid():N}\"}}\n");
        await TlogSucceedsAsync(run, null, "tuf", "add-target", "--repo", Ceremony, "--name", "note.json", "--file", file);
        await TlogSucceedsAsync(run, null, "tuf", "sign", "--repo", Ceremony, "--role", "targets", "--key", Path.Combine(Keys, "targets.pem"));
        await TlogSucceedsAsync(run, null, "tuf", "publish", "--repo", Ceremony, "--server", system["REKOR_URL"], "--token-file", Path.Combine(Keys, "admin-token"));
    }

    [Fact]
    public async Task TufJs_OurMirror_RefreshesAndDownloadsTargets()
    {
        var run = SigstoreJsRun.Start(system, "tuf-js");
        var output = await run.NodeAsync("tuf.mjs", "fetch");
        Assert.Contains("tuf-js downloaded trusted_root.json", output, StringComparison.Ordinal);
        await TlogSucceedsAsync(run, null, "tuf", "verify", "--mirror", system["TUF_MIRROR"], "--root", system["TUF_ROOT_JSON"]);
    }

    [Fact]
    public async Task TufJs_TamperedMirror_RefusesEachAttack()
    {
        var run = SigstoreJsRun.Start(system, "tuf-tamper");
        foreach (var attack in new[] { "expired-timestamp", "wrong-target", "unsigned-targets" })
        {
            var output = await run.NodeAsync("tuf.mjs", "tamper", "--attack", attack);
            Assert.Contains("ok - tuf-js refuses", output, StringComparison.Ordinal);
        }

        var old = run.PathOf("old-timestamp.json");
        await run.NodeAsync("tuf.mjs", "capture", "--out", old);
        await PublishNewTargetsAsync(run);
        var rollback = await run.NodeAsync("tuf.mjs", "tamper", "--attack", "rollback", "--old-timestamp", old);
        Assert.Contains("BadVersionError", rollback, StringComparison.Ordinal);

        // With more than one published state, older consistent-snapshot files exist to mix in.
        foreach (var attack in new[] { "mix-and-match", "duplicate-keyid" })
        {
            var output = await run.NodeAsync("tuf.mjs", "tamper", "--attack", attack);
            Assert.Contains("ok - tuf-js refuses", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TlogInitialize_SignAndVerifyWithoutTrustedRootFile_VerifiedAlsoBySigstoreJsThroughTuf()
    {
        var run = SigstoreJsRun.Start(system, "tuf-initialize");
        await TlogSucceedsAsync(run, null, "initialize", "--mirror", system["TUF_MIRROR"], "--root", system["TUF_ROOT_JSON"]);
        var artifact = run.PathOf("hello.txt");
        await File.WriteAllTextAsync(artifact, $"trust from TUF {Guid.NewGuid()}\n");
        var token = new Dictionary<string, string> { ["SIGSTORE_ID_TOKEN"] = await run.TokenAsync() };
        await TlogSucceedsAsync(run, token, "sign-blob", artifact);

        // No trusted root file anywhere: the TUF-distributed one is the only source.
        var noFile = new Dictionary<string, string> { ["TRUSTED_ROOT"] = "", ["TLOG_TRUSTED_ROOT"] = "", ["SIGSTORE_ROOT_FILE"] = "" };
        await TlogSucceedsAsync(run, noFile, "verify-blob", artifact, "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
        var wrong = await TlogAsync(run, noFile, "verify-blob", artifact, "--certificate-identity", "someone-else@example.com", "--certificate-oidc-issuer", run.Issuer);
        Assert.Equal(3, wrong.ExitCode);

        var output = await run.NodeAsync("tuf.mjs", "sigstore-verify", "--artifact", artifact, "--bundle", artifact + ".sigstore.json");
        Assert.Contains("sigstore 4.1 verified", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TufCeremony_RootKeyRotation_ClientsFollowAndBadPublishRefused()
    {
        var run = SigstoreJsRun.Start(system, "tuf-rotate");
        var newRoot = run.PathOf("root2");
        await TlogSucceedsAsync(run, null, "tuf", "generate-key", "--type", "ed25519", "--out", newRoot);
        await TlogSucceedsAsync(run, null, "tuf", "rotate", "--repo", Ceremony, "--role", "root", "--old-key", Path.Combine(Keys, "root.pub"), "--new-key", newRoot + ".pub");

        // Signed by the new key only, root N+1 lacks the old threshold: the service refuses it.
        await TlogSucceedsAsync(run, null, "tuf", "sign", "--repo", Ceremony, "--role", "root", "--key", newRoot + ".pem");
        var refused = await TlogAsync(run, null, "tuf", "publish", "--repo", Ceremony, "--server", system["REKOR_URL"], "--token-file", Path.Combine(Keys, "admin-token"));
        Assert.True(refused.ExitCode == 1, run.Failure("tlog tuf publish (new key only)", refused));
        Assert.Contains("threshold", refused.Output, StringComparison.Ordinal);

        await TlogSucceedsAsync(run, null, "tuf", "sign", "--repo", Ceremony, "--role", "root", "--key", Path.Combine(Keys, "root.pem"));
        await TlogSucceedsAsync(run, null, "tuf", "publish", "--repo", Ceremony, "--server", system["REKOR_URL"], "--token-file", Path.Combine(Keys, "admin-token"));

        // Clients that trust only root v1 walk to the new root: tuf-js and our client-side check.
        await run.NodeAsync("tuf.mjs", "fetch");
        var verify = await TlogAsync(run, null, "tuf", "verify", "--mirror", system["TUF_MIRROR"], "--root", system["TUF_ROOT_JSON"], "--output", "json");
        Assert.True(verify.ExitCode == 0, run.Failure("tlog tuf verify", verify));
        Assert.True(System.Text.Json.Nodes.JsonNode.Parse(verify.StandardOutput)?["root"]?.GetValue<long>() >= 2, verify.StandardOutput);
    }
}
