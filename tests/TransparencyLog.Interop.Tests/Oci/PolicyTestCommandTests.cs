using System.Text.Json;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Oci;

/// <summary>
/// <c>tlog policy test</c>: ClusterImagePolicy YAML judged against images in the system's registry signed by
/// <c>tlog sign</c>/<c>tlog attest</c>, the admission webhook's engine without a cluster (exit 0 admitted, 1 denied, 2 bad policy).
/// </summary>
[Collection(ImageSystemCollection.Name)]
public sealed class PolicyTestCommandTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);
    private readonly ImageLab _lab = new(system);

    private string Issuer => system["OIDC_ISSUER"];

    private string AliceIdentity => $"{{issuer: \"{Issuer}\", subject: \"{TlogRunner.Alice}\"}}";

    private string KeylessPolicy(string glob, string identity, string mode = "enforce", string attestations = "", string source = "") => _tlog.Write(
        $"policy-{Guid.NewGuid():N}.yaml",
        $"""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {"{"}name: ours{"}"}
        spec:
          mode: {mode}
          images: [{"{"}glob: "{glob}"{"}"}]
          authorities:
          - name: ci
            keyless:
              identities:
              - {identity}
        {source}
        {attestations}
        """);

    /// <summary>Writes a keyless policy for <paramref name="glob"/> (Alice unless another identity) and judges <paramref name="image"/> with it.</summary>
    private Task<ProcessResult> JudgeAsync(
        string glob, string image, string? identity = null, string mode = "enforce", string attestations = "", string source = "", params string[] extra) =>
        TestAsync(KeylessPolicy(glob, identity ?? AliceIdentity, mode, attestations, source), image, extra);

    private async Task<string> SignKeylessAsync(string reference, string email = TlogRunner.Alice)
    {
        var token = await system.DevTokenAsync(email);
        await _tlog.SucceedAsync("sign", reference, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"], "--tsa-url", system["TSA_URL"]);
        return token;
    }

    private Task<ProcessResult> TestAsync(string policy, string image, params string[] extra) =>
        _tlog.RunAsync(["policy", "test", "--policy", policy, image, "--trusted-root", system["TRUSTED_ROOT"], .. extra], null);

    [Fact]
    public async Task PolicyTest_KeylessIdentities_AdmitsOnlyTheSignerAndIssuerNamed()
    {
        var digest = await _lab.PushImageAsync("policy/keyless:1.0");
        await SignKeylessAsync($"{_lab.Registry}/policy/keyless:1.0");
        var image = $"{_lab.Registry}/policy/keyless@{digest}";
        var glob = $"{_lab.Registry}/policy/**";

        var exact = await JudgeAsync(glob, image, extra: ["-o", "json"]);
        var regexp = await JudgeAsync(glob, $"{_lab.Registry}/policy/keyless:1.0", "{issuerRegExp: \"http://127\\\\.0\\\\.0\\\\.1:.*\", subjectRegExp: \".*@example\\\\.com\"}");
        var wrongSubject = await JudgeAsync(glob, image, $"{{issuer: \"{Issuer}\", subject: mallory@example.com}}");
        var wrongIssuer = await JudgeAsync(glob, image, $"{{issuer: \"https://accounts.example\", subject: \"{TlogRunner.Alice}\"}}");

        Assert.True(exact.ExitCode == 0, exact.Output);
        var decision = TlogRunner.Json(exact);
        Assert.Equal("allowed", decision.GetProperty("decision").GetString());
        var record = decision.GetProperty("records")[0].GetProperty("images")[0];
        Assert.Equal(digest, record.GetProperty("digest").GetString());
        Assert.Equal("ci", record.GetProperty("policies")[0].GetProperty("authority").GetString());
        Assert.Equal(TlogRunner.Alice, record.GetProperty("policies")[0].GetProperty("signer").GetString());
        Assert.True(regexp.ExitCode == 0, regexp.Output);
        Assert.True(wrongSubject.ExitCode == 1, wrongSubject.Output);
        Assert.Contains("fails policy ours", wrongSubject.StandardOutput, StringComparison.Ordinal);
        Assert.True(wrongIssuer.ExitCode == 1, wrongIssuer.Output);
        Assert.Contains("DENIED", wrongIssuer.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_UnsignedImage_DeniedInEnforceAdmittedWithWarningInWarn()
    {
        var digest = await _lab.PushImageAsync("policy/unsigned:1.0");
        var image = $"{_lab.Registry}/policy/unsigned@{digest}";

        var enforced = await JudgeAsync($"{_lab.Registry}/policy/**", image, extra: ["-o", "json"]);
        var warned = await JudgeAsync($"{_lab.Registry}/policy/**", image, mode: "warn", extra: ["-o", "json"]);
        var noMatch = await JudgeAsync("other.example/**", image, extra: ["-o", "json"]);

        Assert.True(enforced.ExitCode == 1, enforced.Output);
        Assert.Contains("NO_SIGNATURES", TlogRunner.Json(enforced).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.True(warned.ExitCode == 0, warned.Output);
        Assert.Contains("NO_SIGNATURES", TlogRunner.Json(warned).GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
        Assert.True(noMatch.ExitCode == 1, noMatch.Output);
        Assert.Contains("no ClusterImagePolicy matches", TlogRunner.Json(noMatch).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_AttestationsWithCel_RequiresTypeAndCondition()
    {
        var digest = await _lab.PushImageAsync("policy/attested:1.0");
        var reference = $"{_lab.Registry}/policy/attested:1.0";
        var token = await SignKeylessAsync(reference);
        var predicate = _tlog.Write("provenance.json", """{"buildDefinition":{"buildType":"https://example.com/build/v1"},"runDetails":{"builder":{"id":"https://ci.example/builder"}}}""");
        await _tlog.SucceedAsync(
            "attest", reference, "--predicate", predicate, "--type", "slsaprovenance1", "--identity-token", token,
            "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"], "--tsa-url", system["TSA_URL"]);
        string Attest(string type, string condition) =>
            $"    attestations:\n    - name: provenance\n      predicateType: {type}\n      policy: {{type: cel, data: \"{condition}\"}}";
        var image = $"{_lab.Registry}/policy/attested@{digest}";

        var satisfied = await JudgeAsync($"{_lab.Registry}/policy/**", image, attestations: Attest("slsaprovenance1", "predicate.runDetails.builder.id == 'https://ci.example/builder'"));
        var conditionFalse = await JudgeAsync($"{_lab.Registry}/policy/**", image, attestations: Attest("slsaprovenance1", "predicate.runDetails.builder.id.startsWith('https://evil')"), extra: ["-o", "json"]);
        var missing = await JudgeAsync($"{_lab.Registry}/policy/**", image, attestations: Attest("cyclonedx", "true"), extra: ["-o", "json"]);
        var conditionFails = await JudgeAsync($"{_lab.Registry}/policy/**", image, attestations: Attest("slsaprovenance1", "predicate.runDetails.nothing.id == 'x'"), extra: ["-o", "json"]);

        Assert.True(satisfied.ExitCode == 0, satisfied.Output);
        Assert.True(conditionFalse.ExitCode == 1, conditionFalse.Output);
        Assert.Contains("is false", TlogRunner.Json(conditionFalse).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 1, missing.Output);
        Assert.Contains("attestation provenance (https://cyclonedx.org/bom)", TlogRunner.Json(missing).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        // An evaluation error (a missing field) denies with the reason, as a false condition does.
        Assert.True(conditionFails.ExitCode == 1, conditionFails.Output);
        Assert.Contains("predicate.runDetails.nothing.id == 'x'' failed: ", TlogRunner.Json(conditionFails).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_TagMovedAfterSigning_JudgesTheDigestItNowNames()
    {
        var signed = await _lab.PushImageAsync("policy/moving:1.0");
        await SignKeylessAsync($"{_lab.Registry}/policy/moving@{signed}");
        var policy = KeylessPolicy($"{_lab.Registry}/policy/**", AliceIdentity);
        var before = await TestAsync(policy, $"{_lab.Registry}/policy/moving:1.0");

        var moved = await _lab.PushImageAsync("policy/moving:1.0");
        var after = await TestAsync(policy, $"{_lab.Registry}/policy/moving:1.0", "-o", "json");

        Assert.True(before.ExitCode == 0, before.Output);
        Assert.True(after.ExitCode == 1, after.Output);
        Assert.Equal(moved, TlogRunner.Json(after).GetProperty("records")[0].GetProperty("images")[0].GetProperty("digest").GetString());
    }

    [Fact]
    public async Task PolicyTest_MultiArchIndexSignedRecursively_IndexAndChildrenAdmitted()
    {
        var amd64 = await _lab.PushImageAsync("policy/multi:amd64", "amd64");
        var arm64 = await _lab.PushImageAsync("policy/multi:arm64", "arm64");
        var index = await _lab.PushIndexAsync("policy/multi", "1.0", [(amd64, "amd64"), (arm64, "arm64")]);
        var (privateKey, publicKey) = _tlog.WriteKeyPair("k");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/policy/multi:1.0", "--recursive", "--key", privateKey, "--rekor-url", system["REKOR_URL"]);
        var pem = string.Join("\n", File.ReadAllLines(publicKey).Select(static l => "          " + l));
        var policy = _tlog.Write("key.yaml", $"""
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: ClusterImagePolicy
            metadata: {"{"}name: keyed{"}"}
            spec:
              images: [{"{"}glob: "{_lab.Registry}/policy/multi*"{"}"}]
              authorities:
              - key:
                  data: |
            {pem}
            """);
        var unsigned = await _lab.PushImageAsync("policy/multi:riscv64", "riscv64");

        foreach (var digest in new[] { index, amd64, arm64 })
        {
            var result = await TestAsync(policy, $"{_lab.Registry}/policy/multi@{digest}");
            Assert.True(result.ExitCode == 0, $"{digest}: {result.Output}");
        }

        var other = await TestAsync(policy, $"{_lab.Registry}/policy/multi@{unsigned}");
        Assert.True(other.ExitCode == 1, other.Output);
    }

    [Fact]
    public async Task PolicyTest_RegistryDown_DeniedInEnforceWarningInWarn()
    {
        const string image = "127.0.0.1:1/policy/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

        var enforced = await JudgeAsync("127.0.0.1:1/**", image, extra: ["-o", "json"]);
        var warned = await JudgeAsync("127.0.0.1:1/**", image, mode: "warn", extra: ["-o", "json"]);

        Assert.True(enforced.ExitCode == 1, enforced.Output);
        Assert.Contains("REGISTRY_UNREACHABLE", TlogRunner.Json(enforced).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.True(warned.ExitCode == 0, warned.Output);
        Assert.Contains("REGISTRY_UNREACHABLE", TlogRunner.Json(warned).GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_ReviewReplay_AnswersAsTheValidatingWebhook()
    {
        var digest = await _lab.PushImageAsync("policy/review:1.0");
        await SignKeylessAsync($"{_lab.Registry}/policy/review:1.0");
        var policy = KeylessPolicy($"{_lab.Registry}/policy/**", AliceIdentity);
        string Review(string image) => _tlog.Write($"review-{Guid.NewGuid():N}.json", $$$"""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
             "kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},
             "namespace":"prod","operation":"CREATE","userInfo":{"username":"admin"},
             "object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
               "spec":{"template":{"spec":{"containers":[{"name":"web","image":"{{{image}}}"}]} } } } } }
            """);

        var pinned = await _tlog.RunAsync(["policy", "test", "--policy", policy, "--review", Review($"{_lab.Registry}/policy/review:1.0@{digest}"), "--trusted-root", system["TRUSTED_ROOT"], "-o", "json"], null);
        var tagOnly = await _tlog.RunAsync(["policy", "test", "--policy", policy, "--review", Review($"{_lab.Registry}/policy/review:1.0"), "--trusted-root", system["TRUSTED_ROOT"], "-o", "json"], null);

        Assert.True(pinned.ExitCode == 0, pinned.Output);
        var response = TlogRunner.Json(pinned).GetProperty("review").GetProperty("response");
        Assert.Equal("705ab4f5-6393-11e8-b7cc-42010a800002", response.GetProperty("uid").GetString());
        Assert.True(response.GetProperty("allowed").GetBoolean());
        Assert.True(tagOnly.ExitCode == 1, tagOnly.Output);
        var denied = TlogRunner.Json(tagOnly).GetProperty("review").GetProperty("response");
        Assert.Equal(403, denied.GetProperty("status").GetProperty("code").GetInt32());
        Assert.Contains("/spec/template/spec/containers/0/image", denied.GetProperty("status").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("must be an image digest", denied.GetProperty("status").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PolicyTest_SignaturesInAnotherRepository_AdmittedWithSourceDeniedWithout()
    {
        var digest = await _lab.PushImageAsync("policy/apart:1.0");
        var image = $"{_lab.Registry}/policy/apart@{digest}";
        var glob = $"{_lab.Registry}/policy/**";
        var signatures = $"{_lab.Registry}/signatures/apart";
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        string[] services = ["--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"], "--tsa-url", system["TSA_URL"]];
        var (privateKey, publicKey) = _tlog.WriteKeyPair("apart");
        await _tlog.SucceedAsync(["sign", image, "--signature-repository", signatures, .. services]);
        await _tlog.SucceedAsync("sign", image, "--signature-repository", signatures, "--key", privateKey, "--rekor-url", system["REKOR_URL"]);
        var predicate = _tlog.Write("apart-provenance.json", """{"runDetails":{"builder":{"id":"https://ci.example/builder"}}}""");
        var attested = await _tlog.RunAsync(
            ["attest", image, "--predicate", predicate, "--type", "slsaprovenance1", .. services],
            new Dictionary<string, string> { ["COSIGN_REPOSITORY"] = signatures });
        Assert.True(attested.ExitCode == 0, attested.Output);
        var source = $"    source: [{{oci: \"{signatures}\"}}]";
        var attestation = "    attestations:\n    - name: provenance\n      predicateType: slsaprovenance1\n      policy: {type: cel, data: \"predicate.runDetails.builder.id == 'https://ci.example/builder'\"}";
        var pem = string.Join("\n", File.ReadAllLines(publicKey).Select(static l => "        " + l));
        string KeyPolicy(string sourceLine) => _tlog.Write($"key-{Guid.NewGuid():N}.yaml", $"""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {"{"}name: keyed{"}"}
            spec:
              images: [{"{"}glob: "{glob}"{"}"}]
              authorities:
              - key:
                  data: |
            {pem}
            {sourceLine}
            """);

        var keylessWithSource = await JudgeAsync(glob, image, attestations: attestation, source: source, extra: ["-o", "json"]);
        var keylessWithout = await JudgeAsync(glob, image, extra: ["-o", "json"]);
        var wrongSource = await JudgeAsync(glob, image, attestations: attestation, source: "    source: [{oci: \"" + _lab.Registry + "/signatures/elsewhere\"}]", extra: ["-o", "json"]);
        var keyWithSource = await TestAsync(KeyPolicy(source), image);
        var keyWithout = await TestAsync(KeyPolicy(string.Empty), image, "-o", "json");
        var verifyElsewhere = await _tlog.VerifyAsync("verify", image, [.. _tlog.Identity(), "--signature-repository", signatures]);
        var verifyBeside = await _tlog.VerifyAsync("verify", image, _tlog.Identity());

        Assert.True(keylessWithSource.ExitCode == 0, keylessWithSource.Output);
        Assert.Equal(TlogRunner.Alice, TlogRunner.Json(keylessWithSource).GetProperty("records")[0].GetProperty("images")[0].GetProperty("policies")[0].GetProperty("signer").GetString());
        Assert.True(keylessWithout.ExitCode == 1, keylessWithout.Output);
        Assert.Contains("NO_SIGNATURES", TlogRunner.Json(keylessWithout).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.True(wrongSource.ExitCode == 1, wrongSource.Output);
        Assert.Contains($"in {_lab.Registry}/signatures/elsewhere", TlogRunner.Json(wrongSource).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.True(keyWithSource.ExitCode == 0, keyWithSource.Output);
        Assert.True(keyWithout.ExitCode == 1, keyWithout.Output);
        Assert.Contains("NO_SIGNATURES", TlogRunner.Json(keyWithout).GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.True(verifyElsewhere.ExitCode == 0, verifyElsewhere.Output);
        TlogRunner.AssertFailed(verifyBeside, 10, "NO_SIGNATURES");
    }

    [Fact]
    public async Task PolicyTest_BadPolicyOrUsage_ExitsTwo()
    {
        var cue = _tlog.Write("cue.yaml", """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cue}
            spec:
              images: [{glob: "**"}]
              authorities: [{static: {action: pass}}]
              policy: {type: cue, data: "before: <\"2030-01-01\""}
            """);
        var pass = _tlog.Write("pass.yaml", "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n");

        var refused = await _tlog.RunAsync("policy", "test", "--policy", cue, "ghcr.io/org/app:1");
        var missing = await _tlog.RunAsync("policy", "test", "--policy", _tlog.PathOf("nothing.yaml"), "ghcr.io/org/app:1");
        var noImage = await _tlog.RunAsync("policy", "test", "--policy", pass);
        var staticPass = await _tlog.RunAsync("policy", "test", "--policy", pass, "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

        TlogRunner.AssertFailed(refused, 2, "no CUE or Rego evaluator");
        TlogRunner.AssertFailed(missing, 2, "does not exist");
        TlogRunner.AssertFailed(noImage, 2, "give an IMAGE or --review");
        Assert.True(staticPass.ExitCode == 0, staticPass.Output);
    }

    public void Dispose()
    {
        _tlog.Dispose();
        _lab.Dispose();
    }
}
