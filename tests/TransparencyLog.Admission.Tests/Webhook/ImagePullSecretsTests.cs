using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// Registry credentials from the pod's own <c>imagePullSecrets</c>, given to the webhook as files (the Secrets mounted
/// at PullSecretsDirectory/NAMESPACE/NAME/.dockerconfigjson, no cluster API): an image in a registry behind
/// htpasswd is pinned and verified with the Secret the pod names, and refused without it.
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task ValidateAndMutate_PodImagePullSecretsAsFiles_PrivateImageReadWithThePodsSecret()
    {
        await using var privateRegistry = await LocalRegistry.StartAsync(authenticated: true);
        await _lab.PushImageAsync("pullsecret/app:1.0");
        var digestFile = _lab.PathOf($"digest-{Guid.NewGuid():N}");
        var copied = await _lab.SkopeoAsync(
            "--policy", _lab.PathOf("accept.json"), "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            "--dest-creds", $"{LocalRegistry.Username}:{LocalRegistry.Password}", "--digestfile", digestFile,
            $"docker://{_lab.Registry}/pullsecret/app:1.0", $"docker://{privateRegistry.Address}/private/app:1.0");
        Assert.True(copied.ExitCode == 0, copied.Output);
        var digest = (await File.ReadAllTextAsync(digestFile)).Trim();
        var auth = DockerConfig(privateRegistry.Address, LocalRegistry.Username, LocalRegistry.Password);
        var signerConfig = Directory.CreateTempSubdirectory("tlog-signer-config-").FullName;
        await File.WriteAllTextAsync(Path.Combine(signerConfig, "config.json"), auth);
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        var signed = await _tlog.RunAsync(
            ["sign", $"{privateRegistry.Address}/private/app@{digest}", "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"], "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]],
            new Dictionary<string, string> { ["DOCKER_CONFIG"] = signerConfig });
        Assert.True(signed.ExitCode == 0, signed.Output);
        await AddPolicyAsync("pullsecret", KeylessPolicy("pullsecret", $"{privateRegistry.Address}/private/**"));
        var secretName = $"regcred-{Guid.NewGuid():N}"[..20];
        var secretDirectory = Path.Combine(_system.DataDirectory, "admission", "pull-secrets", "prod", secretName);
        JsonObject Pod(string image)
        {
            var spec = PodSpec(containers: [image]);
            spec["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = secretName });
            return Review("Deployment", "apps", spec);
        }

        try
        {
            var deniedWithout = await ValidateAsync(Pod($"{privateRegistry.Address}/private/app@{digest}"));
            var unpinnedWithout = await PostAsync("/mutate", Pod($"{privateRegistry.Address}/private/app:1.0"));
            await WriteSecretAsync(secretDirectory, auth);
            var admittedWith = await ValidateAsync(Pod($"{privateRegistry.Address}/private/app@{digest}"));
            var pinnedWith = await PostAsync("/mutate", Pod($"{privateRegistry.Address}/private/app:1.0"));
            var otherPodWithout = Review("Deployment", "apps", PodSpec(containers: [$"{privateRegistry.Address}/private/app@{digest}"]));
            var deniedOtherPod = await ValidateAsync(otherPodWithout);

            Assert.Contains("REGISTRY_UNAUTHORIZED", Denial(deniedWithout), StringComparison.Ordinal);
            Assert.Null(unpinnedWithout["response"]!["patch"]);
            Assert.Contains("not pinned to a digest", unpinnedWithout["response"]!["warnings"]![0]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.True(admittedWith["response"]!["allowed"]!.GetValue<bool>(), admittedWith.ToJsonString());
            Assert.Contains("pullsecret:pass/ci", admittedWith["response"]!["auditAnnotations"]!["image-policy/policies"]!.GetValue<string>(), StringComparison.Ordinal);
            var patch = JsonNode.Parse(Convert.FromBase64String(pinnedWith["response"]!["patch"]!.GetValue<string>()))!.AsArray();
            Assert.Equal($"{privateRegistry.Address}/private/app:1.0@{digest}", patch[0]!["value"]!.GetValue<string>());
            // The credentials are the pod's: a pod that names no pull secret is not admitted on another pod's Secret.
            Assert.Contains("REGISTRY_UNAUTHORIZED", Denial(deniedOtherPod), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(secretDirectory))
            {
                Directory.Delete(secretDirectory, recursive: true);
            }

            Directory.Delete(signerConfig, recursive: true);
        }
    }
}
