using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>Signing on the Rekor v2 log (which needs a TSA timestamp) and RFC 3161 timestamps on v1 bundles.</summary>
[Collection(SystemCollection.Name)]
public sealed class RekorV2Tests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);

    private string[] Identity => _tlog.Identity();

    private string[] V2 => ["--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"], "--tsa-url", system["TSA_URL"]];

    /// <summary>Keyless signing on the v2 log with a TSA timestamp; returns the bundle path.</summary>
    private async Task<string> SignOnV2Async(string file)
    {
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(["sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], .. V2]);
        return file + ".sigstore.json";
    }

    [Fact]
    public async Task SignBlob_RekorV2WithTsa_VerifiesOnTheTimestampAlone()
    {
        var file = _tlog.Write("v2.txt", "logged on rekor v2\n");
        var bundlePath = await SignOnV2Async(file);

        var result = await _tlog.VerifyAsync("verify-blob", file, Identity);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("(RFC 3161 timestamp)", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("(transparency log)", result.StandardOutput, StringComparison.Ordinal);
        using var bundle = JsonDocument.Parse(await File.ReadAllTextAsync(bundlePath));
        var entry = bundle.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0];
        Assert.Equal("0.0.2", entry.GetProperty("kindVersion").GetProperty("version").GetString());
        Assert.Equal("0", entry.GetProperty("integratedTime").GetString());
        Assert.False(entry.TryGetProperty("inclusionPromise", out _));
    }

    [Fact]
    public async Task SignBlob_RekorV2FromEnvironment_UsesRekorV2UrlAndTsaUrl()
    {
        var file = _tlog.Write("v2-env.txt", "v2 from the environment\n");
        var (keyFile, publicKey) = _tlog.WriteKeyPair("v2");

        var signed = await _tlog.RunAsync(
            ["sign-blob", file, "--key", keyFile, "--rekor-version", "2"],
            new Dictionary<string, string> { ["REKOR_V2_URL"] = system["REKOR_V2_URL"], ["TSA_URL"] = system["TSA_URL"] });
        var result = await _tlog.VerifyAsync("verify-blob", file, "--key", publicKey);

        Assert.True(signed.ExitCode == 0, signed.Output);
        Assert.Contains("(Rekor v2)", signed.StandardOutput, StringComparison.Ordinal);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task SignBlob_RekorV2WithoutTsa_ExitsTwoBeforeSigning()
    {
        var file = _tlog.Write("v2-no-tsa.txt", "no timestamp authority\n");
        var token = await system.DevTokenAsync(TlogRunner.Alice);

        var result = await _tlog.RunAsync(
            "sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"]);

        TlogRunner.AssertFailed(result, 2, "--tsa-url");
        Assert.False(File.Exists(file + ".sigstore.json"));
    }

    [Fact]
    public async Task Attest_RekorV2_VerifiesAsAttestation()
    {
        var file = _tlog.Write("v2-attested.bin", "attested on v2\n");
        var predicate = _tlog.Write("v2-predicate.json", """{"v":2}""");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            ["attest", file, "--predicate", predicate, "--type", "https://example.com/v2", "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], .. V2]);

        var result = await _tlog.VerifyAsync("verify-attestation", file, Identity);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("(RFC 3161 timestamp)", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBlob_RekorV2BundleTampered_ExitsThree()
    {
        var file = _tlog.Write("v2-tampered.txt", "v2 original\n");
        await SignOnV2Async(file);
        await File.WriteAllTextAsync(file, "v2 tampered\n");

        var result = await _tlog.VerifyAsync("verify-blob", file, Identity);

        TlogRunner.AssertFailed(result, 3, "SIGNATURE_ERROR");
    }

    [Fact]
    public async Task VerifyBlob_RekorV2WithoutTimestamp_ExitsThreeWithTimestampError()
    {
        var file = _tlog.Write("v2-stripped.txt", "timestamp removed\n");
        var bundlePath = await SignOnV2Async(file);
        var bundle = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(bundlePath))!;
        bundle["verificationMaterial"]!.AsObject().Remove("timestampVerificationData");
        await File.WriteAllTextAsync(bundlePath, bundle.ToJsonString());

        var result = await _tlog.VerifyAsync("verify-blob", file, Identity);

        TlogRunner.AssertFailed(result, 3, "TIMESTAMP_ERROR");
    }

    [Fact]
    public async Task SignBlob_RekorV1WithTsa_HasBothTimestamps()
    {
        var file = _tlog.Write("v1-tsa.txt", "v1 with a timestamp\n");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        var signed = await _tlog.SucceedAsync(
            "sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"],
            "--tsa-url", system["TSA_URL"], "-o", "json");

        var result = await _tlog.VerifyAsync("verify-blob", file, [.. Identity, "-o", "json"]);

        Assert.Equal(1, TlogRunner.Json(signed).GetProperty("rfc3161Timestamps").GetInt32());
        Assert.True(result.ExitCode == 0, result.Output);
        var sources = TlogRunner.Json(result).GetProperty("timestamps").EnumerateArray().Select(static t => t.GetProperty("source").GetString()).ToList();
        Assert.Equal(["tlog", "rfc3161"], sources);
    }

    [Fact]
    public async Task Attest_RekorV1WithTsaOrigin_AppendsTimestampPath()
    {
        var file = _tlog.Write("v1-attest-tsa.bin", "attested with a timestamp\n");
        var predicate = _tlog.Write("tsa-predicate.json", "{}");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            "attest", file, "--predicate", predicate, "--type", "https://example.com/t", "--identity-token", token,
            "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"], "--tsa-url", system["REKOR_URL"]);

        var result = await _tlog.VerifyAsync("verify-attestation", file, Identity);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("(RFC 3161 timestamp)", result.StandardOutput, StringComparison.Ordinal);
    }

    public void Dispose() => _tlog.Dispose();
}
