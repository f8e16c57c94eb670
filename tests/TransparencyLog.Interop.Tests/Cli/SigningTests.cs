using System.Security.Cryptography;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary><c>tlog sign-blob</c>, <c>attest</c>, <c>verify-blob</c> and <c>verify-attestation</c> against the running system.</summary>
[Collection(SystemCollection.Name)]
public sealed class SigningTests(LocalSystem system) : IDisposable
{
    private const string Alice = TlogRunner.Alice;

    private readonly TlogRunner _tlog = new(system);

    [Fact]
    public async Task SignBlob_IdentityToken_VerifiesWithExactIdentity()
    {
        var file = _tlog.Write("artifact.txt", "hello world\n");
        await _tlog.SignBlobAsync(file, Alice);

        var result = await _tlog.VerifyAsync("verify-blob", file, _tlog.Identity());

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Verified OK", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"identity: {Alice}", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(transparency log)", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignBlob_EnvironmentVariables_ReplaceFlags()
    {
        var file = _tlog.Write("env.txt", "signed with environment variables\n");
        var token = await system.DevTokenAsync(Alice);
        var result = await _tlog.RunAsync(
            ["sign-blob", file],
            new Dictionary<string, string> { ["SIGSTORE_ID_TOKEN"] = token, ["FULCIO_URL"] = system["FULCIO_URL"], ["REKOR_URL"] = system["REKOR_URL"] });
        Assert.True(result.ExitCode == 0, result.Output);

        var verified = await _tlog.RunAsync(
            ["verify-blob", file, .. _tlog.Identity()],
            new Dictionary<string, string> { ["TLOG_TRUSTED_ROOT"] = system["TRUSTED_ROOT"] });

        Assert.True(verified.ExitCode == 0, verified.Output);
    }

    [Fact]
    public async Task SignBlob_DevIssuer_MintsTokenAndVerifies()
    {
        var file = _tlog.Write("dev.txt", "signed through --dev-issuer\n");
        await _tlog.SucceedAsync(
            "sign-blob", file, "--dev-issuer", system["OIDC_ISSUER"], "--dev-email", "dev@example.com",
            "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);

        var result = await _tlog.VerifyAsync("verify-blob", file, _tlog.Identity("dev@example.com"));

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task VerifyBlob_RegexpIdentityAndIssuer_Verifies()
    {
        var file = _tlog.Write("regexp.txt", "regexp policy\n");
        await _tlog.SignBlobAsync(file, "bob@example.com");

        var result = await _tlog.VerifyAsync(
            "verify-blob", file,
            "--certificate-identity-regexp", @".*@example\.com",
            "--certificate-oidc-issuer-regexp", @"http://127\.0\.0\.1:[0-9]+");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("identity: bob@example.com", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBlob_WrongIdentity_ExitsThreeWithReason()
    {
        var file = _tlog.Write("wrong-identity.txt", "identity check\n");
        await _tlog.SignBlobAsync(file, Alice);

        var result = await _tlog.VerifyAsync("verify-blob", file, _tlog.Identity("mallory@example.com"));

        TlogRunner.AssertFailed(result, 3, "UNTRUSTED_SIGNER_ERROR");
        Assert.Contains(Alice, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBlob_RegexpThatMatchesOnlyPart_ExitsThree()
    {
        var file = _tlog.Write("anchored.txt", "regexps are anchored\n");
        await _tlog.SignBlobAsync(file, Alice);

        var result = await _tlog.VerifyAsync(
            "verify-blob", file, "--certificate-identity-regexp", "alice", "--certificate-oidc-issuer", system["OIDC_ISSUER"]);

        TlogRunner.AssertFailed(result, 3, "UNTRUSTED_SIGNER_ERROR");
    }

    [Fact]
    public async Task VerifyBlob_TamperedFile_ExitsThreeWithSignatureError()
    {
        var file = _tlog.Write("tampered.txt", "original contents\n");
        await _tlog.SignBlobAsync(file, Alice);
        await File.WriteAllTextAsync(file, "tampered contents\n");

        var result = await _tlog.VerifyAsync("verify-blob", file, _tlog.Identity());

        TlogRunner.AssertFailed(result, 3, "SIGNATURE_ERROR");
    }

    [Fact]
    public async Task VerifyBlob_OtherTrustedRoot_ExitsThree()
    {
        var file = _tlog.Write("untrusted.txt", "signed here, verified elsewhere\n");
        await _tlog.SignBlobAsync(file, Alice);
        var emptyRoot = _tlog.Write(
            "empty_root.json",
            """{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}""");

        var result = await _tlog.RunAsync(["verify-blob", file, "--trusted-root", emptyRoot, .. _tlog.Identity()]);

        Assert.Equal(3, result.ExitCode);
    }

    [Fact]
    public async Task VerifyBlob_OutputJson_FailureIsOneJsonDocument()
    {
        var file = _tlog.Write("json-failure.txt", "json failure\n");
        await _tlog.SignBlobAsync(file, Alice);

        var result = await _tlog.VerifyAsync("verify-blob", file, [.. _tlog.Identity("mallory@example.com"), "--output", "json"]);

        Assert.Equal(3, result.ExitCode);
        var json = TlogRunner.Json(result);
        Assert.False(json.GetProperty("ok").GetBoolean());
        Assert.Equal(3, json.GetProperty("exitCode").GetInt32());
        Assert.Equal("UNTRUSTED_SIGNER_ERROR", json.GetProperty("code").GetString());
    }

    [Fact]
    public async Task SignBlob_OutputJson_ReportsBundleAndEntry()
    {
        var file = _tlog.Write("json.txt", "json output\n");
        var token = await system.DevTokenAsync(Alice);

        var result = await _tlog.SucceedAsync(
            "sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"], "-o", "json");
        var verified = await _tlog.VerifyAsync("verify-blob", file, [.. _tlog.Identity(), "-o", "json"]);

        var signed = TlogRunner.Json(result);
        Assert.True(signed.GetProperty("ok").GetBoolean());
        Assert.Equal(file + ".sigstore.json", signed.GetProperty("bundle").GetString());
        Assert.Equal(80, signed.GetProperty("uuid").GetString()!.Length);
        Assert.Equal(Alice, signed.GetProperty("identity").GetString());
        var verification = TlogRunner.Json(verified);
        Assert.True(verification.GetProperty("ok").GetBoolean());
        Assert.Equal(signed.GetProperty("logIndex").GetInt64(), verification.GetProperty("logIndexes")[0].GetInt64());
    }

    [Fact]
    public async Task SignBlob_NoIdentityToken_ExitsTwo()
    {
        var file = _tlog.Write("no-token.txt", "no token\n");

        var result = await _tlog.RunAsync("sign-blob", file, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);

        TlogRunner.AssertFailed(result, 2, "no identity token");
        Assert.False(File.Exists(file + ".sigstore.json"));
    }

    [Fact]
    public async Task SignBlob_MissingFile_ExitsTwo()
    {
        var token = await system.DevTokenAsync(Alice);

        var result = await _tlog.RunAsync(
            "sign-blob", _tlog.PathOf("absent.txt"), "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task SignBlob_UnreachableLog_ExitsOne()
    {
        var file = _tlog.Write("unreachable.txt", "nobody listens\n");
        var (keyFile, _) = _tlog.WriteKeyPair("unreachable");

        var result = await _tlog.RunAsync("sign-blob", file, "--key", keyFile, "--rekor-url", "http://127.0.0.1:1");

        TlogRunner.AssertFailed(result, 1, "unreachable");
    }

    [Fact]
    public async Task SignBlob_KeyFile_VerifiesWithPublicKey()
    {
        var file = _tlog.Write("keyed.txt", "signed with my own key\n");
        var (keyFile, publicKey) = _tlog.WriteKeyPair("cosign");
        var (_, otherKey) = _tlog.WriteKeyPair("other");
        await _tlog.SucceedAsync("sign-blob", file, "--key", keyFile, "--rekor-url", system["REKOR_URL"]);

        var result = await _tlog.VerifyAsync("verify-blob", file, "--key", publicKey);
        var wrongKey = await _tlog.VerifyAsync("verify-blob", file, "--key", otherKey);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Verified OK", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(3, wrongKey.ExitCode);
    }

    [Fact]
    public async Task SignBlob_EncryptedKeyFile_UsesPasswordVariable()
    {
        var file = _tlog.Write("encrypted.txt", "encrypted key\n");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyFile = _tlog.Write(
            "encrypted.key",
            key.ExportEncryptedPkcs8PrivateKeyPem("s3cret", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));

        var withoutPassword = await _tlog.RunAsync("sign-blob", file, "--key", keyFile, "--rekor-url", system["REKOR_URL"]);
        var withPassword = await _tlog.RunAsync(
            ["sign-blob", file, "--key", keyFile, "--rekor-url", system["REKOR_URL"]],
            new Dictionary<string, string> { ["TLOG_KEY_PASSWORD"] = "s3cret" });

        TlogRunner.AssertFailed(withoutPassword, 2, "TLOG_KEY_PASSWORD");
        Assert.True(withPassword.ExitCode == 0, withPassword.Output);
    }

    [Fact]
    public async Task Attest_IdentityToken_VerifiesAsAttestationOfTheFile()
    {
        var file = _tlog.Write("app.tar.gz", "pretend archive\n");
        var predicate = _tlog.Write("provenance.json", """{"builder":{"id":"https://ci.example.com"}}""");
        var token = await system.DevTokenAsync(Alice);
        await _tlog.SucceedAsync(
            "attest", file, "--predicate", predicate, "--type", "https://slsa.dev/provenance/v1",
            "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);

        var result = await _tlog.VerifyAsync("verify-attestation", file, _tlog.Identity());
        var asBlob = await _tlog.VerifyAsync("verify-blob", file, ["--bundle", file + ".intoto.sigstore.json", .. _tlog.Identity()]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Verified OK", result.StandardOutput, StringComparison.Ordinal);
        TlogRunner.AssertFailed(asBlob, 3, "BUNDLE_ERROR");
    }

    [Fact]
    public async Task VerifyAttestation_OtherFile_ExitsThreeWithSubjectError()
    {
        var file = _tlog.Write("subject.bin", "the subject\n");
        var other = _tlog.Write("other.bin", "not the subject\n");
        var predicate = _tlog.Write("predicate.json", "{}");
        var token = await system.DevTokenAsync(Alice);
        await _tlog.SucceedAsync(
            "attest", file, "--predicate", predicate, "--type", "https://example.com/predicate",
            "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);

        var result = await _tlog.VerifyAsync("verify-attestation", other, ["--bundle", file + ".intoto.sigstore.json", .. _tlog.Identity()]);

        TlogRunner.AssertFailed(result, 3, "SUBJECT_ERROR");
    }

    [Fact]
    public async Task Attest_PredicateNotJson_ExitsTwo()
    {
        var file = _tlog.Write("bad-predicate.bin", "x\n");
        var predicate = _tlog.Write("bad.json", "{not json");
        var token = await system.DevTokenAsync(Alice);

        var result = await _tlog.RunAsync(
            "attest", file, "--predicate", predicate, "--type", "https://example.com/predicate",
            "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);

        Assert.Equal(2, result.ExitCode);
    }

    public void Dispose() => _tlog.Dispose();
}
