using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Interop.Tests.Oci;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// The webhook as <c>./run.sh</c> starts it: HTTPS checked against the CA bundle it wrote, policies dropped into
/// ADMISSION_POLICIES, images in the system's registry signed by <c>tlog sign</c>; review shapes as the Kubernetes
/// API documentation shows them.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed partial class WebhookTests : IDisposable
{
    private const string Unreachable = "127.0.0.1:1/apps/gone@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private readonly LocalSystem _system;
    private readonly TlogRunner _tlog;
    private readonly ImageLab _lab;
    private readonly HttpClient _http;
    private readonly List<string> _policyFiles = [];

    public WebhookTests(LocalSystem system)
    {
        _system = system;
        _tlog = new TlogRunner(system);
        _lab = new ImageLab(system);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(system["ADMISSION_CA_BUNDLE"]);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck },
            },
        };
        handler.SslOptions.CertificateChainPolicy!.CustomTrustStore.AddRange(roots);
        _http = new HttpClient(handler) { BaseAddress = new Uri(system["ADMISSION_URL"]), Timeout = TimeSpan.FromSeconds(60) };
    }

    private string Issuer => _system["OIDC_ISSUER"];

    [Fact]
    public async Task Validate_EveryWorkloadKind_SignedAdmittedUnsignedDeniedAtItsPointer()
    {
        var (signed, unsigned) = await SignedAndUnsignedAsync("kinds");
        await AddPolicyAsync("kinds", KeylessPolicy("kinds", $"{_lab.Registry}/kinds/**"));

        foreach (var (kind, group, podSpec) in Kinds)
        {
            var allowed = await ValidateAsync(Review(kind, group, PodSpec(containers: [signed], init: [signed], ephemeral: [signed])));
            var denied = await ValidateAsync(Review(kind, group, PodSpec(containers: [signed], init: [signed], ephemeral: [unsigned])));

            Assert.True(allowed["response"]!["allowed"]!.GetValue<bool>(), $"{kind}: {allowed}");
            Assert.Equal("allowed", allowed["response"]!["auditAnnotations"]!["image-policy/decision"]!.GetValue<string>());
            Assert.Contains("kinds:pass/ci", allowed["response"]!["auditAnnotations"]!["image-policy/policies"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.False(denied["response"]!["allowed"]!.GetValue<bool>(), $"{kind}: {denied}");
            Assert.Equal(403, denied["response"]!["status"]!["code"]!.GetValue<int>());
            Assert.Contains($"{podSpec}/ephemeralContainers/0/image", denied["response"]!["status"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Validate_IdentityIssuerAttestation_EachRequirementEnforced()
    {
        var digest = await _lab.PushImageAsync("ident/app:1.0");
        var reference = $"{_lab.Registry}/ident/app@{digest}";
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync("sign", reference, "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"], "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]);
        var predicate = _tlog.Write("vuln.json", """{"scanner":{"result":[]},"critical":0}""");
        await _tlog.SucceedAsync(
            "attest", reference, "--predicate", predicate, "--type", "vuln", "--identity-token", token,
            "--fulcio-url", _system["FULCIO_URL"], "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]);

        async Task<JsonObject> Judge(string name, string identity, string attestations = "")
        {
            await AddPolicyAsync(name, KeylessPolicy(name, $"{_lab.Registry}/ident/**", identity: identity, attestations: attestations));
            try
            {
                return await ValidateAsync(Review("Pod", "", PodSpec(containers: [reference])));
            }
            finally
            {
                await RemovePolicyAsync(name);
            }
        }

        var good = await Judge("ident-good", $"{{issuer: \"{Issuer}\", subject: \"{TlogRunner.Alice}\"}}", Attestation("vuln", "predicate.critical == 0"));
        var wrongIdentity = await Judge("ident-subject", $"{{issuer: \"{Issuer}\", subject: bob@example.com}}");
        var wrongIssuer = await Judge("ident-issuer", $"{{issuer: \"https://token.actions.githubusercontent.com\", subject: \"{TlogRunner.Alice}\"}}");
        var missing = await Judge("ident-missing", $"{{issuer: \"{Issuer}\", subject: \"{TlogRunner.Alice}\"}}", Attestation("slsaprovenance1", "true"));
        var celFalse = await Judge("ident-cel", $"{{issuer: \"{Issuer}\", subject: \"{TlogRunner.Alice}\"}}", Attestation("vuln", "predicate.critical > 0"));

        Assert.True(good["response"]!["allowed"]!.GetValue<bool>(), good.ToJsonString());
        Assert.Contains("NO_MATCHING_SIGNATURE", Denial(wrongIdentity), StringComparison.Ordinal);
        Assert.Contains("NO_MATCHING_SIGNATURE", Denial(wrongIssuer), StringComparison.Ordinal);
        Assert.Contains("attestation gate (https://slsa.dev/provenance/v1)", Denial(missing), StringComparison.Ordinal);
        Assert.Contains("is false", Denial(celFalse), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutate_TagsPinnedToDigest_Base64JsonPatchAtEachPointer()
    {
        var digest = await _lab.PushImageAsync("mutate/app:2.0");
        var tagged = $"{_lab.Registry}/mutate/app:2.0";
        var pinned = $"{_lab.Registry}/mutate/app@{digest}";

        var answer = await PostAsync("/mutate", Review("CronJob", "batch", PodSpec(containers: [tagged, pinned], init: [tagged])));

        var response = answer["response"]!;
        Assert.True(response["allowed"]!.GetValue<bool>());
        Assert.Equal("JSONPatch", response["patchType"]!.GetValue<string>());
        var patch = JsonNode.Parse(Convert.FromBase64String(response["patch"]!.GetValue<string>()))!.AsArray();
        Assert.Equal(2, patch.Count);
        Assert.Equal("/spec/jobTemplate/spec/template/spec/containers/0/image", patch[0]!["path"]!.GetValue<string>());
        Assert.Equal("/spec/jobTemplate/spec/template/spec/initContainers/0/image", patch[1]!["path"]!.GetValue<string>());
        Assert.All(patch, op =>
        {
            Assert.Equal("replace", op!["op"]!.GetValue<string>());
            Assert.Equal($"{tagged}@{digest}", op["value"]!.GetValue<string>());
        });
    }

    [Fact]
    public async Task Validate_TagOnlyOrRegistryDown_DeniedInEnforceWarnedInWarn()
    {
        await _lab.PushImageAsync("modes/app:1.0");
        await AddPolicyAsync("modes-enforce", KeylessPolicy("modes-enforce", "127.0.0.1:1/**"));

        var tagOnly = await ValidateAsync(Review("Deployment", "apps", PodSpec(containers: [$"{_lab.Registry}/modes/app:1.0"])));
        var down = await ValidateAsync(Review("Pod", "", PodSpec(containers: [Unreachable])));
        await RemovePolicyAsync("modes-enforce");
        await AddPolicyAsync("modes-warn", KeylessPolicy("modes-warn", "127.0.0.1:1/**", mode: "warn"));
        var warned = await ValidateAsync(Review("Pod", "", PodSpec(containers: [Unreachable])));

        Assert.Contains("must be an image digest", Denial(tagOnly), StringComparison.Ordinal);
        Assert.Contains("REGISTRY_UNREACHABLE", Denial(down), StringComparison.Ordinal);
        Assert.True(warned["response"]!["allowed"]!.GetValue<bool>(), warned.ToJsonString());
        Assert.Contains("REGISTRY_UNREACHABLE", warned["response"]!["warnings"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_SkippedRequestsAndExemptNamespaces_AllowedWithoutChecks()
    {
        var delete = Review("Pod", "", PodSpec(containers: [Unreachable]));
        delete["request"]!["operation"] = "DELETE";
        var status = Review("Pod", "", PodSpec(containers: [Unreachable]));
        status["request"]!["subResource"] = "status";
        var system = Review("Pod", "", PodSpec(containers: [Unreachable]));
        system["request"]!["namespace"] = "kube-system";
        var noMatch = Review("Pod", "", PodSpec(containers: ["nomatch.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]));

        Assert.True((await ValidateAsync(delete))["response"]!["allowed"]!.GetValue<bool>());
        Assert.True((await ValidateAsync(status))["response"]!["allowed"]!.GetValue<bool>());
        Assert.True((await ValidateAsync(system))["response"]!["allowed"]!.GetValue<bool>());
        Assert.Contains("no ClusterImagePolicy matches", Denial(await ValidateAsync(noMatch)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_MalformedOrHugeReview_400Or413AndServiceStaysUp()
    {
        using var notJson = await _http.PostAsync("/validate", new StringContent("{not json", Encoding.UTF8, "application/json"));
        using var notReview = await _http.PostAsync("/validate", new StringContent("""{"apiVersion":"v1","kind":"Pod"}""", Encoding.UTF8, "application/json"));
        using var noUid = await _http.PostAsync("/mutate", new StringContent("""{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}""", Encoding.UTF8, "application/json"));
        var huge = Review("Pod", "", PodSpec(containers: [.. Enumerable.Repeat(Unreachable, 10)]));
        huge["request"]!["object"]!["metadata"]!["annotations"] = new JsonObject { ["padding"] = new string('x', 5 * 1024 * 1024) };
        // As the API server may: announce the body and let the webhook refuse it before it is sent.
        using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, "/validate") { Content = new StringContent(huge.ToJsonString(), Encoding.UTF8, "application/json") };
        hugeRequest.Headers.ExpectContinue = true;
        using var tooLarge = await _http.SendAsync(hugeRequest);
        using var health = await _http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notReview.StatusCode);
        Assert.Contains("not an admission.k8s.io/v1 AdmissionReview", await notReview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noUid.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Reload_PolicyFileWithErrors_RefusedAndPreviousPolicyKept()
    {
        var (signed, _) = await SignedAndUnsignedAsync("reload");
        await AddPolicyAsync("reload", KeylessPolicy("reload", $"{_lab.Registry}/reload/**"));
        var before = await ValidateAsync(Review("Pod", "", PodSpec(containers: [signed])));
        var generation = await PolicyDescriptionAsync();

        var broken = Path.Combine(_system["ADMISSION_POLICIES"], "broken.yaml");
        await File.WriteAllTextAsync(broken, "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: broken}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: fail}}]\n  policy: {type: rego, data: x}\n");
        try
        {
            await WaitForLogAsync("Policies in", "broken.yaml");
            var after = await ValidateAsync(Review("Pod", "", PodSpec(containers: [signed])));

            Assert.True(before["response"]!["allowed"]!.GetValue<bool>(), before.ToJsonString());
            Assert.True(after["response"]!["allowed"]!.GetValue<bool>(), after.ToJsonString());
            Assert.Equal(generation, await PolicyDescriptionAsync());
            Assert.Contains("no CUE or Rego evaluator", await File.ReadAllTextAsync(AdmissionLog), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public async Task Validate_RepeatedDigest_CachedAndRecordedWithMetrics()
    {
        var (signed, _) = await SignedAndUnsignedAsync("cache");
        await AddPolicyAsync("cache", KeylessPolicy("cache", $"{_lab.Registry}/cache/**"));
        var first = Review("Pod", "", PodSpec(containers: [signed]));
        var second = Review("Pod", "", PodSpec(containers: [signed, signed, signed]));

        await ValidateAsync(first);
        await ValidateAsync(second);
        var uid = second["request"]!["uid"]!.GetValue<string>();
        var line = await WaitForLogAsync(uid, "\"cacheHit\":true");
        using var metrics = await _http.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();

        Assert.Contains("\"user\":\"kubernetes-admin\"", line, StringComparison.Ordinal);
        Assert.Contains("\"authority\":\"ci\"", line, StringComparison.Ordinal);
        Assert.Contains($"\"signer\":\"{TlogRunner.Alice}\"", line, StringComparison.Ordinal);
        Assert.Contains("imagepolicy_reviews_total{endpoint=\"validate\",verdict=\"allowed\"}", text, StringComparison.Ordinal);
        Assert.Contains("imagepolicy_review_duration_seconds_bucket{endpoint=\"validate\",verdict=\"allowed\"", text, StringComparison.Ordinal);
    }

    // ---- helpers ----

    /// <summary>Kind, API group and where the pod spec is (admission-policy §2).</summary>
    private static readonly (string Kind, string Group, string PodSpec)[] Kinds =
    [
        ("Pod", "", "/spec"),
        ("Deployment", "apps", "/spec/template/spec"),
        ("ReplicaSet", "apps", "/spec/template/spec"),
        ("StatefulSet", "apps", "/spec/template/spec"),
        ("DaemonSet", "apps", "/spec/template/spec"),
        ("Job", "batch", "/spec/template/spec"),
        ("CronJob", "batch", "/spec/jobTemplate/spec/template/spec"),
        ("ReplicationController", "", "/spec/template/spec"),
    ];

    private string AdmissionLog => Path.Combine(_system.DataDirectory, "logs", "admission.log");

    private async Task<(string Signed, string Unsigned)> SignedAndUnsignedAsync(string repository)
    {
        var signed = await _lab.PushImageAsync($"{repository}/signed:1.0");
        var unsigned = await _lab.PushImageAsync($"{repository}/unsigned:1.0");
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/{repository}/signed@{signed}", "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"],
            "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"]);
        return ($"{_lab.Registry}/{repository}/signed@{signed}", $"{_lab.Registry}/{repository}/unsigned@{unsigned}");
    }

    private string KeylessPolicy(string name, string glob, string mode = "enforce", string? identity = null, string attestations = "") =>
        $"""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {"{"}name: {name}{"}"}
        spec:
          mode: {mode}
          images: [{"{"}glob: "{glob}"{"}"}]
          authorities:
          - name: ci
            keyless:
              identities:
              - {identity ?? $"{{issuer: \"{Issuer}\", subject: \"{TlogRunner.Alice}\"}}"}
        {attestations}
        """;

    private static string Attestation(string type, string condition) =>
        $"    attestations:\n    - name: gate\n      predicateType: {type}\n      policy: {{type: cel, data: \"{condition}\"}}";

    /// <summary>Writes a policy file and waits until the webhook has loaded it.</summary>
    private async Task AddPolicyAsync(string name, string yaml)
    {
        var before = await PolicyDescriptionAsync();
        var path = Path.Combine(_system["ADMISSION_POLICIES"], name + ".yaml");
        await File.WriteAllTextAsync(path, yaml);
        _policyFiles.Add(path);
        await WaitForPolicyChangeAsync(before);
    }

    private async Task RemovePolicyAsync(string name)
    {
        var before = await PolicyDescriptionAsync();
        File.Delete(Path.Combine(_system["ADMISSION_POLICIES"], name + ".yaml"));
        await WaitForPolicyChangeAsync(before);
    }

    private async Task WaitForPolicyChangeAsync(string before)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await PolicyDescriptionAsync() != before)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"the webhook did not load the new policies:\n{await File.ReadAllTextAsync(AdmissionLog)}");
    }

    /// <summary>The readiness description of the policy check: count and generation of the set in force.</summary>
    private async Task<string> PolicyDescriptionAsync()
    {
        var ready = JsonNode.Parse(await _http.GetStringAsync("/readyz"))!;
        return ready["checks"]!["policies"]!["description"]!.GetValue<string>();
    }

    private async Task<string> WaitForLogAsync(string first, string second)
    {
        for (var i = 0; i < 100; i++)
        {
            if (File.Exists(AdmissionLog))
            {
                using var stream = new FileStream(AdmissionLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                var lines = (await reader.ReadToEndAsync()).Split('\n');
                if (lines.FirstOrDefault(l => l.Contains(first, StringComparison.Ordinal) && l.Contains(second, StringComparison.Ordinal)) is { } line)
                {
                    return line;
                }
            }

            await Task.Delay(200);
        }

        Assert.Fail($"no log line with '{first}' and '{second}' in {AdmissionLog}");
        return string.Empty;
    }

    private static JsonObject PodSpec(string[] containers, string[]? init = null, string[]? ephemeral = null)
    {
        static JsonArray List(string prefix, string[] images) =>
            new([.. images.Select((image, i) => (JsonNode)new JsonObject { ["name"] = $"{prefix}{i}", ["image"] = image, ["imagePullPolicy"] = "IfNotPresent" })]);
        var spec = new JsonObject { ["containers"] = List("c", containers), ["serviceAccountName"] = "default" };
        if (init is not null)
        {
            spec["initContainers"] = List("i", init);
        }

        if (ephemeral is not null)
        {
            spec["ephemeralContainers"] = List("e", ephemeral);
        }

        return spec;
    }

    /// <summary>An AdmissionReview v1 CREATE as the API server sends it, with the pod spec where <paramref name="kind"/> keeps it.</summary>
    private static JsonObject Review(string kind, string group, JsonObject podSpec)
    {
        JsonObject Template() => new() { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "web" } }, ["spec"] = podSpec };
        JsonObject spec = kind switch
        {
            "Pod" => podSpec,
            "CronJob" => new JsonObject { ["schedule"] = "*/5 * * * *", ["jobTemplate"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = Template() } } },
            _ => new JsonObject { ["replicas"] = 2, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "web" } }, ["template"] = Template() },
        };
        var version = "v1";
        var resource = Interop(kind);
        return new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = Guid.NewGuid().ToString(),
                ["kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
                ["resource"] = new JsonObject { ["group"] = group, ["version"] = version, ["resource"] = resource },
                ["requestKind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
                ["requestResource"] = new JsonObject { ["group"] = group, ["version"] = version, ["resource"] = resource },
                ["name"] = "web",
                ["namespace"] = "prod",
                ["operation"] = "CREATE",
                ["userInfo"] = new JsonObject { ["username"] = "kubernetes-admin", ["groups"] = new JsonArray("system:masters", "system:authenticated") },
                ["object"] = new JsonObject
                {
                    ["apiVersion"] = group.Length == 0 ? version : $"{group}/{version}",
                    ["kind"] = kind,
                    ["metadata"] = new JsonObject { ["name"] = "web", ["namespace"] = "prod" },
                    ["spec"] = spec,
                },
                ["oldObject"] = null,
                ["dryRun"] = false,
                ["options"] = new JsonObject { ["apiVersion"] = "meta.k8s.io/v1", ["kind"] = "CreateOptions" },
            },
        };
    }

    private static string Interop(string kind) => kind switch
    {
        "Pod" => "pods",
        "ReplicationController" => "replicationcontrollers",
        _ => kind.ToLowerInvariant() + "s",
    };

    private Task<JsonObject> ValidateAsync(JsonObject review) => PostAsync("/validate", review);

    private async Task<JsonObject> PostAsync(string path, JsonObject review)
    {
        using var content = new StringContent(review.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {body}");
        var answer = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("admission.k8s.io/v1", answer["apiVersion"]!.GetValue<string>());
        Assert.Equal(review["request"]!["uid"]!.GetValue<string>(), answer["response"]!["uid"]!.GetValue<string>());
        return answer;
    }

    private static string Denial(JsonObject answer)
    {
        Assert.False(answer["response"]!["allowed"]!.GetValue<bool>(), answer.ToJsonString());
        return answer["response"]!["status"]!["message"]!.GetValue<string>();
    }

    public void Dispose()
    {
        foreach (var file in _policyFiles)
        {
            File.Delete(file);
        }

        _http.Dispose();
        _tlog.Dispose();
        _lab.Dispose();
    }
}
