using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Policy.Matching;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// Reads a ClusterImagePolicy as policy-controller validates it (admission-policy §3.3), refusing what we cannot
/// enforce (CUE/Rego bodies, KMS keys, secret references, relocated signatures) rather than ignoring it: a policy
/// that silently checks less than it says is worse than one that does not load.
/// </summary>
internal static class PolicyReader
{
    public const string LevelAnnotation = "transparencylog.dev/verification-level";
    public const int MaxAuthorities = 32;
    public const int MaxImages = 256;

    private static readonly HashSet<string> s_apiVersions = ["policy.sigstore.dev/v1alpha1", "policy.sigstore.dev/v1beta1"];
    private static readonly HashSet<string> s_specFields = ["images", "authorities", "mode", "match", "policy"];
    private static readonly HashSet<string> s_authorityFields = ["name", "key", "keyless", "static", "ctlog", "rfc3161timestamp", "source", "attestations", "signatureFormat"];
    private static readonly HashSet<string> s_resources = ["replicasets", "deployments", "pods", "cronjobs", "jobs", "statefulsets", "daemonsets", "replicationcontrollers"];

    public static ClusterImagePolicy ReadPolicy(JsonObject document, string origin)
    {
        var apiVersion = document["apiVersion"]?.ToString();
        if (apiVersion is null || !s_apiVersions.Contains(apiVersion))
        {
            throw new PolicyLoadException(origin, "apiVersion", $"'{apiVersion}' is not policy.sigstore.dev/v1alpha1 or v1beta1");
        }

        var name = document["metadata"]?["name"]?.ToString();
        if (string.IsNullOrEmpty(name) || name.Length > 253)
        {
            throw new PolicyLoadException(origin, "metadata.name", "required, at most 253 characters");
        }

        var where = $"{origin} ({name})";
        var generation = document["metadata"]?["generation"]?.ToString() is { } g
            ? long.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw new PolicyLoadException(where, "metadata.generation", "not a number")
            : 1;
        var level = document["metadata"]?["annotations"]?[LevelAnnotation]?.ToString() switch
        {
            null or "strict" => VerificationLevel.Strict,
            "permissive" => VerificationLevel.Permissive,
            "audit" => VerificationLevel.Audit,
            "skip" => VerificationLevel.Skip,
            var other => throw new PolicyLoadException(where, $"metadata.annotations.{LevelAnnotation}", $"'{other}' is not strict, permissive, audit or skip"),
        };

        var spec = document["spec"] as JsonObject ?? throw new PolicyLoadException(where, "spec", "required");
        Unknown(spec, s_specFields, where, "spec");
        if (spec["policy"] is JsonObject policy)
        {
            throw new PolicyLoadException(where, "spec.policy", Refusal(policy, "a ClusterImagePolicy-level policy"));
        }

        var images = Array(spec, "images", where, "spec", required: true, MaxImages)
            .Select((node, i) =>
            {
                var glob = node?["glob"]?.ToString() ?? throw new PolicyLoadException(where, $"spec.images[{i}].glob", "required");
                try
                {
                    return ImageGlob.Parse(glob);
                }
                catch (ArgumentException ex)
                {
                    throw new PolicyLoadException(where, $"spec.images[{i}].glob", ex.Message);
                }
            })
            .ToList();

        var mode = spec["mode"]?.ToString() switch
        {
            null or "enforce" => PolicyMode.Enforce,
            "warn" => PolicyMode.Warn,
            var other => throw new PolicyLoadException(where, "spec.mode", $"'{other}' is not enforce or warn"),
        };

        var match = Array(spec, "match", where, "spec", required: false, 32).Select((node, i) => ReadMatch(node, where, $"spec.match[{i}]")).ToList();
        var authorities = Array(spec, "authorities", where, "spec", required: true, MaxAuthorities)
            .Select((node, i) => ReadAuthority(node as JsonObject ?? throw new PolicyLoadException(where, $"spec.authorities[{i}]", "must be a mapping"), i, where))
            .ToList();
        if (authorities.Select(static a => a.Name).Distinct(StringComparer.Ordinal).Count() != authorities.Count)
        {
            throw new PolicyLoadException(where, "spec.authorities", "authority names must be unique");
        }

        return new ClusterImagePolicy(name, origin, generation, images, authorities, mode, level, match);
    }

