using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>Images whose identity is not what a tag suggests: a tag moved after signing, and a multi-arch index.</summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task MutateThenValidate_TagMovedAfterSigning_NewDigestDeniedOldPinAdmitted()
    {
        var signedDigest = await _lab.PushImageAsync("moving/app:1.0");
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/moving/app@{signedDigest}", "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"],
            "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]);
        await AddPolicyAsync("moving", KeylessPolicy("moving", $"{_lab.Registry}/moving/**"));
        var tagged = $"{_lab.Registry}/moving/app:1.0";

        var pinnedBefore = await PinnedAsync(tagged);
        var admittedBefore = await ValidateAsync(Review("Pod", "", PodSpec(containers: [pinnedBefore])));
        var movedDigest = await _lab.PushImageAsync("moving/app:1.0");
        var pinnedAfter = await PinnedAsync(tagged);
        var deniedAfter = await ValidateAsync(Review("Pod", "", PodSpec(containers: [pinnedAfter])));
        var oldPinStill = await ValidateAsync(Review("Pod", "", PodSpec(containers: [pinnedBefore])));

        Assert.Equal($"{tagged}@{signedDigest}", pinnedBefore);
        Assert.True(admittedBefore["response"]!["allowed"]!.GetValue<bool>(), admittedBefore.ToJsonString());
        Assert.NotEqual(signedDigest, movedDigest);
        Assert.Equal($"{tagged}@{movedDigest}", pinnedAfter);
        Assert.Contains("NO_SIGNATURES", Denial(deniedAfter), StringComparison.Ordinal);
        Assert.Contains(movedDigest, deniedAfter["response"]!["auditAnnotations"]!["image-policy/digests"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(oldPinStill["response"]!["allowed"]!.GetValue<bool>(), oldPinStill.ToJsonString());
    }

    [Fact]
    public async Task Validate_MultiArchIndexSignedRecursively_IndexAndChildrenAdmittedUnsignedChildDenied()
    {
        var amd64 = await _lab.PushImageAsync("multi/app:amd64", "amd64");
        var arm64 = await _lab.PushImageAsync("multi/app:arm64", "arm64");
        var index = await _lab.PushIndexAsync("multi/app", "1.0", [(amd64, "amd64"), (arm64, "arm64")]);
        var (privateKey, publicKey) = _tlog.WriteKeyPair("multi");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/multi/app:1.0", "--recursive", "--key", privateKey, "--rekor-url", _system["REKOR_URL"]);
        var unsigned = await _lab.PushImageAsync("multi/app:riscv64", "riscv64");
        var pem = string.Join("\n", File.ReadAllLines(publicKey).Select(static l => "          " + l));
        await AddPolicyAsync("multi", $"""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {"{"}name: multi{"}"}
            spec:
              images: [{"{"}glob: "{_lab.Registry}/multi/**"{"}"}]
              authorities:
              - name: release-key
                key:
                  data: |
            {pem}
            """);

        var pinned = await PinnedAsync($"{_lab.Registry}/multi/app:1.0");
        var all = await ValidateAsync(Review("DaemonSet", "apps", PodSpec(
            containers: [pinned, $"{_lab.Registry}/multi/app@{amd64}"], init: [$"{_lab.Registry}/multi/app@{arm64}"])));
        var child = await ValidateAsync(Review("Pod", "", PodSpec(containers: [$"{_lab.Registry}/multi/app@{unsigned}"])));

        Assert.Equal($"{_lab.Registry}/multi/app:1.0@{index}", pinned);
        Assert.True(all["response"]!["allowed"]!.GetValue<bool>(), all.ToJsonString());
        Assert.Contains("multi:pass/release-key", all["response"]!["auditAnnotations"]!["image-policy/policies"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("NO_SIGNATURES", Denial(child), StringComparison.Ordinal);
    }

    /// <summary>What the mutating webhook pins <paramref name="tagged"/> to (the patch's value).</summary>
    private async Task<string> PinnedAsync(string tagged)
    {
        var answer = await PostAsync("/mutate", Review("Pod", "", PodSpec(containers: [tagged])));
        var patch = JsonNode.Parse(Convert.FromBase64String(answer["response"]!["patch"]!.GetValue<string>()))!.AsArray();
        return Assert.Single(patch)!["value"]!.GetValue<string>();
    }
}
