using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.SigstoreJs;

/// <summary>
/// A bundle from sigstore 4.1 with one thing altered is refused by both verifiers with the same stable code:
/// <c>tamper.mjs</c> alters it and asserts @sigstore/verify 3.1's code, then our CLI gets the same files.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class TamperingTests(LocalSystem system)
{
    [Theory]
    [InlineData("artifact-byte", "SIGNATURE_ERROR")]
    [InlineData("wrong-identity", "UNTRUSTED_SIGNER_ERROR")]
    [InlineData("wrong-issuer", "UNTRUSTED_SIGNER_ERROR")]
    [InlineData("inclusion-proof-hash", "TLOG_INCLUSION_PROOF_ERROR")]
    [InlineData("set", "TLOG_INCLUSION_PROMISE_ERROR")]
    [InlineData("checkpoint", "TLOG_INCLUSION_PROOF_ERROR")]
    [InlineData("dsse-payload", "TLOG_BODY_ERROR")]
    [InlineData("untrusted-ca", "CERTIFICATE_ERROR")]
    public async Task TamperedBundle_SigstoreVerifyAndTlog_RejectWithSameCode(string tampering, string code)
    {
        var run = SigstoreJsRun.Start(system, $"tamper-{tampering}");
        await run.NodeAsync("tamper.mjs", tampering);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(run.OutputDirectory, tampering, "case.json")));
        var item = manifest.RootElement;
        Assert.Equal(code, item.GetProperty("code").GetString());

        var command = item.GetProperty("dsse").GetBoolean() ? "verify-attestation" : "verify-blob";
        var result = await run.TlogAsync(
            command, Text(item, "artifact"), "--bundle", Text(item, "bundle"), "--trusted-root", Text(item, "trustedRoot"),
            "--certificate-identity", Text(item, "identity"), "--certificate-oidc-issuer", Text(item, "issuer"), "--output", "json");

        Assert.True(result.ExitCode == 3, run.Failure($"tlog {command} on the {tampering} case (expected exit 3)", result));
        using var answer = JsonDocument.Parse(result.StandardOutput);
        Assert.True(
            answer.RootElement.GetProperty("code").GetString() == code,
            run.Failure($"tlog {command} on the {tampering} case (expected {code})", result));
    }

    private static string Text(JsonElement item, string name) =>
        item.GetProperty(name).GetString() ?? throw new InvalidOperationException($"case.json has no {name}");
}