    public static NoMatchPolicy ReadNoMatch(JsonObject document, string origin) =>
        document["data"]?["no-match-policy"]?.ToString() switch
        {
            null or "deny" => NoMatchPolicy.Deny,
            "allow" => NoMatchPolicy.Allow,
            "warn" => NoMatchPolicy.Warn,
            var other => throw new PolicyLoadException(origin, "data.no-match-policy", $"'{other}' is not deny, allow or warn"),
        };

    private static ResourceMatch ReadMatch(JsonNode? node, string where, string path)
    {
        var resource = node?["resource"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.resource", "required");
        if (!s_resources.Contains(resource))
        {
            throw new PolicyLoadException(where, $"{path}.resource", $"'{resource}' is not one of {string.Join(", ", s_resources.Order(StringComparer.Ordinal))}");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var expressions = new List<LabelExpression>();
        if (node["selector"] is JsonObject selector)
        {
            foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
            {
                labels[key] = value?.ToString() ?? string.Empty;
            }

            expressions.AddRange(Array(selector, "matchExpressions", where, $"{path}.selector", required: false, 32)
                .Select((e, i) => ReadExpression(e, where, $"{path}.selector.matchExpressions[{i}]")));
        }

        return new ResourceMatch(node["group"]?.ToString() ?? string.Empty, node["version"]?.ToString() ?? "v1", resource, labels, expressions);
    }

    /// <summary>As Kubernetes validates a label selector: In/NotIn need values, Exists/DoesNotExist take none.</summary>
    private static LabelExpression ReadExpression(JsonNode? node, string where, string path)
    {
        var key = node?["key"]?.ToString();
        if (string.IsNullOrEmpty(key) || key.Length > 317)
        {
            throw new PolicyLoadException(where, $"{path}.key", "required, at most 317 characters");
        }

        var op = node!["operator"]?.ToString();
        var values = (node["values"] as JsonArray ?? []).Select(static v => v?.ToString() ?? string.Empty).Take(256).ToList();
        return op switch
        {
            "In" or "NotIn" when values.Count == 0 => throw new PolicyLoadException(where, $"{path}.values", $"{op} needs at least one value"),
            "Exists" or "DoesNotExist" when values.Count > 0 => throw new PolicyLoadException(where, $"{path}.values", $"{op} takes no values"),
            "In" or "NotIn" or "Exists" or "DoesNotExist" => new LabelExpression(key, op, values),
            _ => throw new PolicyLoadException(where, $"{path}.operator", $"'{op}' is not In, NotIn, Exists or DoesNotExist"),
        };
    }

    private static Authority ReadAuthority(JsonObject node, int index, string where)
    {
        var path = $"spec.authorities[{index}]";
        Unknown(node, s_authorityFields, where, path);
        var name = node["name"]?.ToString() ?? $"authority-{index}";
        var kinds = new[] { "key", "keyless", "static" }.Where(node.ContainsKey).ToList();
        if (kinds.Count != 1)
        {
            throw new PolicyLoadException(where, path, "exactly one of key, keyless and static is required");
        }

        var (source, signaturePullSecrets) = ReadSource(node, where, path);

        var format = node["signatureFormat"]?.ToString() switch
        {
            null or "" or "legacy" => SignatureFormat.Legacy,
            "bundle" => SignatureFormat.Bundle,
            var other => throw new PolicyLoadException(where, $"{path}.signatureFormat", $"'{other}' is not legacy or bundle"),
        };

        var ctlog = node["ctlog"] is JsonObject c ? ReadTlog(c, where, $"{path}.ctlog") : null;
        var timestampRoot = node["rfc3161timestamp"] is JsonObject t
            ? t["trustRootRef"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.rfc3161timestamp.trustRootRef", "required")
            : null;
        var attestations = Array(node, "attestations", where, path, required: false, 32)
            .Select((a, i) => ReadAttestation(a, where, $"{path}.attestations[{i}]"))
            .ToList();

        if (node["static"] is JsonObject staticNode)
        {
            if (ctlog is not null || timestampRoot is not null || attestations.Count > 0 || source is not null || signaturePullSecrets.Count > 0)
            {
                throw new PolicyLoadException(where, path, "a static authority takes no ctlog, rfc3161timestamp, source or attestations");
            }

            var pass = staticNode["action"]?.ToString() switch
            {
                "pass" => true,
                "fail" => false,
                var other => throw new PolicyLoadException(where, $"{path}.static.action", $"'{other}' is not pass or fail"),
            };
            return new Authority(name, null, null, new StaticAuthority(pass, staticNode["message"]?.ToString()), null, null, null, attestations);
        }

        if (node["key"] is JsonObject key)
        {
            return new Authority(name, ReadKey(key, where, $"{path}.key"), null, null, ctlog, timestampRoot, source, attestations, format, signaturePullSecrets);
        }

        var keyless = node["keyless"] as JsonObject ?? throw new PolicyLoadException(where, $"{path}.keyless", "must be a mapping");
        return new Authority(name, null, ReadKeyless(keyless, where, $"{path}.keyless"), null, ctlog, timestampRoot, source, attestations, format, signaturePullSecrets);
    }

    /// <summary>The most <c>signaturePullSecrets</c> one source may name.</summary>
    public const int MaxSignaturePullSecrets = 16;

    /// <summary>
    /// <c>source: [{oci: REGISTRY/REPO, signaturePullSecrets: [{name: SECRET}]}]</c>: the repository holding the
    /// signatures and attestations (their <c>sha256-HEX.sig</c>/<c>.att</c> tags and bundle referrers) instead of the
    /// image's own, and the Secrets (in the webhook's own namespace, as policy-controller reads them) whose registry
    /// credentials read them. Either may be given alone. One entry, as one repository is read.
    /// </summary>
    private static (ImageReference? Repository, IReadOnlyList<string> PullSecrets) ReadSource(JsonObject node, string where, string path)
    {
        var sources = Array(node, "source", where, path, required: false, 1);
        if (sources.Count == 0)
        {
            return (null, []);
        }

        var entry = sources[0] as JsonObject ?? throw new PolicyLoadException(where, $"{path}.source[0]", "must be a mapping");
        foreach (var (field, _) in entry)
        {
            if (field is not ("oci" or "signaturePullSecrets"))
            {
                throw new PolicyLoadException(where, $"{path}.source[0].{field}", "unknown field");
            }
        }

        var secrets = ReadSignaturePullSecrets(entry, where, $"{path}.source[0]");
        if (entry["oci"] is null)
        {
            return secrets.Count > 0
                ? (null, secrets)
                : throw new PolicyLoadException(where, $"{path}.source[0].oci", "required (REGISTRY/REPO of the signatures) unless signaturePullSecrets is given");
        }

        var oci = entry["oci"]!.ToString();
        try
        {
            return (ImageReference.ParseRepository(oci), secrets);
        }
        catch (OciException ex)
        {
            throw new PolicyLoadException(where, $"{path}.source[0].oci", ex.Message);
        }
    }

    /// <summary><c>signaturePullSecrets: [{name: SECRET}]</c>: Kubernetes Secret names (DNS-1123 subdomains), each once.</summary>
    private static List<string> ReadSignaturePullSecrets(JsonObject source, string where, string path)
    {
        var names = new List<string>();
        var entries = Array(source, "signaturePullSecrets", where, path, required: false, MaxSignaturePullSecrets);
        for (var i = 0; i < entries.Count; i++)
        {
            var at = $"{path}.signaturePullSecrets[{i}]";
            var entry = entries[i] as JsonObject ?? throw new PolicyLoadException(where, at, "must be a mapping with a name");
            Unknown(entry, s_secretReferenceFields, where, at);
            var name = entry["name"]?.ToString() ?? throw new PolicyLoadException(where, $"{at}.name", "required");
            if (!IsSecretName(name))
            {
                throw new PolicyLoadException(where, $"{at}.name", "is not a Secret name (lower-case letters, digits, '-' and '.', at most 253 characters)");
            }

            if (names.Contains(name, StringComparer.Ordinal))
            {
                throw new PolicyLoadException(where, $"{at}.name", $"'{name}' is named twice");
            }

            names.Add(name);
        }

        return names;
    }

    /// <summary>A DNS-1123 subdomain, as Kubernetes names Secrets: no path separators or dot-only segments.</summary>
    public static bool IsSecretName(string name) =>
        name.Length is > 0 and <= 253
        && name.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && !name.Contains("..", StringComparison.Ordinal);

    private static readonly HashSet<string> s_secretReferenceFields = ["name"];

    /// <summary><c>ctlog.url</c> names the Rekor log (its trust-root base URL) the entry must come from.</summary>
    private static TlogRequirement ReadTlog(JsonObject ctlog, string where, string path)
    {
        var url = ctlog["url"]?.ToString();
        if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("https" or "http") || url.Length > 2048))
        {
            throw new PolicyLoadException(where, $"{path}.url", $"'{url}' is not an http(s) URL");
        }

        return new TlogRequirement(url, ctlog["trustRootRef"]?.ToString());
    }

    private static KeyAuthority ReadKey(JsonObject key, string where, string path)
    {
        if (key.ContainsKey("kms") || key.ContainsKey("secretRef"))
        {
            throw new PolicyLoadException(where, path, "kms and secretRef keys are not supported: give the PEM public key in data");
        }

        var data = key["data"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.data", "required (a PEM public key)");
        var hash = key["hashAlgorithm"]?.ToString();
        if (hash == "sha224")
        {
            throw new PolicyLoadException(where, $"{path}.hashAlgorithm", "sha224 signatures cannot be verified here (.NET has no SHA-224 signature verification); use sha256, sha384 or sha512");
        }

        if (hash is not (null or "sha256" or "sha384" or "sha512"))
        {
            throw new PolicyLoadException(where, $"{path}.hashAlgorithm", $"'{hash}' is not sha256, sha384 or sha512");
        }

        var spki = PemBlocks.PublicKey(data, where, $"{path}.data");
        if (hash is not (null or "sha256") && KeyAlgorithm(spki, where, $"{path}.data") == "1.3.101.112")
        {
            throw new PolicyLoadException(where, $"{path}.hashAlgorithm", $"an Ed25519 key signs without a separate hash; {hash} cannot apply");
        }

        return new KeyAuthority(spki, hash);
    }

    /// <summary>The key's algorithm OID; a PUBLIC KEY block whose content is not a SubjectPublicKeyInfo is refused.</summary>
    private static string? KeyAlgorithm(byte[] spki, string where, string path)
    {
        try
        {
            return PublicKey.CreateFromSubjectPublicKeyInfo(spki, out _).Oid.Value;
        }
        catch (CryptographicException)
        {
            throw new PolicyLoadException(where, path, "not a PEM public key");
        }
    }

    private static KeylessAuthority ReadKeyless(JsonObject keyless, string where, string path)
    {
        if (keyless.ContainsKey("url") && keyless.ContainsKey("ca-cert"))
        {
            throw new PolicyLoadException(where, path, "give url or ca-cert, not both");
        }

        IReadOnlyList<byte[]>? chain = null;
        if (keyless["ca-cert"] is JsonObject ca)
        {
            var data = ca["data"]?.ToString()
                ?? throw new PolicyLoadException(where, $"{path}.ca-cert.data", "required (secretRef is not supported)");
            chain = PemBlocks.Certificates(data, where, $"{path}.ca-cert.data");
        }

        var identities = Array(keyless, "identities", where, path, required: true, 64)
            .Select((node, i) =>
            {
                var identity = new IdentityRequirement(
                    node?["issuer"]?.ToString(), node?["issuerRegExp"]?.ToString(), node?["subject"]?.ToString(), node?["subjectRegExp"]?.ToString());
                try
                {
                    identity.ToPolicy();
                }
                catch (ArgumentException ex)
                {
                    throw new PolicyLoadException(where, $"{path}.identities[{i}]", $"{ex.Message} (issuer or issuerRegExp, and subject or subjectRegExp)");
                }

                return identity;
            })
            .ToList();
        var ignoreSct = keyless["insecureIgnoreSCT"]?.ToString() is "true";
        return new KeylessAuthority(identities, keyless["trustRootRef"]?.ToString(), chain, ignoreSct);
    }

    private static AttestationRequirement ReadAttestation(JsonNode? node, string where, string path)
    {
        var name = node?["name"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.name", "required");
        var type = node["predicateType"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.predicateType", "required");
        string predicateType;
        try
        {
            predicateType = CosignFormats.PredicateType(type == "spdx" ? "spdxjson" : type == "link" ? "https://in-toto.io/Link/v1" : type);
        }
        catch (OciException)
        {
            throw new PolicyLoadException(where, $"{path}.predicateType", $"'{type}' is neither a known short name nor a URI");
        }

        CelCondition? condition = null;
        if (node["policy"] is JsonObject policy)
        {
            if (policy["type"]?.ToString() != "cel")
            {
                throw new PolicyLoadException(where, $"{path}.policy", Refusal(policy, "an attestation policy"));
            }

            var data = policy["data"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.policy.data", "required (the CEL expression)");
            try
            {
                condition = CelCondition.Compile(data);
            }
            catch (ArgumentException ex)
            {
                throw new PolicyLoadException(where, $"{path}.policy.data", ex.Message);
            }
        }

        return new AttestationRequirement(name, predicateType, condition);
    }

    private static string Refusal(JsonObject policy, string what) => policy["type"]?.ToString() switch
    {
        "cue" or "rego" => $"{what} of type {policy["type"]} cannot be evaluated here (no CUE or Rego evaluator); write attestation conditions in CEL (attestations[].policy.type: cel)",
        "cel" => $"{what} of type cel is only supported on attestations (attestations[].policy)",
        var other => $"'{other}' is not a policy type (cel; cue and rego are not supported)",
    };

    private static JsonArray Array(JsonObject node, string field, string where, string path, bool required, int max)
    {
        var value = node[field];
        if (value is null)
        {
            return required ? throw new PolicyLoadException(where, YamlTree.Join(path, field), "required") : [];
        }

        var array = value as JsonArray ?? throw new PolicyLoadException(where, YamlTree.Join(path, field), "must be a list");
        if (required && array.Count == 0)
        {
            throw new PolicyLoadException(where, YamlTree.Join(path, field), "must not be empty");
        }

        return array.Count > max ? throw new PolicyLoadException(where, YamlTree.Join(path, field), $"at most {max} entries") : array;
    }

    private static void Unknown(JsonObject node, HashSet<string> known, string where, string path)
    {
        foreach (var (key, _) in node)
        {
            if (!known.Contains(key))
            {
                throw new PolicyLoadException(where, YamlTree.Join(path, key), "unknown field");
            }
        }
    }
}

/// <summary>PEM text from policy documents: public keys and certificate chains.</summary>
internal static class PemBlocks
{
    public static byte[] PublicKey(string pem, string where, string path)
    {
        try
        {
            var fields = PemEncoding.Find(pem);
            var label = pem[fields.Label];
            var der = Convert.FromBase64String(pem[fields.Base64Data]);
            if (label == "CERTIFICATE")
            {
                using var certificate = X509CertificateLoader.LoadCertificate(der);
                return certificate.PublicKey.ExportSubjectPublicKeyInfo();
            }

            return label == "PUBLIC KEY" ? der : throw new PolicyLoadException(where, path, $"a '{label}' PEM block is not a public key");
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or CryptographicException)
        {
            throw new PolicyLoadException(where, path, "not a PEM public key");
        }
    }

    public static List<byte[]> Certificates(string pem, string where, string path)
    {
        var chain = new List<byte[]>();
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields) && chain.Count < 10)
        {
            if (!rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                throw new PolicyLoadException(where, path, "only CERTIFICATE PEM blocks are allowed");
            }

            chain.Add(Convert.FromBase64String(rest[fields.Base64Data].ToString()));
            rest = rest[fields.Location.End..];
        }

        return chain.Count > 0 ? chain : throw new PolicyLoadException(where, path, "no PEM certificate");
    }

    /// <summary>policy-controller's TrustRoot carries PEM as base64 of the PEM text; plain PEM is accepted too.</summary>
    public static string Base64Pem(string value, string where, string path)
    {
        if (value.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return value;
        }

        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value));
        }
        catch (FormatException)
        {
            throw new PolicyLoadException(where, path, "neither PEM nor base64 of PEM");
        }
    }
}
