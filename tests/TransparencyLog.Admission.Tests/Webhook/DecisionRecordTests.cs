using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// Every review's decision record (who, what, which policy, which authority matched, verdict, latency) in the log
/// stream and as the <c>image-policy/record</c> audit annotation, and the metrics by verdict.
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_AllowedAndDenied_DecisionRecordLoggedAndAsAuditAnnotationCountedByVerdict()
    {
        var (signed, unsigned) = await SignedAndUnsignedAsync("record");
        await AddPolicyAsync("record", KeylessPolicy("record", $"{_lab.Registry}/record/**"));
        var before = await PrometheusScrape.GetAsync(_http);

        var allowed = await ValidateAsync(Review("StatefulSet", "apps", PodSpec(containers: [signed])));
        var denied = await ValidateAsync(Review("Job", "batch", PodSpec(containers: [signed], init: [unsigned])));
        var after = await PrometheusScrape.GetAsync(_http);

        var admitted = JsonNode.Parse(allowed["response"]!["auditAnnotations"]!["image-policy/record"]!.GetValue<string>())!;
        Assert.Equal(allowed["response"]!["uid"]!.GetValue<string>(), admitted["reviewUID"]!.GetValue<string>());
        Assert.Equal("kubernetes-admin", admitted["user"]!.GetValue<string>());
        Assert.Equal("CREATE", admitted["operation"]!.GetValue<string>());
        Assert.Equal("apps/v1/StatefulSet", admitted["kind"]!.GetValue<string>());
        Assert.Equal("prod", admitted["namespace"]!.GetValue<string>());
        Assert.Equal("web", admitted["name"]!.GetValue<string>());
        Assert.Equal("allowed", admitted["verdict"]!.GetValue<string>());
        Assert.True(admitted["latencyMs"]!.GetValue<double>() >= 0);
        var image = admitted["images"]![0]!;
        Assert.Equal("/spec/template/spec/containers/0/image", image["pointer"]!.GetValue<string>());
        Assert.Equal(signed.Split('@')[1], image["digest"]!.GetValue<string>());
        Assert.Equal("record", image["policies"]![0]!["policy"]!.GetValue<string>());
        Assert.Equal("ci", image["policies"]![0]!["authority"]!.GetValue<string>());
        Assert.Equal(TlogRunner.Alice, image["policies"]![0]!["signer"]!.GetValue<string>());

        Denial(denied);
        var refused = JsonNode.Parse(denied["response"]!["auditAnnotations"]!["image-policy/record"]!.GetValue<string>())!;
        Assert.Equal("denied", refused["verdict"]!.GetValue<string>());
        Assert.False(refused["images"]![1]!["policies"]![0]!["passed"]!.GetValue<bool>());
        Assert.Equal("/spec/template/spec/initContainers/0/image", refused["images"]![1]!["pointer"]!.GetValue<string>());

        var line = await WaitForLogAsync(denied["response"]!["uid"]!.GetValue<string>(), "\"verdict\":\"denied\"");
        Assert.Contains("\"latencyMs\":", line, StringComparison.Ordinal);
        Assert.Contains("NO_SIGNATURES", line, StringComparison.Ordinal);
        Assert.Equal(1, after.Sum("imagepolicy_reviews_total", ("endpoint", "validate"), ("verdict", "denied")) - before.Sum("imagepolicy_reviews_total", ("endpoint", "validate"), ("verdict", "denied")));
        Assert.Equal(1, after.Sum("imagepolicy_review_duration_seconds_count", ("endpoint", "validate"), ("verdict", "denied")) - before.Sum("imagepolicy_review_duration_seconds_count", ("endpoint", "validate"), ("verdict", "denied")));
    }
}
