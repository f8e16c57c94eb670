using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Policy.Documents;
using YamlDotNet.RepresentationModel;

namespace TransparencyLog.Admission.Tests.Docs;

/// <summary>Every YAML block of docs/admission.md parses and carries the fields its kind requires (admission-policy §1.2, §3, §4).</summary>
public sealed partial class AdmissionDocsTests
{
    private static readonly IReadOnlyList<YamlMappingNode> s_documents = LoadDocuments();

    [GeneratedRegex("```yaml\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    private static IReadOnlyList<YamlMappingNode> LoadDocuments()
    {
        var markdown = File.ReadAllText(Path.Combine(Repository.Root, "docs", "admission.md"));
        var documents = new List<YamlMappingNode>();
        foreach (Match block in YamlBlock().Matches(markdown))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(block.Groups[1].Value));
            documents.AddRange(stream.Documents.Select(static d => (YamlMappingNode)d.RootNode));
        }

        return documents;
    }

    private static IEnumerable<YamlMappingNode> OfKind(string kind) =>
        s_documents.Where(d => d.Children.TryGetValue(new YamlScalarNode("kind"), out var k) && k.ToString() == kind);

    private static YamlNode At(YamlNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => ((YamlMappingNode)current).Children[new YamlScalarNode(key)]);

    private static bool Has(YamlNode node, string key) => node is YamlMappingNode m && m.Children.ContainsKey(new YamlScalarNode(key));

