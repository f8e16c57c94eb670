using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

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
    public async Task Validate_SerializedTufRepositoryOfOurService_SignedAdmittedUnsignedDenied()
    {
        var (signed, unsigned) = await SignedAndUnsignedAsync("airgap");
        // policy-controller's air-gapped form: the log service's own TUF repository, copied file by file into a
        // repository/ directory and archived with tar, as `tar -czf repo.tgz repository` makes it.
        var directory = Directory.CreateTempSubdirectory("tlog-tuf-copy-").FullName;
        try
        {
            await CopyTufRepositoryAsync(_system["TUF_MIRROR"], Path.Combine(directory, "repository"));
            var tar = await LocalSystem.RunAsync("tar", ["-C", directory, "-czf", Path.Combine(directory, "repo.tgz"), "repository"], null, TimeSpan.FromSeconds(60));
            Assert.True(tar.ExitCode == 0, tar.Output);
            var mirrorFs = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(directory, "repo.tgz")));
            var root = Convert.ToBase64String(await File.ReadAllBytesAsync(_system["TUF_ROOT_JSON"]));
            await AddPolicyAsync("airgap", $"""
                {KeylessPolicy("airgap", $"{_lab.Registry}/airgap/**", attestations: "      trustRootRef: our-airgap")}
                ---
                apiVersion: policy.sigstore.dev/v1alpha1
                kind: TrustRoot
                metadata: {"{"}name: our-airgap{"}"}
                spec:
                  repository:
                    root: {root}
                    mirrorFS: {mirrorFs}
                    targets: targets
                """);

            var allowed = await ValidateAsync(Review("Pod", "", PodSpec(containers: [signed])));
            var denied = await ValidateAsync(Review("Pod", "", PodSpec(containers: [unsigned])));

            Assert.True(allowed["response"]!["allowed"]!.GetValue<bool>(), allowed.ToJsonString());
            Assert.Contains("airgap:pass/ci", allowed["response"]!["auditAnnotations"]!["image-policy/policies"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("NO_SIGNATURES", Denial(denied), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Every file a TUF client reads from <paramref name="mirror"/>: the versioned roots, timestamp.json, the snapshot
    /// and targets it lists, and each target under its consistent-snapshot name.
    /// </summary>
    private static async Task CopyTufRepositoryAsync(string mirror, string destination)
    {
        using var http = new HttpClient { BaseAddress = new Uri(mirror.TrimEnd('/') + "/") };
        Directory.CreateDirectory(Path.Combine(destination, "targets"));
        async Task<byte[]> Copy(string path)
        {
            var bytes = await http.GetByteArrayAsync(path);
            await File.WriteAllBytesAsync(Path.Combine(destination, path), bytes);
            return bytes;
        }

        for (var version = 1; ; version++)
        {
            using var response = await http.GetAsync($"{version}.root.json");
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                Assert.True(version > 1, "the mirror serves no 1.root.json");
                break;
            }

            await File.WriteAllBytesAsync(Path.Combine(destination, $"{version}.root.json"), await response.Content.ReadAsByteArrayAsync());
        }

        var timestamp = JsonNode.Parse(await Copy("timestamp.json"))!;
        var snapshotVersion = timestamp["signed"]!["meta"]!["snapshot.json"]!["version"]!.GetValue<long>();
        var snapshot = JsonNode.Parse(await Copy($"{snapshotVersion}.snapshot.json"))!;
        var targetsVersion = snapshot["signed"]!["meta"]!["targets.json"]!["version"]!.GetValue<long>();
        var targets = JsonNode.Parse(await Copy($"{targetsVersion}.targets.json"))!;
        foreach (var (name, file) in targets["signed"]!["targets"]!.AsObject())
        {
            var sha256 = file!["hashes"]!["sha256"]!.GetValue<string>();
            var bytes = await Copy($"targets/{sha256}.{name}");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
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
