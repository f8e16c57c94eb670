using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// <c>source[].signaturePullSecrets</c>: signatures kept in a registry behind htpasswd, read with the credentials of
/// the Secret the policy names, mounted as a file in the webhook's own namespace (cosign-system), as policy-controller
/// reads it.
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_SignaturePullSecrets_AdmittedWithTheSecretDeniedWithout()
    {
        await using var signatures = await LocalRegistry.StartAsync(authenticated: true);
        var digest = await _lab.PushImageAsync("sigsecret/app:1.0");
        var image = $"{_lab.Registry}/sigsecret/app@{digest}";
        var repository = $"{signatures.Address}/sigs/app";
        var dockerConfig = Directory.CreateTempSubdirectory("tlog-signer-config-").FullName;
        var auth = DockerConfig(signatures.Address, LocalRegistry.Username, LocalRegistry.Password);
        await File.WriteAllTextAsync(Path.Combine(dockerConfig, "config.json"), auth);
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        var signed = await _tlog.RunAsync(
            ["sign", image, "--signature-repository", repository, "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"], "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]],
            new Dictionary<string, string> { ["DOCKER_CONFIG"] = dockerConfig });
        Assert.True(signed.ExitCode == 0, signed.Output);

        var secretName = $"sigcred-{Guid.NewGuid():N}"[..20];
        var secretDirectory = Path.Combine(_system.DataDirectory, "admission", "pull-secrets", "cosign-system", secretName);
        var wrongNamespace = Path.Combine(_system.DataDirectory, "admission", "pull-secrets", "prod", secretName);
        var source = $"    source: [{{oci: \"{repository}\", signaturePullSecrets: [{{name: {secretName}}}]}}]";
        await AddPolicyAsync("sigsecret", KeylessPolicy("sigsecret", $"{_lab.Registry}/sigsecret/**", attestations: source));
        try
        {
            var withoutSecret = await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));
            // A Secret of that name in the pod's namespace is not the one policy-controller reads.
            await WriteSecretAsync(wrongNamespace, auth);
            var inPodNamespace = await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));
            await WriteSecretAsync(secretDirectory, DockerConfig(signatures.Address, LocalRegistry.Username, "wrong-password"));
            var wrongPassword = await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));
            await WriteSecretAsync(secretDirectory, auth);
            var withSecret = await ValidateAsync(Review("Pod", "", PodSpec(containers: [image])));

            var missing = Denial(withoutSecret);
            Assert.Contains("REGISTRY_UNAUTHORIZED", missing, StringComparison.Ordinal);
            Assert.Contains($"signaturePullSecrets not found: cosign-system/{secretName}", missing, StringComparison.Ordinal);
            Assert.Contains($"signaturePullSecrets not found: cosign-system/{secretName}", Denial(inPodNamespace), StringComparison.Ordinal);
            var refused = Denial(wrongPassword);
            Assert.Contains("REGISTRY_UNAUTHORIZED", refused, StringComparison.Ordinal);
            Assert.DoesNotContain("not found", refused, StringComparison.Ordinal);
            Assert.DoesNotContain("wrong-password", refused, StringComparison.Ordinal);
            Assert.True(withSecret["response"]!["allowed"]!.GetValue<bool>(), withSecret.ToJsonString());
            Assert.Contains("sigsecret:pass/ci", withSecret["response"]!["auditAnnotations"]!["image-policy/policies"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(secretDirectory, recursive: true);
            Directory.Delete(wrongNamespace, recursive: true);
            Directory.Delete(dockerConfig, recursive: true);
        }
    }

    /// <summary>A kubernetes.io/dockerconfigjson Secret's content.</summary>
    private static string DockerConfig(string registry, string username, string password) =>
        new JsonObject
        {
            ["auths"] = new JsonObject
            {
                [registry] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")) },
            },
        }.ToJsonString();

    /// <summary>Mounts a Secret as the kubelet does: DIR/.dockerconfigjson.</summary>
    private static async Task WriteSecretAsync(string directory, string dockerConfigJson)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, ".dockerconfigjson"), dockerConfigJson);
    }
}
