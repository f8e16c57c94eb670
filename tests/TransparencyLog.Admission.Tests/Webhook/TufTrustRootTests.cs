using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// policy-controller's TUF <c>TrustRoot</c> (<c>spec.remote</c>: mirror and initial root) against the log service's
/// own TUF repository, the one <c>./run.sh</c> publishes: the trusted root comes from the mirror, verified.
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_TufTrustRootFromOurMirror_SignedAdmittedUnsignedDenied()
    {
        var (signed, unsigned) = await SignedAndUnsignedAsync("tufroot");
        var root = Convert.ToBase64String(await File.ReadAllBytesAsync(_system["TUF_ROOT_JSON"]));
        await AddPolicyAsync("tufroot", $"""
            {KeylessPolicy("tufroot", $"{_lab.Registry}/tufroot/**", attestations: "      trustRootRef: our-tuf")}
            ---
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: TrustRoot
            metadata: {"{"}name: our-tuf{"}"}
            spec:
              remote:
                mirror: {_system["TUF_MIRROR"]}
                root: {root}
            """);

        var allowed = await ValidateAsync(Review("Pod", "", PodSpec(containers: [signed])));
        var denied = await ValidateAsync(Review("Pod", "", PodSpec(containers: [unsigned])));

        Assert.True(allowed["response"]!["allowed"]!.GetValue<bool>(), allowed.ToJsonString());
        Assert.Contains("NO_SIGNATURES", Denial(denied), StringComparison.Ordinal);
        Assert.Contains("Loaded 1 policies and 1 trust roots", await File.ReadAllTextAsync(AdmissionLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_TufTrustRootUnreachableOrForgedRoot_RefusedAtLoad()
    {
        var rootBytes = await File.ReadAllBytesAsync(_system["TUF_ROOT_JSON"]);
        var forged = JsonNode.Parse(rootBytes)!.AsObject();
        forged["signed"]!["expires"] = "2099-01-01T00:00:00Z";
        var policy = KeylessPolicy("tufbad", $"{_lab.Registry}/tufbad/**", attestations: "      trustRootRef: bad-tuf");
        string PolicyFile(string name, string mirror, byte[] root) => _tlog.Write(name, policy + $"""

            ---
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: TrustRoot
            metadata: {"{"}name: bad-tuf{"}"}
            spec:
              remote: {"{"}mirror: "{mirror}", root: {Convert.ToBase64String(root)}{"}"}
            """);

        var down = await _tlog.RunAsync("policy", "test", "--policy", PolicyFile("down.yaml", "http://127.0.0.1:1/tuf", rootBytes), $"{_lab.Registry}/tufbad/app:1");
        var tampered = await _tlog.RunAsync("policy", "test", "--policy", PolicyFile("forged.yaml", _system["TUF_MIRROR"], Encoding.UTF8.GetBytes(forged.ToJsonString())), $"{_lab.Registry}/tufbad/app:1");

        TlogRunner.AssertFailed(down, 2, "the TUF mirror http://127.0.0.1:1/tuf cannot be reached");
        TlogRunner.AssertFailed(tampered, 2, "not a TUF root signed to its own threshold");
    }
}
