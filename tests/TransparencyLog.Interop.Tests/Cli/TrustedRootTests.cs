using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary><c>tlog trusted-root create/show</c> and <c>tlog dev token</c> against the running system.</summary>
[Collection(SystemCollection.Name)]
public sealed class TrustedRootTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);

    private string RekorV2Url => system["REKOR_V2_URL"];

    private async Task<string> CreateAsync(string name, params string[] extra)
    {
        var output = _tlog.PathOf(name);
        await _tlog.SucceedAsync(
        [
            "trusted-root", "create", "--ca-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"],
            "--ct-log-key", system["CT_LOG_URL"] + "/v1/public-key", "--ct-log-url", system["CT_LOG_URL"],
            "--tsa-url", system["REKOR_URL"], "--oidc-url", system["OIDC_ISSUER"], "--out", output, .. extra,
        ]);
        return output;
    }

    [Fact]
    public async Task TrustedRootCreate_WithRekorV2_HasBothLogsAndVerifiesBundles()
    {
        var root = await CreateAsync("trusted_root.json", "--rekor-v2-url", RekorV2Url);
        var file = _tlog.Write("created-root.txt", "verified with a fresh root\n");
        var token = await system.DevTokenAsync("carol@example.com");
        await _tlog.SucceedAsync(
            "sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"],
            "--rekor-version", "2", "--rekor-url", RekorV2Url, "--tsa-url", system["TSA_URL"]);

        var verified = await _tlog.RunAsync(
            "verify-blob", file, "--trusted-root", root, "--certificate-identity", "carol@example.com", "--certificate-oidc-issuer", system["OIDC_ISSUER"]);

        Assert.True(verified.ExitCode == 0, verified.Output);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(root));
        // cosign and sigstore-go accept only the 0.1 media type; the v2 log's checkpoints are found by its log ID's prefix.
        Assert.Equal("application/vnd.dev.sigstore.trustedroot+json;version=0.1", document.RootElement.GetProperty("mediaType").GetString());
        var tlogs = document.RootElement.GetProperty("tlogs");
        Assert.Equal(2, tlogs.GetArrayLength());
        Assert.Equal(RekorV2Url, tlogs[1].GetProperty("baseUrl").GetString());
        Assert.Equal("PKIX_ED25519", tlogs[1].GetProperty("publicKey").GetProperty("keyDetails").GetString());
        Assert.False(tlogs[1].TryGetProperty("checkpointKeyId", out _), "checkpointKeyId is a v0.2 field");
        Assert.Equal(32, Convert.FromBase64String(tlogs[1].GetProperty("logId").GetProperty("keyId").GetString()!).Length);
        Assert.Equal(1, document.RootElement.GetProperty("timestampAuthorities").GetArrayLength());
        Assert.Equal(1, document.RootElement.GetProperty("ctlogs").GetArrayLength());

        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(_tlog.PathOf("signing_config.json")));
        var versions = config.RootElement.GetProperty("rekorTlogUrls").EnumerateArray().Select(static u => u.GetProperty("majorApiVersion").GetInt32()).ToList();
        Assert.Equal([1, 2], versions);
    }

    [Fact]
    public async Task TrustedRootCreate_WithoutRekorV2_IsVersion01WithOneLog()
    {
        var root = await CreateAsync("v1_root.json");

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(root));

        Assert.Equal("application/vnd.dev.sigstore.trustedroot+json;version=0.1", document.RootElement.GetProperty("mediaType").GetString());
        Assert.Equal(1, document.RootElement.GetProperty("tlogs").GetArrayLength());
    }

    [Fact]
    public async Task TrustedRootShow_SystemRoot_ListsEveryLogAndAuthority()
    {
        var text = await _tlog.SucceedAsync("trusted-root", "show", system["TRUSTED_ROOT"]);
        var json = TlogRunner.Json(await _tlog.SucceedAsync("trusted-root", "show", system["TRUSTED_ROOT"], "--output", "json"));

        Assert.Contains("Transparency logs:", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(system["REKOR_URL"], text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(RekorV2Url, text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Timestamp authorities:", text.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, json.GetProperty("tlogs").GetArrayLength());
    }

    [Fact]
    public async Task TrustedRootCreate_UnreachableCa_ExitsOneAndWritesNothing()
    {
        var output = _tlog.PathOf("unreachable_root.json");

        var result = await _tlog.RunAsync("trusted-root", "create", "--ca-url", "http://127.0.0.1:1", "--rekor-url", system["REKOR_URL"], "--out", output);

        Assert.Equal(1, result.ExitCode);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task TrustedRootShow_NotATrustedRoot_ExitsOne()
    {
        var file = _tlog.Write("not-a-root.json", """{"mediaType":"something else"}""");

        var result = await _tlog.RunAsync("trusted-root", "show", file);

        TlogRunner.AssertFailed(result, 1, "invalid");
    }

    [Fact]
    public async Task DevToken_Email_PrintsJwtNamingTheEmail()
    {
        var text = await _tlog.SucceedAsync("dev", "token", "--issuer", system["OIDC_ISSUER"], "--email", "dave@example.com");
        var json = TlogRunner.Json(await _tlog.SucceedAsync("dev", "token", "--issuer", system["OIDC_ISSUER"], "--sub", "dave", "--ttl", "60", "-o", "json"));

        var parts = text.StandardOutput.Trim().Split('.');
        Assert.Equal(3, parts.Length);
        var payload = parts[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var claims = JsonDocument.Parse(Convert.FromBase64String(payload));
        Assert.Equal("dave@example.com", claims.RootElement.GetProperty("email").GetString());
        Assert.Equal(system["OIDC_ISSUER"], claims.RootElement.GetProperty("iss").GetString());
        Assert.Equal(2, json.GetProperty("token").GetString()!.Count(static c => c == '.'));
    }

    [Fact]
    public async Task DevToken_NoEmailOrSub_ExitsTwo()
    {
        var result = await _tlog.RunAsync("dev", "token", "--issuer", system["OIDC_ISSUER"]);

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task UnknownOption_ExitsTwoWithUsageHint()
    {
        var result = await _tlog.RunAsync("verify-blob", "x", "--no-such-flag");

        TlogRunner.AssertFailed(result, 2, "--help");
    }

    public void Dispose() => _tlog.Dispose();
}