    [Fact]
    public void WebhookConfigurations_BothKinds_ValidAdmissionRegistrationV1()
    {
        var configurations = OfKind("MutatingWebhookConfiguration").Concat(OfKind("ValidatingWebhookConfiguration")).ToList();

        Assert.Equal(2, configurations.Count);
        foreach (var configuration in configurations)
        {
            Assert.Equal("admissionregistration.k8s.io/v1", At(configuration, "apiVersion").ToString());
            var mutating = At(configuration, "kind").ToString() == "MutatingWebhookConfiguration";
            foreach (var webhook in ((YamlSequenceNode)At(configuration, "webhooks")).Children)
            {
                Assert.Contains("v1", ((YamlSequenceNode)At(webhook, "admissionReviewVersions")).Children.Select(static c => c.ToString()));
                Assert.Equal(mutating ? "/mutate" : "/validate", At(webhook, "clientConfig", "service", "path").ToString());
                Assert.True(Has(At(webhook, "clientConfig"), "caBundle"));
                Assert.Contains(At(webhook, "sideEffects").ToString(), new[] { "None", "NoneOnDryRun" });
                Assert.Contains(At(webhook, "failurePolicy").ToString(), new[] { "Fail", "Ignore" });
                var timeout = int.Parse(At(webhook, "timeoutSeconds").ToString(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(timeout, 9, 30); // above the webhook's 8 s internal deadline
                Assert.Equal(mutating, Has(webhook, "reinvocationPolicy"));
                var resources = ((YamlSequenceNode)At(webhook, "rules")).Children.SelectMany(r => ((YamlSequenceNode)At(r, "resources")).Children.Select(static c => c.ToString())).ToHashSet();
                Assert.Superset(new HashSet<string> { "pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers" }, resources);
            }
        }
    }

    [Fact]
    public void WebhookConfigurations_NamespaceSelector_OnlyOptedInNamespacesReviewed()
    {
        var configurations = OfKind("MutatingWebhookConfiguration").Concat(OfKind("ValidatingWebhookConfiguration")).ToList();
        var optedIn = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "prod", ["policy.sigstore.dev/include"] = "true" };
        var unlabelled = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "dev" };
        var system = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "kube-system" };
        var optedOut = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "staging", ["policy.sigstore.dev/include"] = "false" };

        Assert.Equal(2, configurations.Count);
        foreach (var webhook in configurations.SelectMany(static c => ((YamlSequenceNode)At(c, "webhooks")).Children))
        {
            // The API server applies the selector as a Kubernetes label selector: the same rules ResourceMatch applies.
            var selector = (YamlMappingNode)At(webhook, "namespaceSelector");
            Assert.Subset(new HashSet<string> { "matchLabels", "matchExpressions" }, selector.Children.Keys.Select(static k => k.ToString()).ToHashSet());
            var labels = Has(selector, "matchLabels")
                ? ((YamlMappingNode)At(selector, "matchLabels")).Children.ToDictionary(static p => p.Key.ToString(), static p => p.Value.ToString())
                : new Dictionary<string, string>();
            var expressions = Has(selector, "matchExpressions")
                ? ((YamlSequenceNode)At(selector, "matchExpressions")).Children.Select(static e => new LabelExpression(
                    At(e, "key").ToString(), At(e, "operator").ToString(),
                    Has(e, "values") ? [.. ((YamlSequenceNode)At(e, "values")).Children.Select(static v => v.ToString())] : [])).ToList()
                : [];
            var match = new ResourceMatch(string.Empty, "v1", "pods", labels, expressions);

            Assert.Equal("true", labels["policy.sigstore.dev/include"]);
            Assert.True(match.Selects(optedIn));
            Assert.False(match.Selects(unlabelled));
            Assert.False(match.Selects(system));
            Assert.False(match.Selects(optedOut));
        }
    }

    [Fact]
    public void PolicyControllerDocuments_LoadInOurWebhookWithRealKeys()
    {
        var markdown = File.ReadAllText(Path.Combine(Repository.Root, "docs", "admission.md"));
        var yaml = string.Join("\n---\n", YamlBlock().Matches(markdown).Select(static m => m.Groups[1].Value)
            .Where(static b => b.Contains("policy.sigstore.dev/v1", StringComparison.Ordinal) || b.Contains("config-policy-controller", StringComparison.Ordinal)));
        var tufRoot = TufRootJson();
        yaml = yaml.Replace("CA_CHAIN_BASE64", Base64Pem(Certificate("CN=ca")), StringComparison.Ordinal)
            .Replace("TSA_CHAIN_BASE64", Base64Pem(Certificate("CN=tsa")), StringComparison.Ordinal)
            .Replace("REKOR_KEY_BASE64", Base64Pem(PublicKey()), StringComparison.Ordinal)
            .Replace("CT_KEY_BASE64", Base64Pem(PublicKey()), StringComparison.Ordinal)
            .Replace("TUF_ROOT_BASE64", Convert.ToBase64String(tufRoot), StringComparison.Ordinal)
            .Replace("TUF_REPOSITORY_TGZ_BASE64", RepositoryArchive(tufRoot), StringComparison.Ordinal);

        var set = PolicySet.Load([("docs/admission.md", yaml)]);

        Assert.Equal(["our-ci", "base-images", "transparencylog-keyless"], set.Policies.Select(static p => p.Name));
        Assert.Equal(VerificationLevel.Permissive, set.Policies[1].Level);
        Assert.Equal(PolicyMode.Warn, set.Policies[1].Mode);
        Assert.NotNull(set.Policies[0].Authorities[0].Attestations[0].Condition);
        var root = set.TrustRoots["transparencylog"].Root;
        Assert.Single(root.CertificateAuthorities);
        Assert.Single(root.Tlogs);
        Assert.Single(root.Ctlogs);
        Assert.Single(root.TimestampAuthorities);
        Assert.Equal(NoMatchPolicy.Deny, set.NoMatch);
        var remote = set.TrustRoots["transparencylog-tuf"].Tuf!;
        Assert.Equal(new Uri("https://rekor.example.com/tuf"), remote.Mirror);
        Assert.Equal(tufRoot, remote.InitialRoot);
        Assert.Equal(("targets", "trusted_root.json"), (remote.TargetsPath, remote.TrustedRootTarget));
        var airgap = set.TrustRoots["transparencylog-airgap"].Tuf!;
        Assert.Null(airgap.Mirror);
        Assert.Equal(tufRoot, airgap.InitialRoot);
        Assert.Equal(tufRoot, airgap.Files!["1.root.json"]);
    }

    [Fact]
    public void KyvernoTufValues_FeaturesTuf_PointAtOurMirrorWithTheRootInBase64()
    {
        var values = Assert.Single(s_documents, static d => Has(d, "features"));
        var tuf = (YamlMappingNode)At(values, "features", "tuf");

        Assert.Equal(["enabled", "mirror", "rootRaw"], tuf.Children.Keys.Select(static k => k.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal("true", At(tuf, "enabled").ToString());
        Assert.EndsWith("/tuf", At(tuf, "mirror").ToString(), StringComparison.Ordinal);
        Assert.Equal("TUF_ROOT_BASE64", At(tuf, "rootRaw").ToString());
    }

    /// <summary>A TUF root.json signed to its own threshold, as TUF_ROOT_JSON holds one.</summary>
    private static byte[] TufRootJson()
    {
        using var key = TransparencyLog.Sigstore.Keys.LogSigner.Generate(TransparencyLog.Sigstore.Keys.LogKeyType.EcdsaP256);
        var tufKey = TransparencyLog.Sigstore.Tuf.TufKey.FromPublicKey(key.PublicKey);
        var root = TransparencyLog.Sigstore.Tuf.TufRoot.Build(1, DateTimeOffset.UtcNow.AddDays(365), new[] { "root", "targets", "snapshot", "timestamp" }
            .ToDictionary(static r => r, r => ((IReadOnlyList<TransparencyLog.Sigstore.Tuf.TufKey>)[tufKey], 1)));
        root.SignAsync(key).AsTask().GetAwaiter().GetResult();
        return root.ToBytes();
    }

    /// <summary>base64 of repo.tgz as <c>tar -czf repo.tgz repository</c> makes it (here holding only the root).</summary>
    private static string RepositoryArchive(byte[] root)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Pax))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, "repository/"));
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "repository/1.root.json") { DataStream = new MemoryStream(root) });
        }

        return Convert.ToBase64String(output.ToArray());
    }

    [Fact]
    public void KyvernoPolicy_VerifyImagesFields_AsKyvernoV1Defines()
    {
        var policy = Assert.Single(OfKind("ClusterPolicy"));
        Assert.Equal("kyverno.io/v1", At(policy, "apiVersion").ToString());
        var allowedVerify = new HashSet<string> { "type", "imageReferences", "skipImageReferences", "attestors", "attestations", "mutateDigest", "verifyDigest", "required", "useCache", "imageRegistryCredentials", "failureAction" };
        var allowedKeyless = new HashSet<string> { "subject", "subjectRegExp", "issuer", "issuerRegExp", "roots", "additionalExtensions", "rekor", "ctlog" };

        foreach (var rule in ((YamlSequenceNode)At(policy, "spec", "rules")).Children)
        {
            foreach (var verify in ((YamlSequenceNode)At(rule, "verifyImages")).Children.Cast<YamlMappingNode>())
            {
                Assert.Subset(allowedVerify, verify.Children.Keys.Select(static k => k.ToString()).ToHashSet());
                Assert.Contains(At(verify, "type").ToString(), new[] { "Cosign", "SigstoreBundle", "Notary" });
                Assert.Contains(At(verify, "failureAction").ToString(), new[] { "Audit", "Enforce" });
                var entries = ((YamlSequenceNode)At(verify, "attestors")).Children
                    .Concat(((YamlSequenceNode)At(verify, "attestations")).Children.SelectMany(a => ((YamlSequenceNode)At(a, "attestors")).Children))
                    .SelectMany(a => ((YamlSequenceNode)At(a, "entries")).Children);
                foreach (var entry in entries)
                {
                    var keyless = (YamlMappingNode)At(entry, "keyless");
                    Assert.Subset(allowedKeyless, keyless.Children.Keys.Select(static k => k.ToString()).ToHashSet());
                    Assert.True(Has(keyless, "issuer") || Has(keyless, "issuerRegExp"));
                    Assert.True(Has(keyless, "subject") || Has(keyless, "subjectRegExp"));
                    Assert.Contains("BEGIN CERTIFICATE", At(keyless, "roots").ToString(), StringComparison.Ordinal);
                    Assert.StartsWith("https://", At(keyless, "rekor", "url").ToString(), StringComparison.Ordinal);
                }
            }
        }
    }

    private static string Base64Pem(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));

    private static string PublicKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    private static string Certificate(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return certificate.ExportCertificatePem();
    }
}
