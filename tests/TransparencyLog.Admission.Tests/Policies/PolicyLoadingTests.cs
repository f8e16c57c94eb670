using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Policy.Documents;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>ClusterImagePolicy and TrustRoot YAML as policy-controller users write them; what cannot be enforced is refused at load.</summary>
public sealed class PolicyLoadingTests
{
    private static readonly string s_publicKey = Indent(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfoPem(), 8);

    private static PolicySet Load(string yaml) => PolicySet.Load([("policy.yaml", yaml)]);

    /// <summary>Loads <paramref name="yaml"/>, which must be refused; the refusal, for its field and message.</summary>
    private static PolicyLoadException Refused(string yaml) => Assert.Throws<PolicyLoadException>(() => Load(yaml));

    private static string Indent(string text, int spaces) =>
        string.Join("\n", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => new string(' ', spaces) + l));

    [Fact]
    public void Load_EveryAuthorityKindInBothVersions_ReadsFields()
    {
        var set = Load($$$"""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata:
              name: keyless
              annotations: {transparencylog.dev/verification-level: permissive}
            spec:
              mode: warn
              images: [{glob: "registry.example:5000/apps/**"}]
              authorities:
              - name: ci
                keyless:
                  identities:
                  - {issuer: "https://issuer.example", subject: "ci@example.com"}
                  - {issuerRegExp: "https://.*\\.example", subjectRegExp: ".*@example\\.com"}
                  trustRootRef: ours
                  insecureIgnoreSCT: true
                ctlog: {url: "https://rekor.example", trustRootRef: ours}
                attestations:
                - name: provenance
                  predicateType: slsaprovenance1
                  policy: {type: cel, data: "predicate.builder.id == 'https://ci.example'"}
            ---
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: ClusterImagePolicy
            metadata: {name: keyed, generation: 7}
            spec:
              images: [{glob: "*"}]
              match:
              - resource: pods
                selector: {matchLabels: {team: a} }
              authorities:
              - key:
                  hashAlgorithm: sha384
                  data: |
            {{{s_publicKey}}}
              - rfc3161timestamp: {trustRootRef: ours}
                keyless: {url: "https://fulcio.example", identities: [{issuer: i, subject: s}]}
              - static: {action: fail, message: nope}
            ---
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: TrustRoot
            metadata: {name: ours}
            spec:
              sigstoreKeys:
                certificateAuthorities:
                - subject: {organization: tlog, commonName: root}
                  uri: https://fulcio.example
                  certChain: {{{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(SelfSignedPem()))}}}
                tLogs:
                - baseURL: https://rekor.example
                  hashAlgorithm: sha-256
                  publicKey: {{{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfoPem()))}}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: config-policy-controller}
            data: {no-match-policy: warn}
            """);

        var keyless = set.Policies[0];
        Assert.Equal(PolicyMode.Warn, keyless.Mode);
        Assert.Equal(VerificationLevel.Permissive, keyless.Level);
        Assert.Equal("ci", keyless.Authorities[0].Name);
        Assert.Equal(2, keyless.Authorities[0].Keyless!.Identities.Count);
        Assert.True(keyless.Authorities[0].Keyless!.InsecureIgnoreSct);
        Assert.Equal("ours", keyless.Authorities[0].Ctlog!.TrustRootRef);
        Assert.Equal("https://slsa.dev/provenance/v1", keyless.Authorities[0].Attestations[0].PredicateType);
        Assert.NotNull(keyless.Authorities[0].Attestations[0].Condition);

        var keyed = set.Policies[1];
        Assert.Equal(7, keyed.Generation);
        Assert.Equal(PolicyMode.Enforce, keyed.Mode);
        Assert.Equal(VerificationLevel.Strict, keyed.Level);
        Assert.Equal(["authority-0", "authority-1", "authority-2"], keyed.Authorities.Select(static a => a.Name));
        Assert.Equal("sha384", keyed.Authorities[0].Key!.HashAlgorithm);
        Assert.Equal("ours", keyed.Authorities[1].TimestampTrustRootRef);
        Assert.False(keyed.Authorities[2].Static!.Pass);
        Assert.Equal("a", keyed.Match[0].Labels["team"]);

        Assert.Single(set.TrustRoots["ours"].Root.CertificateAuthorities);
        Assert.Single(set.TrustRoots["ours"].Root.Tlogs);
        Assert.Equal(NoMatchPolicy.Warn, set.NoMatch);
    }

    [Theory]
    [InlineData("cue", "no CUE or Rego evaluator")]
    [InlineData("rego", "no CUE or Rego evaluator")]
    public void Load_CueOrRegoAttestationPolicy_RefusedWithReason(string type, string reason)
    {
        var error = Refused($$$"""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: p}
            spec:
              images: [{glob: "**"}]
              authorities:
              - keyless:
                  identities: [{issuer: i, subject: s}]
                attestations:
                - {name: a, predicateType: vuln, policy: {type: {{{type}}}, data: "predicate: {}"}}
            """);

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal("spec.authorities[0].attestations[0].policy", error.Field);
    }

    [Theory]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  policy: {type: rego, data: x}\n  authorities: [{static: {action: pass}}]", "spec.policy", "no CUE or Rego evaluator")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: []", "spec.authorities", "must not be empty")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: maybe}}]", "spec.authorities[0].static.action", "not pass or fail")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i}]}}]", "spec.authorities[0].keyless.identities[0]", "subject")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {url: u, ca-cert: {data: x}, identities: [{issuer: i, subject: s}]}}]", "spec.authorities[0].keyless", "not both")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subjectRegExp: \"(\"}]}}]", "spec.authorities[0].keyless.identities[0]", "regular expression")]
    [InlineData("spec:\n  images: [{glob: \"bad glob!\"}]\n  authorities: [{static: {action: pass}}]", "spec.images[0].glob", "not a glob")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{key: {kms: \"awskms://x\"}}]", "spec.authorities[0].key", "not supported")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}, keyless: {identities: [{issuer: i, subject: s}]}}]", "spec.authorities[0]", "exactly one")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}], trustRootRef: missing}}]", "spec.authorities[0]", "names no TrustRoot")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  mode: audit\n  authorities: [{static: {action: pass}}]", "spec.mode", "not enforce or warn")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}}]\n  typo: 1", "spec.typo", "unknown field")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, attestations: [{name: a, predicateType: vuln, policy: {type: cel, data: \"predicate.(\"}}]}]", "spec.authorities[0].attestations[0].policy.data", "not a valid CEL expression")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: \"registry.example/sigs:v1\"}]}]", "spec.authorities[0].source[0].oci", "without a tag or digest")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: \"registry.example/Sigs\"}]}]", "spec.authorities[0].source[0].oci", "not a valid image reference")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: \"registry.example/sigs\", signaturePullSecrets: [{name: \"../etc\"}]}]}]", "spec.authorities[0].source[0].signaturePullSecrets[0].name", "not a Secret name")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: \"registry.example/sigs\", signaturePullSecrets: [{name: Regcred}]}]}]", "spec.authorities[0].source[0].signaturePullSecrets[0].name", "not a Secret name")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: \"registry.example/sigs\", signaturePullSecrets: [{name: a}, {name: a}]}]}]", "spec.authorities[0].source[0].signaturePullSecrets[1].name", "named twice")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: \"registry.example/sigs\", signaturePullSecrets: [{name: a, namespace: b}]}]}]", "spec.authorities[0].source[0].signaturePullSecrets[0].namespace", "unknown field")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{signaturePullSecrets: [regcred]}]}]", "spec.authorities[0].source[0].signaturePullSecrets[0]", "must be a mapping")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{signaturePullSecrets: [{}]}]}]", "spec.authorities[0].source[0].signaturePullSecrets[0].name", "required")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{signaturePullSecrets: [{name: s1}, {name: s2}, {name: s3}, {name: s4}, {name: s5}, {name: s6}, {name: s7}, {name: s8}, {name: s9}, {name: s10}, {name: s11}, {name: s12}, {name: s13}, {name: s14}, {name: s15}, {name: s16}, {name: s17}]}]}]", "spec.authorities[0].source[0].signaturePullSecrets", "at most 16")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}, source: [{signaturePullSecrets: [{name: a}]}]}]", "spec.authorities[0]", "takes no")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{oci: a.example/x}, {oci: b.example/y}]}]", "spec.authorities[0].source", "at most 1")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{keyless: {identities: [{issuer: i, subject: s}]}, source: [{}]}]", "spec.authorities[0].source[0].oci", "required")]
    [InlineData("spec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: pass}, source: [{oci: a.example/x}]}]", "spec.authorities[0]", "takes no")]
    public void Load_InvalidPolicy_RefusedWithFieldPath(string spec, string field, string reason)
    {
        var error = Refused("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\n" + spec);

        Assert.Equal(field, error.Field);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A scalar or list where the reader indexes a mapping: JsonNode's indexer refuses, and the loader turns that into
    /// its clear error. Recognised without reflection, so this holds under Native AOT too (Exception.TargetSite is null there).
    /// </summary>
    [Theory]
    [InlineData("metadata: p\nspec: {images: [{glob: \"**\"}], authorities: [{static: {action: pass}}]}")]
    [InlineData("metadata: [p]\nspec: {images: [{glob: \"**\"}], authorities: [{static: {action: pass}}]}")]
    [InlineData("metadata: {name: p}\nspec: {images: [\"**\"], authorities: [{static: {action: pass}}]}")]
    public void Load_NodeOfAnotherKind_RefusedWithClearError(string body)
    {
        var error = Refused("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\n" + body);

        Assert.Equal(string.Empty, error.Field);
        Assert.Contains("a field is a mapping, list or scalar where the schema expects another", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A mapping where a scalar belongs: refused with the field's path.</summary>
    [Theory]
    [InlineData("spec: {images: [{glob: {pattern: \"**\"}}], authorities: [{static: {action: pass}}]}", "spec.images[0].glob")]
    [InlineData("spec: {images: [{glob: \"**\"}], authorities: [{static: {action: {value: pass}}}]}", "spec.authorities[0].static.action")]
    public void Load_MappingWhereAScalarBelongs_RefusedWithFieldPath(string spec, string field)
    {
        var error = Refused("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\n" + spec);

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void JsonNodeTypeError_OtherInvalidOperationException_NotRecognised()
    {
        Assert.False(JsonNodeTypeError.Is(new InvalidOperationException("Sequence contains no elements")));
    }

    [Theory]
    [InlineData("sha224", "no SHA-224 signature verification")]
    [InlineData("md5", "not sha256, sha384 or sha512")]
    public void Load_KeyHashAlgorithmNotVerifiable_RefusedAtLoad(string hash, string reason)
    {
        var error = Refused(KeyPolicy(s_publicKey, $"hashAlgorithm: {hash}"));

        Assert.Equal("spec.authorities[0].key.hashAlgorithm", error.Field);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Ed25519KeyWithHashAlgorithm_RefusedAtLoad()
    {
        var ed25519 = Indent("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----", 8);

        var refused = Refused(KeyPolicy(ed25519, "hashAlgorithm: sha512"));
        var plain = Load(KeyPolicy(ed25519, string.Empty));

        Assert.Equal("spec.authorities[0].key.hashAlgorithm", refused.Field);
        Assert.Contains("Ed25519", refused.Message, StringComparison.Ordinal);
        Assert.Null(plain.Policies[0].Authorities[0].Key!.HashAlgorithm);
    }

    [Theory]
    [InlineData("", TransparencyLog.Sigstore.Oci.SignatureFormat.Legacy)]
    [InlineData("signatureFormat: legacy", TransparencyLog.Sigstore.Oci.SignatureFormat.Legacy)]
    [InlineData("signatureFormat: bundle", TransparencyLog.Sigstore.Oci.SignatureFormat.Bundle)]
    public void Load_SignatureFormat_DefaultsToLegacyAsPolicyController(string field, TransparencyLog.Sigstore.Oci.SignatureFormat expected)
    {
        var set = Load($"apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {{name: p}}\nspec:\n  images: [{{glob: \"**\"}}]\n  authorities:\n  - keyless: {{identities: [{{issuer: i, subject: s}}]}}\n    {field}\n");

        Assert.Equal(expected, set.Policies[0].Authorities[0].SignatureFormat);
    }

    [Theory]
    [InlineData("keyless: {identities: [{issuer: i, subject: s}]}", "registry.example:5000/signatures/app", "registry.example:5000/signatures/app")]
    [InlineData("keyless: {identities: [{issuer: i, subject: s}]}", "signatures", "index.docker.io/library/signatures")]
    [InlineData("key: {data: \"-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\\n-----END PUBLIC KEY-----\"}", "localhost:5000/sigs", "localhost:5000/sigs")]
    public void Load_Source_ReadsTheSignatureRepository(string authority, string oci, string repository)
    {
        var set = Load($"apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {{name: p}}\nspec:\n  images: [{{glob: \"**\"}}]\n  authorities:\n  - {authority}\n    source: [{{oci: \"{oci}\"}}]\n");

        var loaded = set.Policies[0].Authorities[0].SignatureRepository;

        Assert.Equal(repository, loaded!.RepositoryName);
        Assert.Null(loaded.Tag);
    }

    [Theory]
    [InlineData("[{oci: \"registry.example/sigs\", signaturePullSecrets: [{name: regcred}, {name: sig.creds-2}]}]", "registry.example/sigs")]
    [InlineData("[{signaturePullSecrets: [{name: regcred}, {name: sig.creds-2}]}]", null)]
    public void Load_SignaturePullSecrets_ReadsTheSecretNames(string source, string? repository)
    {
        var set = Load($"apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {{name: p}}\nspec:\n  images: [{{glob: \"**\"}}]\n  authorities:\n  - keyless: {{identities: [{{issuer: i, subject: s}}]}}\n    source: {source}\n");

        var authority = set.Policies[0].Authorities[0];

        Assert.Equal(["regcred", "sig.creds-2"], authority.SignaturePullSecrets);
        Assert.Equal(repository, authority.SignatureRepository?.RepositoryName);
    }

    [Theory]
    [InlineData("{url: \"https://other.example\", trustRootRef: ours}", "names no transparency log of TrustRoot 'ours' (its logs: https://rekor.example/)")]
    [InlineData("{url: \"ftp://rekor.example\"}", "is not an http(s) URL")]
    public void Load_CtlogUrlNotALogOfTheTrustRoot_RefusedAtLoad(string ctlog, string reason)
    {
        var error = Refused($$$"""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: p}
            spec:
              images: [{glob: "**"}]
              authorities:
              - keyless: {identities: [{issuer: i, subject: s}]}
                ctlog: {{{ctlog}}}
            ---
            {{{TrustRootWithLog("https://rekor.example/")}}}
            """);

        Assert.Equal("spec.authorities[0].ctlog.url", error.Field);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckTlogUrls_DefaultRootWithoutThatLog_Refused()
    {
        var set = Load("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities:\n  - keyless: {identities: [{issuer: i, subject: s}]}\n    ctlog: {url: \"https://rekor.example\"}\n");
        var withLog = Load(TrustRootWithLog("https://REKOR.example/")).TrustRoots["ours"].Root;

        var error = Assert.Throws<PolicyLoadException>(() => set.CheckTlogUrls(TransparencyLog.Sigstore.TrustRoot.TrustedRoot.Empty));
        set.CheckTlogUrls(withLog);

        Assert.Contains("the default trusted root", error.Message, StringComparison.Ordinal);
    }

    private static string KeyPolicy(string indentedKey, string extra) =>
        $"apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {{name: p}}\nspec:\n  images: [{{glob: \"**\"}}]\n  authorities:\n  - key:\n      {extra}\n      data: |\n{indentedKey}\n";

    private static string TrustRootWithLog(string baseUrl) =>
        "apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: ours}\nspec:\n  sigstoreKeys:\n    certificateAuthorities:\n" +
        $"    - certChain: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(SelfSignedPem()))}\n" +
        $"    tLogs:\n    - baseURL: {baseUrl}\n      hashAlgorithm: sha-256\n" +
        $"      publicKey: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfoPem()))}\n";

    [Theory]
    [InlineData("kind: Deployment\napiVersion: apps/v1", "kind")]
    [InlineData("apiVersion: policy.sigstore.dev/v2\nkind: ClusterImagePolicy\nmetadata: {name: p}", "apiVersion")]
    [InlineData("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {remote: {mirror: https://tuf.example, root: eA==}}", "spec.remote.root")]
    [InlineData("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {remote: {mirror: \"file:///etc\", root: eA==}}", "spec.remote.mirror")]
    [InlineData("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {repository: {root: eA==, mirrorFS: eA==}}", "spec.repository.root")]
    [InlineData("a: [unclosed", "line 2")]
    [InlineData("- just\n- a list", "")]
    public void Load_NotAPolicyDocument_Refused(string yaml, string field)
    {
        var error = Refused(yaml);

        Assert.Equal(field, error.Field);
        Assert.StartsWith("policy.yaml", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Inputs the image-policy fuzz target found escaping as other exceptions (docs/reliability.md).</summary>
    [Theory]
    [InlineData("YXBpVmVyc2lvbjogcG9saWN5LnNpZ3N0b3JlLmRldi92MWFscGhhMQpraW5kOiBUcnVzdFJvb3QKbWV0YWRhdGE6IHtuYW1lOiByfQpzcGVjOgogIHJabW90ZToge21pcnJvcjogImh0dHBzOi8vdHVmLmV4YW1wbGUiLCByb290OiBleUp6YVdkdVpXUWlPbnQ5ZlE9PX0KLS0tCmFwaVZlcnNpb246IHBvbGljeS5zaWdzdG9yZS5kZXYvdjFiZXRhMQpraW5kOiBDbHVzdGVySW1hZ2VQb2xpY3kKbWV0YWRhdGE6IHtuYW1lOiBwfQpzcGVjOgogIGltYWdXUWlPbnQ5ZlE9PX0KLS0tCmFwaSBhdRBob3JpdGllczogW3trZXlsZXNzOiB7aWRlbnRpdGl0ZXJJbWFnZVBvbGljeQptZXRhZGF0ZXM6IFt7aXNzdWVyOiBpLCBzdWJqZWN0OiBzfV0sIHRydXN0Um9vdFJlZjogcn19XQo=", "")]
    [InlineData("YXBpVmVyc2lvbjogcG9saWN5LnNpZ3N0b3JlLmRldi92MWFscGhhMQpraW5kOiBUcnVzdFJvb3QKbWV0YWRhdGE6IHtuYW1lOiByfQpzcGVjOiB7cmVtb3RlOiB7bWlycm9yOiAiaHR0cHM6Ly90dWYuZXhhbXBsZSIsIHJvb3Q6IGV5SnphV2R1WldRaU9uc2lYM1I1Y0dVaU9pTC9JbjE5fX0K", "spec.remote.root")]
    [InlineData("YXBpVmVyc2lvbjogcG9saWN5LnNpZ3N0b3JlLmRldi92MWJldGExCmtpbmQ6IENsdXN0ZXJJbWFnZVBvbGljeQptZXRhZGF0YToge25hbWU6IHB9CnNwZWM6CiAgaW1hZ2VzOiBbe2dsb2I6ICIqKiJ9XQogIGF1dGhvcml0aWVzOgogIC0ga2V5OgogICAgICBoYXNoQWxnb3JpdGhtOiBzaGEzODQKICAgICAgZGF0YTogfAogICAgICAgIC0tLS0tQkVHSU4gUFVCTElDIEtFWS0tLS0tCiAgICAgICAgTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFReURRZ0FFZmRTOAogICAgICAgIC0tLS0tRU5EIFBVQkxJQyBLRVktLS0tLQo=", "spec.authorities[0].key.data")]
    [InlineData("YXBpVmUQc2lvbjogcG9saWN5LnNpZ3N0b3JlLmRldi92MWJldGExCmtpbmQ6IENsdXN0ZXJJbWFnZVBvbGljeQptZXRhZGF0YToge25hbWU6IGtleWxlc3MsIGFubm90YXRpb25zOiB7dHJhbnNwYXJlbmN5bG9nLmRldi92ZXJpZmljYXRpb24tbGV2ZWw6IHBlcm1pc3NpdmV9fQpzcGVjOgogIG1vZGU6IHdhcm4KICBpbWFnZXM6IFt7Z2xvYjogInJlZ2lzdHJ5LmV4YW1wbGUvKioifV0KICD//3RjaDogW3tyZXNvdXJjZTogcG9kcywgc2VsZWN0b3I6IHttYXRjaExhYmVsczoge3RlYW06IGF9fX1dCiAgYXV0aG9yaXRpZXM6CiAgLSBuYW1lOiBjaQogICAgc2lnbmF0dXJlRm9ybWF0OiBidW5kbGUKICAgIGtleWxlc3M6CiAgICAgIGlkZW50aXRpZXM6IFt7aXNzdWVyOiAiaHR0cHM6Ly9pc3N1ZXIuZXhhbXBsZSIsIHN1YmplY3RSZWdFeHA6ICIuKkBleGFtcGxlXFwuY29tIn1dCiAgICBjdGxvZzoge3VybDogImh0dHBzOi8vcmVrb3IuZXhhbXBsZSJ9CiAgICBhdHRlc3RhdGlvbnM6CiAgICAtIDogQ2x1c3RlckltYWdlUG9saWN5Cm17bmFtY2F0ZVR5cGU6IHZ1bG4sIHBvbGljeToge3R5cGU6IGNlbCwgZGF0YTogInByZWRpY2F0ZS5jcml0aWNhbCA9PSAwIn19Cg==", "")]
    [InlineData("YXBpVmVyc2lvbjogcG9saWN5LnNpZ3N0b3JlLmRldi92MWJldGExCmtpbmQ6IENsdXN0ZXJJbWFnZVBvbGljeQptZXRhZGF0YTogjG5hbWU6YXB/VmVyc2lvbjqgcG9saWMBLnNpZ3N0b3JlLmRldg==", "")]
    public void Load_FuzzFinding_RefusedAsPolicyError(string base64, string field)
    {
        var error = Refused(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64)));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Load_ChangedPolicy_ChangesGenerationButNotTrustRootGeneration()
    {
        const string policy = "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: \"**\"}]\n  authorities: [{static: {action: ACTION}}]";

        var first = Load(policy.Replace("ACTION", "pass", StringComparison.Ordinal));
        var again = Load(policy.Replace("ACTION", "pass", StringComparison.Ordinal));
        var changed = Load(policy.Replace("ACTION", "fail", StringComparison.Ordinal));

        Assert.Equal(first.PolicyGeneration, again.PolicyGeneration);
        Assert.NotEqual(first.PolicyGeneration, changed.PolicyGeneration);
        Assert.Equal(first.TrustRootGeneration, changed.TrustRootGeneration);
    }

    private static string SelfSignedPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=root", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }
}
