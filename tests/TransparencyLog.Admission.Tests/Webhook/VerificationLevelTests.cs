using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// Notation's verification levels as a per-policy setting (annotation <c>transparencylog.dev/verification-level</c>):
/// which failures block and which are only reported. The failing check here is the log entry: the policy demands an
/// entry from a log of its TrustRoot that never saw the signature. (permissive is not exercised here: it relaxes only
/// missing time evidence, and every signature tlog sign makes carries all of it; see docs/admission.md.)
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_VerificationLevels_EachBlocksOnlyWhatItEnforces()
    {
        var signed = await SignAsync("levels/app:1.0");
        var unsigned = $"{_lab.Registry}/levels/bare@{await _lab.PushImageAsync("levels/bare:1.0")}";
        const string other = "https://rekor.levels.example";
        await AddPolicyAsync("levels-root", TrustRootFromSystem("levels-root", other));
        var (privateKey, publicKey) = _tlog.WriteKeyPair("levels-signer");
        var keyed = $"{_lab.Registry}/levels/keyed@{await _lab.PushImageAsync("levels/keyed:1.0")}";
        await _tlog.SucceedAsync("sign", keyed, "--key", privateKey, "--rekor-url", _system["REKOR_URL"]);
        var pem = string.Join("\n", File.ReadAllText(publicKey).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => "          " + l));

        async Task<JsonObject> Judge(string level, string image, string authority)
        {
            var name = $"levels-{level}";
            await AddPolicyAsync(name, $$"""
                apiVersion: policy.sigstore.dev/v1beta1
                kind: ClusterImagePolicy
                metadata:
                  name: {{name}}
                  annotations: {transparencylog.dev/verification-level: {{level}}}
                spec:
                  images: [{glob: "{{_lab.Registry}}/levels/**"}]
                  authorities:
                {{authority}}
                """);
            try
            {
                return await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));
            }
            finally
            {
                await RemovePolicyAsync(name);
            }
        }

        var otherLog = $"  - keyless:\n      identities: [{{issuer: \"{Issuer}\", subject: \"{TlogRunner.Alice}\"}}]\n    ctlog: {{url: \"{other}\", trustRootRef: levels-root}}";
        var wrongHash = $"  - key:\n      hashAlgorithm: sha512\n      data: |\n{pem}";
        var strict = await Judge("strict", signed, otherLog);
        var audit = await Judge("audit", signed, otherLog);
        var auditUnsigned = await Judge("audit", unsigned, otherLog);
        var auditBadSignature = await Judge("audit", keyed, wrongHash);
        var skip = await Judge("skip", unsigned, otherLog);

        static string Warning(JsonObject answer)
        {
            Assert.True(answer["response"]!["allowed"]!.GetValue<bool>(), answer.ToJsonString());
            return string.Join("\n", answer["response"]!["warnings"]!.AsArray().Select(static w => w!.GetValue<string>()));
        }

        Assert.Contains("no trusted transparency log has log ID", Denial(strict), StringComparison.Ordinal);
        Assert.Contains("audit: ", Warning(audit), StringComparison.Ordinal);
        Assert.Contains("NO_SIGNATURES", Warning(auditUnsigned), StringComparison.Ordinal);
        // Integrity is never relaxed: a signature that does not verify blocks even under audit.
        Assert.Contains("does not verify", Denial(auditBadSignature), StringComparison.Ordinal);
        Assert.Contains("verification skipped (level skip)", Warning(skip), StringComparison.Ordinal);
    }
}
