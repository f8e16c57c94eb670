using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.SigstoreJs;

/// <summary>Bundles cross over: our CLI verifies what sigstore-js signed, and @sigstore/verify what our CLI signed.</summary>
[Collection(SystemCollection.Name)]
public sealed class CrossVerificationTests(LocalSystem system)
{
    [Fact]
    public async Task SigstoreJsBundles_TlogVerifyBlobAndVerifyAttestation_Verified()
    {
        var run = SigstoreJsRun.Start(system, "js-to-tlog");
        await run.NodeAsync("sign-verify.mjs");
        await run.NodeAsync("legacy-sign-verify.mjs");
        await run.NodeAsync("tsa.mjs");

        foreach (var name in new[] { "blob", "legacy-blob", "tsa-blob" })
        {
            await run.TlogSucceedsAsync(
                "verify-blob", run.PathOf($"{name}.txt"), "--bundle", run.PathOf($"{name}.sigstore.json"),
                "--trusted-root", run.TrustedRoot, "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
        }

        foreach (var name in new[] { "blob", "legacy-blob" })
        {
            await run.TlogSucceedsAsync(
                "verify-attestation", run.PathOf($"{name}.txt"), "--bundle", run.PathOf($"{name}.intoto.sigstore.json"),
                "--trusted-root", run.TrustedRoot, "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
        }
    }

    [Fact]
    public async Task TlogBundles_SigstoreVerify31And21_Verified()
    {
        var run = SigstoreJsRun.Start(system, "tlog-to-js");
        var artifact = run.PathOf("cli-blob.txt");
        await File.WriteAllTextAsync(artifact, $"signed by tlog {Guid.NewGuid()}\n");
        var predicate = run.PathOf("predicate.json");
        await File.WriteAllTextAsync(predicate, """{"builder": {"id": "tlog interop test"}}""");
        var token = await run.TokenAsync();
        string[] keyless = ["--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]];

        await run.TlogSucceedsAsync(["sign-blob", artifact, .. keyless, "--bundle", run.PathOf("cli-blob.sigstore.json")]);
        await run.TlogSucceedsAsync(["sign-blob", artifact, .. keyless, "--tsa-url", system["TSA_URL"], "--bundle", run.PathOf("cli-tsa-blob.sigstore.json")]);
        await run.TlogSucceedsAsync(
            ["attest", artifact, "--predicate", predicate, "--type", "https://example.com/interop/v1", .. keyless,
             "--tsa-url", system["TSA_URL"], "--bundle", run.PathOf("cli-blob.intoto.sigstore.json")]);

        await run.NodeAsync("verify.mjs", "--artifact", artifact, "--bundle", run.PathOf("cli-blob.sigstore.json"), "--legacy");
        await run.NodeAsync("verify.mjs", "--artifact", artifact, "--bundle", run.PathOf("cli-tsa-blob.sigstore.json"), "--timestamps", "2", "--legacy");
        await run.NodeAsync("verify.mjs", "--artifact", artifact, "--bundle", run.PathOf("cli-blob.intoto.sigstore.json"), "--dsse", "--timestamps", "2", "--legacy");
    }

    [Fact]
    public async Task RekorV2Bundles_CrossVerifiedBothWays()
    {
        var run = SigstoreJsRun.Start(system, "v2-both-ways");
        await run.NodeAsync("rekor-v2.mjs");
        await run.TlogSucceedsAsync(
            "verify-blob", run.PathOf("v2-blob.txt"), "--bundle", run.PathOf("v2-blob.sigstore.json"),
            "--trusted-root", run.TrustedRoot, "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);
        await run.TlogSucceedsAsync(
            "verify-attestation", run.PathOf("v2-blob.txt"), "--bundle", run.PathOf("v2-blob.intoto.sigstore.json"),
            "--trusted-root", run.TrustedRoot, "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer);

        var artifact = run.PathOf("cli-v2-blob.txt");
        await File.WriteAllTextAsync(artifact, $"signed by tlog into Rekor v2 {Guid.NewGuid()}\n");
        await run.TlogSucceedsAsync(
            "sign-blob", artifact, "--identity-token", await run.TokenAsync(), "--fulcio-url", system["FULCIO_URL"],
            "--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"], "--tsa-url", system["TSA_URL"],
            "--bundle", run.PathOf("cli-v2-blob.sigstore.json"));
        await run.NodeAsync("verify.mjs", "--artifact", artifact, "--bundle", run.PathOf("cli-v2-blob.sigstore.json"));
    }
}
